"""The load benchmark's outputs: a Markdown report and a PNG plot (matplotlib, the ``bench`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Acceptance of the load work: throughput must rise with concurrency, and batching must not slow
# down a lone request beyond the HTTP stack's usual cost over the raw embedding.
MIN_SCALING = 1.2
MAX_ONE_CLIENT_OVERHEAD = 1.3


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    """The two acceptance ratios of a run, and whether each holds."""
    search = {p["clients"]: p for p in results["phases"] if p["name"] == "search"}
    out: dict[str, Any] = {}
    if 1 in search and 16 in search and search[1]["throughput"]:
        ratio = search[16]["throughput"] / search[1]["throughput"]
        out["scaling_16_vs_1"] = {"value": round(ratio, 2), "pass": ratio >= MIN_SCALING}
    if 1 in search:
        ratio = search[1]["p50_ms"] / results["embedding"]["p50_ms"]
        out["one_client_p50_vs_embedding"] = {"value": round(ratio, 2), "pass": ratio <= MAX_ONE_CLIENT_OVERHEAD}
    return out


def _concurrent_line(emb: dict[str, Any]) -> list[str]:
    c = emb.get("concurrent16_ms_per_query")
    if not c:
        return []
    return [
        f"Sixteen threads embedding at once, same process: {c['unbatched']:.1f} ms a query one call each, "
        f"{c['batched']:.1f} ms a query through the query batcher ({c['unbatched'] / c['batched']:.2f}x)."
    ]


def markdown(results: dict[str, Any]) -> str:
    """The report: conditions, the latency/throughput table, the acceptance ratios, the soak."""
    env, emb = results["environment"], results["embedding"]
    lines = [
        "# Load benchmark",
        "",
        f"Run {env['date']} at commit `{env['commit']}` on {env['cpus']} CPUs; load average "
        f"{env['load_before']} before, {env['load_after']} after. {env['note']}",
        f"Settings changed from the defaults: {env['settings'] or 'none'}.",
        "",
        f"Raw query embedding (e5-small, one query per call, {emb['n']} queries, measured in the benchmark "
        f"process just before the HTTP phases): p50 **{emb['p50_ms']:.1f} ms**, p95 {emb['p95_ms']:.1f} ms.",
        *_concurrent_line(emb),
        "",
        "| endpoint | clients | requests | throughput (req/s) | p50 ms | p95 ms | p99 ms | 5xx | conn. errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in results["phases"]:
        lines.append(
            f"| /v1/{p['name']} | {p['clients']} | {p['requests']} | {p['throughput']:.1f} | {p['p50_ms']:.1f} "
            f"| {p['p95_ms']:.1f} | {p['p99_ms']:.1f} | {p['errors_5xx']} | {p['connection_errors']} |"
        )
    v = results["verdicts"]
    lines += ["", "Acceptance:", ""]
    if "scaling_16_vs_1" in v:
        s = v["scaling_16_vs_1"]
        lines.append(
            f"- /v1/search throughput at 16 clients is {s['value']}x the one-client throughput "
            f"(needs >= {MIN_SCALING}): {'pass' if s['pass'] else 'FAIL'}"
        )
    if "one_client_p50_vs_embedding" in v:
        s = v["one_client_p50_vs_embedding"]
        lines.append(
            f"- one-client /v1/search p50 is {s['value']}x the raw query-embedding p50 "
            f"(needs <= {MAX_ONE_CLIENT_OVERHEAD}): {'pass' if s['pass'] else 'FAIL'}"
        )
    soak = results.get("soak")
    if soak:
        rss = soak["rss"]
        uploads = ", ".join(f"{u['kind']} {u['status']}" for u in soak["uploads"])
        lines += [
            "",
            f"## Soak: {soak['seconds']:.0f} s, {soak['clients']} clients, mixed /v1/ask and /v1/search",
            "",
            f"{soak['requests']} requests, **{soak['errors_5xx']} answered 5xx**, {soak['connection_errors']} "
            f"connection errors, p50 {soak['p50_ms']:.1f} ms, p95 {soak['p95_ms']:.1f} ms; "
            f"{len(soak['uploads'])} uploads ({uploads}).",
            "",
            f"Resident memory of the server: {rss['start_mb']:.0f} MB at the start, {rss['warm_mb']:.0f} MB after "
            f"warm-up (the first {rss['warm_seconds']:.0f} s), {rss['end_mb']:.0f} MB at the end, "
            f"{rss['max_mb']:.0f} MB at most; growth after warm-up {rss['growth_mb']:+.1f} MB "
            f"({'stable' if rss['stable'] else 'GROWING'}).",
        ]
    lines += ["", "![throughput, latency and memory](load.png)", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Throughput and latency against concurrency, and the soak's resident memory over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_l, ax_m) = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, color in (("search", "tab:blue"), ("ask", "tab:orange")):
        phases = [p for p in results["phases"] if p["name"] == name]
        if not phases:
            continue
        clients = [p["clients"] for p in phases]
        ax_t.plot(clients, [p["throughput"] for p in phases], "o-", color=color, label=f"/v1/{name}")
        ax_l.plot(clients, [p["p50_ms"] for p in phases], "o-", color=color, label=f"/v1/{name} p50")
        ax_l.plot(clients, [p["p95_ms"] for p in phases], "o--", color=color, alpha=0.6, label=f"/v1/{name} p95")
    ax_l.axhline(results["embedding"]["p50_ms"], color="gray", linestyle=":", label="raw embedding p50")
    for ax, title, unit in ((ax_t, "Throughput", "requests / s"), (ax_l, "Latency", "ms")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    ax_l.set_yscale("log")
    soak = results.get("soak")
    if soak:
        t = [s[0] for s in soak["rss"]["samples"]]
        ax_m.plot(t, [s[1] for s in soak["rss"]["samples"]], color="tab:green")
        for u in soak["uploads"]:
            ax_m.axvline(u["at"], color="gray", alpha=0.4, linestyle=":")
        ax_m.axvline(soak["rss"]["warm_seconds"], color="black", alpha=0.5, linestyle="--", label="end of warm-up")
        ax_m.set_ylim(bottom=0)
        ax_m.legend(fontsize=8)
    ax_m.set_title("Soak: server resident memory (uploads dotted)")
    ax_m.set_xlabel("seconds")
    ax_m.set_ylabel("MB")
    ax_m.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
