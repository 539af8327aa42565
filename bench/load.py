"""The service under concurrent load, through the real HTTP stack: ``make bench-load``.

A real ``rag serve`` process (Uvicorn, one worker) on a free loopback port serves a fresh copy of
the seed index (e5-small, extractive answers, no rate limit). Then:

1. the raw query-embedding time, measured in this process just before the HTTP phases;
2. ``/v1/search`` and ``/v1/ask`` at 1, 4, 16 and 64 concurrent keep-alive clients, a fixed time
   each: p50/p95/p99 latency and throughput;
3. a bounded soak: mixed asks and searches for a few minutes while documents are uploaded now
   and then (within the request, and as background jobs with `Prefer: respond-async`), sampling the
   server's resident memory.

Every request carries a distinct question (a seed question plus a serial number), so the server's
query-vector cache never answers for the embedder. ``RAG_*`` variables in the environment reach the
server, so settings can be compared run against run (``RAG_QUERY_BATCH_SIZE=1`` turns batching off).
Results go to ``bench/results/``: ``load.md``, ``load.json`` and ``load.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.client import Connection, Outcome, run_phase
from bench.report import markdown, plot, verdicts
from bench.server import ServerProcess, environment

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "evals" / "seed_questions.jsonl").open(encoding="utf-8")]
ADMIN_KEY = "bench-admin"
UPLOAD_NOTE = "Заметка {n} о работе склада в Самарканде: отгрузка хлопка выросла на {n} процентов за неделю."


def question(n: int) -> str:
    """The ``n``th request's question: distinct for every ``n``."""
    return f"{QUESTIONS[n % len(QUESTIONS)]} ({n})"


def search_request(n: int) -> tuple[str, Any]:
    return "/v1/search", {"query": question(n)}


def ask_request(n: int) -> tuple[str, Any]:
    return "/v1/ask", {"question": question(n)}


def mixed_request(n: int) -> tuple[str, Any]:
    return ask_request(n) if n % 2 else search_request(n)


def build_index(cache: Path) -> Path:
    """seeds/ indexed with e5-small under ``cache`` (incremental: instant when up to date)."""
    from rag.config import load_settings
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths

    settings = load_settings(env={}, index_dir=cache, embedder="e5-small")
    report = ingest_paths([ROOT / "seeds"], settings, get_embedder("e5-small"), progress=False)
    print(f"seed index: {report.summary()}", flush=True)
    return cache


