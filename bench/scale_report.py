"""The scale benchmark's outputs: acceptance verdicts, a Markdown report and a PNG plot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.scale_cell import DIM

# Acceptance of issue 10, at the sizes it names.
BIG, MID = 1_000_000, 100_000
MAX_RSS_OVER_RAW = 2.0
MAX_HNSW_P50_MS = 5.0
MIN_RECALL = 0.95
MAX_UPDATE_S = 1.0


def raw_mb(size: int) -> float:
    """The corpus's float32 vectors alone, in MB."""
    return size * DIM * 4 / 2**20


Test = Callable[[dict[str, Any]], tuple[bool, str]]


def _judge(results: dict[str, Any], config: str, size: int, keys: tuple[str, ...], test: Test) -> dict[str, Any]:
    """Whether ``test`` holds for the cell of ``config`` at ``size``: True, False, or None (not measured)."""
    cell = next((c for c in results["cells"] if c["config"] == config and c["size"] == size), None)
    if cell is None:
        return {"pass": None, "text": f"no {size:,}-chunk run"}
    if any(k not in cell for k in keys):
        return {"pass": None, "text": cell["status"]}
    ok, text = test(cell)
    return {"pass": ok, "text": text}


def _rss(c: dict[str, Any]) -> tuple[bool, str]:
    ratio = c["rss_mb"] / raw_mb(c["size"])
    return ratio <= MAX_RSS_OVER_RAW, f"{c['rss_mb']:,.0f} MB, {ratio:.2f}x the vectors"


def _approximate(c: dict[str, Any]) -> tuple[bool, str]:
    ok = c["dense_p50_ms"] <= MAX_HNSW_P50_MS and c["recall_at_10"] >= MIN_RECALL
    return ok, f"p50 {c['dense_p50_ms']:.2f} ms, recall@10 {c['recall_at_10']:.3f}"


def _update(c: dict[str, Any]) -> tuple[bool, str]:
    return max(c["add_s"], c["delete_s"]) < MAX_UPDATE_S, f"add {c['add_s']:.2f} s, delete {c['delete_s']:.2f} s"


