"""Re-checks the Milvus Lite behaviours the Milvus store is designed around (docs/store.md).

1. one process per data directory (a second gets an error until the first releases it);
2. search latency right after inserting, before and after ``flush()``;
3. a filter on a JSON field against the same filter on a scalar field;
4. the sign of BM25 scores from a BM25 function;
5. whether a ``stemmer`` filter in ``analyzer_params`` stems Russian.

    .venv/bin/python evals/milvus_lite_facts.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient

LOCK_PROBE = """
import sys
from milvus_lite import server_manager_instance
print("opened" if server_manager_instance.start_and_get_uri(sys.argv[1]) else "refused")
"""


def _ms(fn, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) * 1000 / repeat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "facts.db")
        client = MilvusClient(path)
        probe = subprocess.run([sys.executable, "-c", LOCK_PROBE, path], capture_output=True, text=True, timeout=120)
        print(f"1. second process on the same directory: {probe.stdout.strip() or probe.stderr.strip()[-200:]}")

        s = client.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("cat", DataType.VARCHAR, max_length=16)
        s.add_field("meta", DataType.JSON)
        s.add_field("v", DataType.FLOAT_VECTOR, dim=384)
        ix = client.prepare_index_params()
        ix.add_index("v", index_type="FLAT", metric_type="IP")
        client.create_collection("facts", schema=s, index_params=ix)
        vecs = rng.standard_normal((args.rows, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for i in range(0, args.rows, 1000):
            rows = [
                {"id": j, "cat": f"c{j % 10}", "meta": {"cat": f"c{j % 10}"}, "v": vecs[j].tolist()}
                for j in range(i, min(i + 1000, args.rows))
            ]
            client.insert("facts", rows)
        q = [vecs[0].tolist()]
        before = _ms(lambda: client.search("facts", data=q, anns_field="v", limit=10), 5)
        client.flush("facts")
        after = _ms(lambda: client.search("facts", data=q, anns_field="v", limit=10))
        print(f"2. search over {args.rows} rows: {before:.1f} ms before flush(), {after:.1f} ms after")
        scalar = _ms(lambda: client.search("facts", data=q, anns_field="v", limit=10, filter='cat == "c3"'))
        js = _ms(lambda: client.search("facts", data=q, anns_field="v", limit=10, filter='meta["cat"] == "c3"'))
        print(f"3. filtered search: scalar field {scalar:.1f} ms, JSON field {js:.1f} ms ({js / scalar:.0f}x)")

        s = client.create_schema(auto_id=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        analyzer = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": "russian"}]}
        s.add_field("text", DataType.VARCHAR, max_length=1000, enable_analyzer=True, analyzer_params=analyzer)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(
            Function(
                name="f", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]
            )
        )
        ix = client.prepare_index_params()
        ix.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection("bm25", schema=s, index_params=ix)
        texts = ["торговля между странами растёт", "водные ресурсы региона", "торговые пути и рынки"]
        client.insert("bm25", [{"id": i, "text": t} for i, t in enumerate(texts)])
        client.flush("bm25")
        hits = client.search("bm25", data=["торговля"], anns_field="sparse", limit=3)[0]
        print(f"4. BM25 scores for 'торговля': {[round(h['distance'], 3) for h in hits]}")
        stem = client.search("bm25", data=["ресурсов"], anns_field="sparse", limit=3)[0]
        print(f"5. 'ресурсов' (stem 'ресурс') finds rows {sorted(h['id'] for h in stem)}; a Russian stemmer finds [1]")
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
