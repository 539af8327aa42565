"""Where an upload's time goes: ``python -m bench.ingest [--kb 124] [--embedder e5-small]``.

Adds one document of about ``--kb`` kilobytes (XQuAD-ru paragraphs when ``../shared`` has them, else
numbered copies of the seed article's paragraphs) to a fresh copy of the seed index, the way
``POST /v1/documents`` does, and splits the wall time into embedding (time inside the embedder)
and everything else, with the texts embedded. ``--profile N`` prints the N costliest functions.
Runs against whatever ``rag`` is importable, so ``PYTHONPATH=<old checkout>`` measures old code.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


class TimedEmbedder:
    """Wraps an embedder, adding up the time spent inside it and the texts it was given."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name: str = inner.name  # type: ignore[attr-defined]
        self.dim: int = inner.dim  # type: ignore[attr-defined]
        self.seconds = 0.0
        self.texts = 0

    def _timed(self, method: str, texts: Sequence[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out: np.ndarray = getattr(self.inner, method)(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._timed("embed_passages", texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._timed("embed_queries", texts)


def upload_text(kb: int, xquad: Path) -> str:
    """About ``kb`` kilobytes (UTF-8) of distinct Russian paragraphs."""
    if xquad.exists():
        data = json.loads(xquad.read_text(encoding="utf-8"))
        paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    else:
        seed = (ROOT / "seeds" / "kazakhstan-uzbekistan.ru.txt").read_text(encoding="utf-8")
        paragraphs = [f"{n}. {p}" for n in range(1000) for p in seed.split("\n\n") if p.strip()]
    out: list[str] = []
    while len("\n\n".join(out).encode()) < kb * 1000:
        out.append(paragraphs[len(out) % len(paragraphs)])
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    p.add_argument("--kb", type=int, default=124, help="size of the upload in kilobytes (default 124)")
    p.add_argument("--embedder", default="e5-small", help="embedder (default e5-small; 'hashing' isolates the rest)")
    p.add_argument("--text", type=Path, help="upload this file instead (overrides --kb)")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    args = p.parse_args(argv)

    import rag
    from rag.config import load_settings
    from rag.embed import get_embedder
    from rag.ingest.load import load_bytes
    from rag.ingest.pipeline import ingest_paths, update_index

    with tempfile.TemporaryDirectory(prefix="rag-ingest-") as tmp:
        settings = load_settings(env={}, index_dir=Path(tmp) / "index", embedder=args.embedder)
        embedder = get_embedder(args.embedder)
        ingest_paths([ROOT / "seeds"], settings, embedder, progress=False)
        data = args.text.read_bytes() if args.text else upload_text(args.kb, settings.xquad_path).encode()
        timed = TimedEmbedder(embedder)
        profile = cProfile.Profile()
        t0 = time.perf_counter()
        with profile if args.profile else _nothing():
            report = update_index(settings, timed, add=[load_bytes("upload.txt", data)])  # type: ignore[arg-type]
        total = time.perf_counter() - t0
        shutil.rmtree(settings.index_dir, ignore_errors=True)
    print(f"rag from {Path(rag.__file__).parent}; {len(data) / 1000:.0f} KB upload, {args.embedder}")
    print(f"  {report.embedded_chunks} chunks, {timed.texts} texts embedded (chunks and sentences)")
    print(f"  total {total:.2f} s = embedding {timed.seconds:.2f} s + everything else {total - timed.seconds:.2f} s")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    return 0


class _nothing:  # noqa: N801 - a stand-in context manager
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
