"""The stores at 10k, 100k and 1M chunks: ``make bench-scale`` (``python -m bench.scale``).

For each size, store (``faiss``, ``milvus`` as Milvus Lite in a local directory) and vector index
(``flat``, ``hnsw``, and ``ivf`` for FAISS), one cell: a synthetic corpus (``bench.synthetic``) is written straight
through the store, then a fresh process opens a reader and searches it (latency without query
embedding, resident memory, recall@10 against exact search), then another adds and deletes one
small document through ``update_index`` (``bench.scale_cell``).

Each phase is a subprocess, stopped at ``--max-seconds-per-cell`` for the whole cell or when it
passes ``--max-memory-gb`` of resident memory: Milvus Lite's builder grew by about 37 KB a chunk
at 10k chunks, which at 1M would take the memory of everything else on the machine. A stopped cell
is reported as skipped, with what it had measured, instead of holding up the rest; a cell whose
build and search would pass either limit, extrapolated from its smaller sizes, is skipped before
it starts. Results go to ``--out`` (``scale.md``, ``scale.json``, ``scale.png``) after every cell.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scale_cell import EMBEDDER
from bench.scale_report import markdown, ordered_configs, plot, verdicts
from bench.server import environment
from rag.search.retrieve import CANDIDATES

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("build", "serve", "update", "churn")


class LimitError(Exception):
    """A cell stopped at one of its limits (time or memory)."""


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


def run_phase(
    phase: str, cell: dict[str, Any], seconds: float, memory_mb: float, threads: int | None
) -> dict[str, Any]:
    """One phase in its own process, stopped past ``seconds`` or ``memory_mb`` of resident memory
    (LimitError); RuntimeError if it fails."""
    env = dict(os.environ)
    if threads:
        env.update({v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    cmd = [sys.executable, "-m", "bench.scale_cell", phase, json.dumps(cell)]
    deadline = time.monotonic() + seconds
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    while True:
        try:
            stdout, stderr = proc.communicate(timeout=1)
            break
        except subprocess.TimeoutExpired:
            why = None
            if time.monotonic() > deadline:
                why = f"{phase} not done within the cell's {seconds:,.0f} s left"
            elif (rss := _rss_mb(proc.pid)) > memory_mb:
                why = f"{phase} passed --max-memory-gb {memory_mb / 1024:.1f} ({rss / 1024:.1f} GB resident)"
            if why:
                proc.kill()
                proc.communicate()
                raise LimitError(why) from None
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{phase} failed: {last[:200]}")
    got: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return got


def run_cell(cell: dict[str, Any], seconds: float, memory_mb: float, threads: int | None) -> dict[str, Any]:
    """Every phase of one cell within ``seconds`` in all; a phase that fails or stops ends the cell."""
    out: dict[str, Any] = {k: cell[k] for k in ("config", "store", "index", "size")}
    out["phase_s"] = {}
    started = time.monotonic()
    try:
        for phase in PHASES:
            t = time.monotonic()
            got = run_phase(phase, cell, seconds - (t - started), memory_mb, threads)
            out["phase_s"][phase] = round(time.monotonic() - t, 1)
            print(f"  {phase}: {json.dumps(got)}", flush=True)
            out.update(got)
        out["status"] = "ok"
    except LimitError as exc:
        out["status"] = f"skipped: {exc}"
    except RuntimeError as exc:
        out["status"] = f"failed: {exc}"
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


def extrapolate(points: list[tuple[int, float]], size: int) -> float:
    """A value at ``size`` from the same value at smaller sizes: the line through the two largest,
    or proportional to the one there is."""
    (a, ya), (b, yb) = ([(0, 0.0)] + sorted(points))[-2:]
    return max(yb + (yb - ya) / (b - a) * (size - b), 0.0)


def too_big(done: list[dict[str, Any]], config: str, size: int, seconds: float, memory_mb: float) -> str | None:
    """Why a cell should not start: a smaller one of its configuration did not get through build and
    search, or, extrapolated from the smaller ones, build and search would take more than ``seconds``
    or more than ``memory_mb`` at the peak (an update that runs out of time still leaves those)."""
    smaller = sorted((c for c in done if c["config"] == config and c["size"] < size), key=lambda c: c["size"])
    if not smaller:
        return None
    if "rss_mb" not in smaller[-1]:
        return f"skipped: the {smaller[-1]['size']:,}-chunk cell did not get through build and search"
    smaller = [c for c in smaller if "rss_mb" in c]
    sizes = " and ".join(f"{c['size']:,}" for c in smaller[-2:])
    took = extrapolate([(c["size"], c["phase_s"]["build"] + c["phase_s"]["serve"]) for c in smaller], size)
    if took > seconds:
        return (
            f"skipped: build and search expected to take about {took:,.0f} s (from {sizes} chunks), "
            f"over --max-seconds-per-cell {seconds:,.0f}"
        )
    peak = extrapolate([(c["size"], max(c["builder_peak_mb"], c["peak_mb"])) for c in smaller], size)
    if peak > memory_mb:
        return (
            f"skipped: about {peak / 1024:,.1f} GB resident expected (from {sizes} chunks), "
            f"over --max-memory-gb {memory_mb / 1024:,.1f}"
        )
    return None


def write(results: dict[str, Any], out: Path) -> None:
    results["verdicts"] = verdicts(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "scale.md").write_text(markdown(results), encoding="utf-8")
    plot(results, out / "scale.png")


def earlier_cells(path: Path, vectors: str, seed: int) -> dict[tuple[str, int], dict[str, Any]]:
    """The cells of an earlier run's ``scale.json`` on the same corpora, by (config, size), each
    with the date and commit it was measured at."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text(encoding="utf-8"))
    cfg = earlier.get("config", {})
    if cfg.get("vectors", "uniform") != vectors or cfg.get("seed") != seed:
        raise SystemExit(f"{path} holds another corpus ({cfg.get('vectors')}, seed {cfg.get('seed')}): not merged")
    run = {k: earlier["environment"][k] for k in ("date", "commit")}
    return {(c["config"], c["size"]): {"run": run} | c for c in earlier["cells"] if "run" not in c} | {
        (c["config"], c["size"]): c for c in earlier["cells"] if "run" in c
    }


