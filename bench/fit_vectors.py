"""Fit the scale benchmark's clustered vectors to real embeddings: ``python -m bench.fit_vectors INDEX...``.

Reads the chunk and sentence vectors of FAISS indexes built with the embedder (for example the
eval indexes in ``~/.cache/rag/eval``), and writes ``bench/vectors.json``: the norm of their mean
vector, the variances of their principal components (what ``bench.synthetic`` draws from), and the
statistics the generator was checked against. Real e5-small vectors are far from uniform: they
share a strong common direction (mean pairwise cosine about 0.75) and most of their variance lies
in a few dozen directions, which is what makes approximate search work on them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from rag.store.faiss import snapshot
from rag.store.faiss.backend import LiveState

OUT = Path(__file__).resolve().parent / "vectors.json"


def neighbour_stats(v: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Mean pairwise cosine, the norm of the mean, and mean cosine of the 1st and 10th neighbour."""
    rng = np.random.default_rng(seed)
    s = v[rng.choice(len(v), min(2000, len(v)), replace=False)]
    pairs = (s @ s.T)[np.triu_indices(len(s), 1)]
    idx = rng.choice(len(v), min(1000, len(v)), replace=False)
    sims = v[idx] @ v.T
    sims[np.arange(len(idx)), idx] = -1
    top = -np.sort(-sims, axis=1)
    return {
        "pairwise_cos": round(float(pairs.mean()), 3),
        "mean_norm": round(float(np.linalg.norm(v.mean(0))), 3),
        "nn1_cos": round(float(top[:, 0].mean()), 3),
        "nn10_cos": round(float(top[:, 9].mean()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fit_vectors", description=__doc__.split("\n\n")[0])
    p.add_argument("indexes", nargs="+", type=Path, help="FAISS index directories built with the embedder")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    parts = []
    for index in args.indexes:
        snap = snapshot.current_dir(index)
        dim = int(snapshot.read_manifest(snap)["dim"])
        state = LiveState.read(snap, dim)
        if state.vectors is not None:
            parts.append(state.vectors)
        parts += [s[1] for s in state.sentences if s is not None and len(s[1])]
    v = np.concatenate(parts).astype(np.float64)
    residual = v - v.mean(0)
    variances = np.linalg.svd(residual, compute_uv=False) ** 2 / len(v)
    fitted = {
        "source": [i.name for i in args.indexes],
        "vectors": len(v),
        "dim": v.shape[1],
        "mean_norm": float(np.linalg.norm(v.mean(0))),
        "variances": [float(x) for x in variances],
        "participation_ratio": float(variances.sum() ** 2 / (variances**2).sum()),
        "real": neighbour_stats(v.astype(np.float32)),
    }
    args.out.write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
    print(f"{len(v)} vectors of {v.shape[1]} dimensions -> {args.out}: {fitted['real']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