def raw_embedding(n: int, offset: int) -> dict[str, Any]:
    """Query embedding alone, one query per call, over ``n`` distinct questions (ms)."""
    from rag.embed import get_embedder
    from rag.embed.batcher import QueryBatcher

    embedder = get_embedder("e5-small")
    embedder.embed_queries([question(offset - 1)])  # warm the engine
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        embedder.embed_queries([question(offset + i)])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out: dict[str, Any] = {"n": n, "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (n - 1))]}
    # The same engine with 16 threads asking at once, alone and through the batcher the server uses.
    out["concurrent16_ms_per_query"] = {
        "unbatched": _concurrent(embedder, n, offset + n),
        "batched": _concurrent(QueryBatcher(embedder), n, offset + 2 * n),
    }
    return out


def _concurrent(embedder: Any, n: int, offset: int, threads: int = 16) -> float:
    """Wall time per query of ``n`` distinct queries embedded by ``threads`` threads at once (ms)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: embedder.embed_queries([question(offset + i)]), range(n)))
    return (time.perf_counter() - t0) * 1000 / n


def document(n: int, paragraphs: int) -> bytes:
    """An upload of ``paragraphs`` distinct paragraphs (tens of bytes each in UTF-8 Russian)."""
    return "\n\n".join(UPLOAD_NOTE.format(n=n * 10_000 + i) for i in range(paragraphs)).encode()


async def upload(
    conn: Connection, name: str, data: bytes, started: float, stop: asyncio.Event, as_job: bool
) -> dict[str, Any]:
    """Upload one document; follow its job when the server answers 202 (until it ends or ``stop``)."""
    at = time.perf_counter() - started
    prefer = {"Prefer": "respond-async"} if as_job else {}
    status, body = await conn.request("POST", f"/v1/documents?filename={name}", data, **prefer)
    entry: dict[str, Any] = {"name": name, "bytes": len(data), "at": round(at, 1), "status": status, "kind": "sync"}
    if status == 202:
        entry["kind"] = "job"
        url = json.loads(body)["url"]
        while not stop.is_set():
            await asyncio.sleep(0.5)
            _, job_body = await conn.request("GET", url)
            entry["status"] = json.loads(job_body)["status"]
            if entry["status"] in ("done", "failed"):
                break
    entry["seconds"] = round(time.perf_counter() - started - at, 2)
    return entry


async def soak(server: ServerProcess, seconds: float, clients: int, warm_fraction: float = 0.25) -> dict[str, Any]:
    """Mixed load for ``seconds`` with a few uploads, sampling resident memory every 2 s."""
    started = time.perf_counter()
    samples: list[tuple[float, float]] = []
    uploads: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            samples.append((round(time.perf_counter() - started, 1), server.rss_mb()))
            try:
                await asyncio.wait_for(done.wait(), 2.0)
            except TimeoutError:
                pass

    async def uploader() -> None:
        conn = Connection(server.host, server.port, {"Authorization": f"Bearer {ADMIN_KEY}"})
        # Small documents replacing each other under three names, so the index stops growing after
        # the first round; the "job" ones go through the background-job path (Prefer: respond-async).
        plan = [("soak-a.txt", False), ("soak-job.txt", True), ("soak-b.txt", False)] * 2
        try:
            for i, (name, as_job) in enumerate(plan):
                await asyncio.sleep(seconds / (len(plan) + 1))
                if done.is_set():
                    return
                uploads.append(await upload(conn, name, document(i, 40), started, done, as_job))
        finally:
            await conn.close()

    tasks = [asyncio.create_task(sample()), asyncio.create_task(uploader())]
    outcome = await run_phase("soak", server.host, server.port, clients, seconds, mixed_request, server.auth)
    done.set()
    await asyncio.gather(*tasks)
    samples.append((round(time.perf_counter() - started, 1), server.rss_mb()))
    warm_seconds = seconds * warm_fraction
    warm = [mb for t, mb in samples if t <= warm_seconds][-1]
    after = [mb for t, mb in samples if t > warm_seconds]
    growth = after[-1] - warm
    return {
        **{k: v for k, v in outcome.summary().items() if k != "name"},
        "seconds": outcome.seconds,
        "uploads": uploads,
        "rss": {
            "samples": samples,
            "start_mb": samples[0][1],
            "warm_seconds": warm_seconds,
            "warm_mb": warm,
            "end_mb": after[-1],
            "max_mb": max(mb for _, mb in samples),
            "growth_mb": growth,
            # Stable: the end is within 5% of the post-warm-up level (uploads add a few chunks).
            "stable": growth <= 0.05 * warm,
        },
    }


async def phases(server: ServerProcess, clients: list[int], seconds: float) -> list[Outcome]:
    outcomes = []
    for name, make in (("search", search_request), ("ask", ask_request)):
        await run_phase("warm-up", server.host, server.port, 2, 1.0, make, server.auth)
        for c in clients:
            outcome = await run_phase(name, server.host, server.port, c, seconds, make, server.auth)
            s = outcome.summary()
            print(
                f"{name:6} {c:3} clients: {s['throughput']:6.1f} req/s, p50 {s['p50_ms']:7.1f} ms, "
                f"p95 {s['p95_ms']:7.1f} ms, p99 {s['p99_ms']:7.1f} ms, 5xx {s['errors_5xx']}",
                flush=True,
            )
            outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 64], help="concurrency levels")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds per load phase (default 10)")
    p.add_argument("--soak-seconds", type=float, default=180.0, help="soak length; 0 skips it (default 180)")
    p.add_argument("--soak-clients", type=int, default=8, help="concurrent clients in the soak (default 8)")
    p.add_argument("--embed-samples", type=int, default=100, help="queries timed for the raw embedding")
    p.add_argument("--cache", type=Path, default=ROOT / "build" / "bench" / "seed-index", help="seed index cache")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results are written")
    p.add_argument("--note", default="", help="a sentence on the run's conditions, copied into the report")
    args = p.parse_args(argv)

    base = build_index(args.cache)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(base, index, ignore=shutil.ignore_patterns(".lock", "resume.sqlite"))
        with ServerProcess(index, admin_key=ADMIN_KEY) as server:
            embedding = raw_embedding(args.embed_samples, offset=10**6)
            print(f"raw query embedding: p50 {embedding['p50_ms']:.1f} ms, p95 {embedding['p95_ms']:.1f} ms")
            outcomes = asyncio.run(phases(server, args.clients, args.seconds))
            soak_result = None
            if args.soak_seconds > 0:
                print(f"soak: {args.soak_seconds:.0f} s ...", flush=True)
                soak_result = asyncio.run(soak(server, args.soak_seconds, args.soak_clients))
    results: dict[str, Any] = {
        "environment": environment(load_before, args.note),
        "embedding": embedding,
        "phases": [o.summary() for o in outcomes],
        "soak": soak_result,
    }
    results["verdicts"] = verdicts(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "load.md").write_text(markdown(results), encoding="utf-8")
    plot(results, args.out / "load.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