def meminfo_gb(field: str) -> float:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith(f"{field}:"))
    return int(line.split()[1]) / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="chunks per corpus")
    p.add_argument("--stores", nargs="+", default=["faiss", "milvus"], choices=["faiss", "milvus"])
    p.add_argument(
        "--indexes",
        nargs="+",
        default=["flat", "hnsw", "ivf"],
        choices=["flat", "hnsw", "ivf"],
        help="vector indexes (ivf: FAISS only)",
    )
    p.add_argument("--queries", type=int, default=200, help="dense searches timed per cell (default 200)")
    p.add_argument("--hybrid-queries", type=int, default=50, help="hybrid searches timed per cell; 0 skips them")
    p.add_argument("--max-seconds-per-cell", type=float, default=3600.0, help="time limit of one cell")
    p.add_argument(
        "--max-memory-gb", type=float, help="resident memory a phase may reach (default: 3/4 of what is available)"
    )
    p.add_argument("--threads", type=int, help="OpenMP/BLAS threads of the phases (default: the libraries')")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--vectors",
        choices=["clustered", "uniform"],
        default="clustered",
        help="clustered: shaped like real e5-small vectors (bench/vectors.json); uniform: the worst case for HNSW",
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results are written")
    p.add_argument("--work", type=Path, help="where the indexes are built (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep each cell's index in --work instead of removing it")
    p.add_argument("--note", default="", help="a sentence on the run's conditions, copied into the report")
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the cells already in --out's scale.json (same vectors and seed) and measure only the missing ones",
    )
    args = p.parse_args(argv)

    memory_mb = 1024 * (args.max_memory_gb or 0.75 * meminfo_gb("MemAvailable"))
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    configs = [f"{s}/{i}" for s in args.stores for i in args.indexes if (s, i) != ("milvus", "ivf")]
    results: dict[str, Any] = {
        "config": {
            "sizes": sorted(args.sizes),
            "queries": args.queries,
            "hybrid_queries": min(args.hybrid_queries, args.queries),
            "k": CANDIDATES,
            "seed": args.seed,
            "vectors": args.vectors,
            "embedder": EMBEDDER,
            "upload_chunks": None,
            "max_seconds_per_cell": args.max_seconds_per_cell,
            "max_memory_gb": round(memory_mb / 1024, 1),
            "threads": args.threads,
        },
        "configs": configs,
        "cells": [],
    }
    kept = earlier_cells(args.out / "scale.json", args.vectors, args.seed) if args.merge else {}
    if kept:
        results["configs"] = ordered_configs([*configs, *(c["config"] for c in kept.values())])
        results["config"]["sizes"] = sorted({*args.sizes, *(c["size"] for c in kept.values())})
        results["config"]["upload_chunks"] = next(
            (c["upload_chunks"] for c in kept.values() if c.get("upload_chunks")), None
        )
    load_before = os.getloadavg()
    try:
        for size in sorted(args.sizes):
            for config in configs:
                store, index = config.split("/")
                if (config, size) in kept:
                    print(f"{config} at {size:,} chunks: kept from {kept[config, size]['run']['commit']}", flush=True)
                    results["cells"].append(kept.pop((config, size)))
                    continue
                print(f"{config} at {size:,} chunks", flush=True)
                cell = {
                    "config": config,
                    "store": store,
                    "index": index,
                    "size": size,
                    "dir": str(work / f"{store}-{index}-{size}"),
                    "exact": str(work / f"exact-{args.vectors}-{size}-{args.seed}-{args.queries}.npy"),
                    "seed": args.seed,
                    "vectors": args.vectors,
                    "queries": args.queries,
                    "hybrid_queries": results["config"]["hybrid_queries"],
                }
                reason = too_big(results["cells"], config, size, args.max_seconds_per_cell, memory_mb)
                if reason:
                    got = {k: cell[k] for k in ("config", "store", "index", "size")} | {"status": reason}
                else:
                    got = run_cell(cell, args.max_seconds_per_cell, memory_mb, args.threads)
                    if not args.keep:
                        shutil.rmtree(cell["dir"], ignore_errors=True)
                print(f"  {got['status']}", flush=True)
                env = environment(load_before, args.note) | {"memory_gb": meminfo_gb("MemTotal")}
                got["run"] = {k: env[k] for k in ("date", "commit")}
                results["cells"].append(got)
                if "upload_chunks" in got:
                    results["config"]["upload_chunks"] = got["upload_chunks"]
                results["environment"] = env
                write({**results, "cells": [*results["cells"], *kept.values()]}, args.out)  # a stop keeps them
        results["cells"] += kept.values()  # kept cells outside this run's grid
        results["environment"] = environment(load_before, args.note) | {"memory_gb": meminfo_gb("MemTotal")}
        write(results, args.out)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