def verdicts(results: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per acceptance line, per store/index configuration: what was measured, and whether it holds."""
    configs = results["configs"]
    return {
        "rss": {c: _judge(results, c, BIG, ("rss_mb",), _rss) for c in configs},
        "hnsw": {
            c: _judge(results, c, BIG, ("dense_p50_ms", "recall_at_10"), _approximate)
            for c in configs
            if c.endswith(("hnsw", "ivf"))
        },
        "update": {c: _judge(results, c, MID, ("add_s", "delete_s"), _update) for c in configs},
    }


def _num(cell: dict[str, Any], key: str, fmt: str) -> str:
    return format(cell[key], fmt) if key in cell else "–"


def _pair(cell: dict[str, Any], a: str, b: str) -> str:
    return f"{cell[a]:.2f} / {cell[b]:.2f}" if a in cell and b in cell else "–"


def _row(c: dict[str, Any]) -> str:
    rss = f"{c['rss_mb']:,.0f} ({c['rss_mb'] / raw_mb(c['size']):.1f}x)" if "rss_mb" in c else "–"
    cols = [
        c["store"],
        c["index"],
        f"{c['size']:,}",
        _num(c, "build_s", ".1f"),
        _num(c, "disk_mb", ",.0f"),
        _num(c, "open_s", ".2f"),
        rss,
        _pair(c, "dense_p50_ms", "dense_p95_ms"),
        _pair(c, "hybrid_p50_ms", "hybrid_p95_ms"),
        _num(c, "recall_at_10", ".3f"),
        _num(c, "add_s", ".2f"),
        _num(c, "delete_s", ".2f"),
        _num(c, "reopen_s", ".2f"),
        c["status"],
    ]
    return "| " + " | ".join(cols) + " |"


_VECTORS = {
    "clustered": "clustered (shaped like real e5-small vectors: their mean direction and principal-component "
    "variances, in topics of 10 chunks; `bench/vectors.json`, `bench/synthetic.py`)",
    "uniform": "uniform random",
}
_RECALL_NOTE = {
    "clustered": "The clustered vectors match real e5-small vectors' neighbour statistics at 5k vectors "
    "(bench/synthetic.py); that they behave like a million chunks of real text is an assumption. "
    "`--vectors uniform` gives the worst case for HNSW.",
    "uniform": "Uniform random vectors are HNSW's worst case (no clusters, near-ties among a query's "
    "neighbours), so its recall here is a lower bound for real embeddings.",
}


def _churn_table(cells: list[dict[str, Any]]) -> list[str]:
    """Searching after a large change: for FAISS a delta segment near its compaction limit."""
    rows = [c for c in cells if "churn_chunks" in c]
    if not rows:
        return []
    lines = [
        "After churn: a share of the corpus deleted and as much added in one write (for FAISS, a delta "
        "segment of 9% of the base next to it, just under the 10% at which writes compact), then a process "
        "that held the index reopens it and searches again:",
        "",
        "| store | index | chunks | rows changed | write s | reopen s | dense p50 / p95 ms | hybrid p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in rows:
        cols = [
            c["store"],
            c["index"],
            f"{c['size']:,}",
            f"{c['churn_chunks']:,}",
            _num(c, "churn_write_s", ".2f"),
            _num(c, "churn_reopen_s", ".2f"),
            _pair(c, "churn_dense_p50_ms", "churn_dense_p95_ms"),
            _pair(c, "churn_hybrid_p50_ms", "churn_hybrid_p95_ms"),
        ]
        lines.append("| " + " | ".join(cols) + " |")
    return [*lines, ""]


def _verdict_lines(title: str, judged: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"- {title}"]
    for config, v in judged.items():
        if v["pass"] is None:
            lines.append(f"  - {config.replace('/', ' ')}: not measured ({v['text']})")
        else:
            lines.append(f"  - {config.replace('/', ' ')}: {v['text']}: **{'PASS' if v['pass'] else 'FAIL'}**")
    return lines


def _earlier(results: dict[str, Any]) -> list[str]:
    """A line per earlier run whose cells were kept (``bench.scale --merge``), naming them."""
    now = results["environment"]["commit"]
    runs: dict[str, tuple[str, list[str]]] = {}
    for c in results["cells"]:
        run = c.get("run")
        if run and run["commit"] != now:
            date, cells = runs.setdefault(run["commit"], (run["date"], []))
            runs[run["commit"]] = (min(date, run["date"]), [*cells, f"{c['config']} at {c['size']:,}"])
    return [
        f"Cells kept from an earlier run: {', '.join(cells)} (commit `{commit}`, {date})."
        for commit, (date, cells) in sorted(runs.items(), key=lambda r: r[1][0])
    ]


_STORES, _INDEXES = ("faiss", "milvus"), ("flat", "hnsw", "ivf")


def _rank(config: str) -> tuple[int, int]:
    store, _, index = config.partition("/")
    return (
        _STORES.index(store) if store in _STORES else len(_STORES),
        _INDEXES.index(index) if index in _INDEXES else len(_INDEXES),
    )


def ordered_configs(configs: list[str]) -> list[str]:
    """Store, then index (a --merge run names its own configurations before the kept ones)."""
    return sorted(dict.fromkeys(configs), key=_rank)


def _ordered(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By size, then store, then index (a --merge run appends its cells after the kept ones)."""
    return sorted(cells, key=lambda c: (c["size"], *_rank(c["config"])))


def markdown(results: dict[str, Any]) -> str:
    """The report: conditions, one row per cell, the acceptance lines."""
    env, cfg, v = results["environment"], results["config"], results["verdicts"]
    cells = _ordered(results["cells"])
    lines = [
        "# Scale benchmark",
        "",
        f"Run {env['date']} at commit `{env['commit']}` on {env['cpus']} CPUs, {env['memory_gb']:.0f} GB RAM; "
        f"load average {env['load_before']} before, {env['load_after']} after. {env['note']}",
        *_earlier(results),
        "",
        f"Synthetic corpora (`python -m bench.scale`, seed {cfg['seed']}): {_VECTORS[cfg.get('vectors', 'uniform')]} "
        f"unit vectors of {DIM} dimensions (e5-small's) and 60-120 Zipf-distributed Russian-like words per chunk, "
        "written straight through the store with no sentence vectors (`RAG_SENTENCE_VECTORS=false`; the default "
        "stores one vector per sentence too). Dense: `Reader.dense` for "
        f"{cfg['queries']} random query vectors at the service's depth ({cfg['k']} candidates); hybrid: the "
        f"product's `Retriever.search` (dense, BM25, fusion, the 5 passages fetched) for {cfg['hybrid_queries']} "
        "questions of 3-6 words with precomputed vectors; neither includes query embedding. Serving RSS: a "
        "fresh process after opening a reader and running those searches (its peak in `scale.json`); it "
        "loads no embedder model and no HTTP stack, which a `rag serve` adds as a fixed amount. "
        "Recall@10: the dense top 10 against exact search over the same vectors. Add / delete: one "
        f"{cfg['upload_chunks'] or 'few'}-chunk document through `update_index` with the hashing embedder; "
        "reopen: a process that holds the index opening the version the add made (FAISS keeps its loaded "
        "base segment and reads the delta). "
        f"Each cell was limited to {cfg['max_seconds_per_cell']:,.0f} s, and each of its processes to "
        f"{cfg['max_memory_gb']:g} GB resident; a cell that would pass either, extrapolated from the smaller "
        "ones, was skipped.",
        "",
        "| store | index | chunks | build s | disk MB | open s | serving RSS MB (x vectors) | dense p50 / p95 ms "
        "| hybrid p50 / p95 ms | recall@10 | add s | delete s | reopen s | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(c) for c in cells),
        "",
        *_churn_table(cells),
        "Acceptance (issue 10):",
        "",
        *_verdict_lines(
            f"serving RSS at {BIG:,} chunks within {MAX_RSS_OVER_RAW:g}x the raw float32 vectors "
            f"({raw_mb(BIG):,.0f} MB; limit {MAX_RSS_OVER_RAW * raw_mb(BIG):,.0f} MB):",
            v["rss"],
        ),
        *_verdict_lines(
            f"approximate dense search (HNSW; the inverted file, ivf) at {BIG:,} chunks: p50 <= {MAX_HNSW_P50_MS:g} ms "
            f"with recall@10 >= {MIN_RECALL}:",
            v["hnsw"],
        ),
        *_verdict_lines(
            f"adding and deleting one small document in the {MID:,}-chunk index under {MAX_UPDATE_S:g} s each "
            "(beyond embedding):",
            v["update"],
        ),
        "",
        _RECALL_NOTE[cfg.get("vectors", "uniform")],
        "",
        "![build time, disk, memory, search latency, recall and update time against corpus size](scale.png)",
        "",
    ]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Build time, disk, serving RSS, search p50, recall and add/delete time against size (log x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(16, 8.4))
    build, disk, rss, search, recall, update = grid.flat
    panels = [
        (build, "Build", "seconds", [("build_s", "-")]),
        (disk, "Size on disk", "MB", [("disk_mb", "-")]),
        (rss, "Serving process RSS", "MB", [("rss_mb", "-")]),
        (search, "Search p50 (dense solid, hybrid dashed)", "ms", [("dense_p50_ms", "-"), ("hybrid_p50_ms", "--")]),
        (recall, "Dense recall@10 against exact search", "recall@10", [("recall_at_10", "-")]),
        (update, "One small document (add solid, delete dashed)", "seconds", [("add_s", "-"), ("delete_s", "--")]),
    ]
    colors = dict(zip(results["configs"], ("tab:blue", "tab:cyan", "tab:green", "tab:orange", "tab:red"), strict=False))
    sizes = sorted({c["size"] for c in results["cells"]})
    for ax, title, unit, series in panels:
        for config in results["configs"]:
            for key, style in series:
                got = [(c["size"], c[key]) for c in results["cells"] if c["config"] == config and key in c]
                if got:
                    label = config if style == "-" else None
                    ax.plot(*zip(*got, strict=True), style, marker="o", color=colors.get(config), label=label)
        ax.set_xscale("log")
        if ax is not recall:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3, which="both")
    rss.plot(sizes, [raw_mb(s) for s in sizes], ":", color="gray", label="raw vectors")
    rss.plot(sizes, [MAX_RSS_OVER_RAW * raw_mb(s) for s in sizes], "--", color="gray", label="2x raw vectors")
    search.axhline(MAX_HNSW_P50_MS, color="gray", linestyle=":", label=f"{MAX_HNSW_P50_MS:g} ms")
    recall.axhline(MIN_RECALL, color="gray", linestyle=":", label=f"{MIN_RECALL:g}")
    recall.set_ylim(0, 1.05)
    update.axhline(MAX_UPDATE_S, color="gray", linestyle=":", label=f"{MAX_UPDATE_S:g} s")
    for ax in grid.flat:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
