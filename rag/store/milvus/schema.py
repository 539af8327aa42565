"""The three collections of one index, named ``<prefix>_chunks``, ``_sentences`` and ``_kv``.

- chunks: one row per chunk: its fields, its dense vector and its BM25 sparse vector. Every field
  a filter touches is a scalar (Milvus Lite filtered 50x slower on a JSON field than on a scalar
  one), and scalar fields are indexed. A new optional chunk field (a page number, say) is one
  line in ``CHUNK_FIELDS`` plus ``add_collection_field`` with ``nullable=True`` on existing
  collections.
- sentences: one row per sentence of a chunk: span and vector, fetched for the top passages.
- kv: the manifest (``meta``), one record per document (``doc:<id>``, with its content hash) and
  BM25 document frequencies (``df:<term>``). Milvus wants a vector field in every collection, so
  this one has a 2-d placeholder.

Collections are created with Strong consistency: an upload through one replica is visible to a
search through another as soon as the write returns.
"""

from __future__ import annotations

from typing import Any

from pymilvus import DataType, MilvusClient

from rag.store.base import HNSW_EF_CONSTRUCTION, HNSW_M

HNSW = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}  # as the FAISS store's HNSW
CONSISTENCY = "Strong"
# name -> (type, extra field params); order is the order of Chunk's fields.
CHUNK_FIELDS: dict[str, tuple[DataType, dict[str, Any]]] = {
    "chunk_id": (DataType.VARCHAR, {"max_length": 4096}),
    "doc_id": (DataType.VARCHAR, {"max_length": 4000}),
    "source": (DataType.VARCHAR, {"max_length": 8192}),
    "title": (DataType.VARCHAR, {"max_length": 8192}),
    "text": (DataType.VARCHAR, {"max_length": 65535}),
    "start": (DataType.INT64, {}),
    "end": (DataType.INT64, {}),
    "ordinal": (DataType.INT64, {}),
}


def names(prefix: str) -> tuple[str, str, str]:
    return f"{prefix}_chunks", f"{prefix}_sentences", f"{prefix}_kv"


def create(client: MilvusClient, prefix: str, dim: int, vector_index: str) -> None:
    """Create whichever of the index's collections are missing, indexed and loaded."""
    chunks, sentences, kv = names(prefix)
    if not client.has_collection(chunks):
        s = client.create_schema(auto_id=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        for name, (kind, params) in CHUNK_FIELDS.items():
            s.add_field(name, kind, **params)
        s.add_field("length", DataType.INT64)  # tokens, for BM25's average length
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        s.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
        ix = client.prepare_index_params()
        if vector_index == "hnsw":
            ix.add_index("vector", index_type="HNSW", metric_type="IP", params=HNSW)
        else:
            ix.add_index("vector", index_type="FLAT", metric_type="IP")
        ix.add_index("terms", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        ix.add_index("doc_id", index_type="INVERTED")
        _create(client, chunks, s, ix)
    if not client.has_collection(sentences):
        s = client.create_schema(auto_id=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("chunk", DataType.INT64)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        ix = client.prepare_index_params()
        ix.add_index("vector", index_type="FLAT", metric_type="IP")
        ix.add_index("chunk", index_type="INVERTED")
        _create(client, sentences, s, ix)
    if not client.has_collection(kv):
        s = client.create_schema(auto_id=False)
        s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=4100)
        s.add_field("kind", DataType.VARCHAR, max_length=16)
        s.add_field("value", DataType.VARCHAR, max_length=65535)
        s.add_field("num", DataType.INT64)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
        ix = client.prepare_index_params()
        ix.add_index("vector", index_type="FLAT", metric_type="IP")
        ix.add_index("kind", index_type="INVERTED")
        _create(client, kv, s, ix)


def _create(client: MilvusClient, name: str, fields: Any, indexes: Any) -> None:
    client.create_collection(name, schema=fields, consistency_level=CONSISTENCY)
    # pymilvus polls each new index every 0.5 s (3.5 s for these seven on an empty collection);
    # loading waits for the indexes anyway.
    client.create_index(name, indexes, sync=False)
    client.load_collection(name)


def load(client: MilvusClient, prefix: str) -> None:
    """Load the index's existing collections (a restarted Milvus Lite opens them released)."""
    from pymilvus.client.types import LoadState

    for name in names(prefix):
        if client.has_collection(name) and client.get_load_state(name)["state"] != LoadState.Loaded:
            client.load_collection(name)


def drop(client: MilvusClient, prefix: str) -> None:
    for name in names(prefix):
        if client.has_collection(name):
            client.drop_collection(name)


def kv_row(key: str, kind: str, value: str = "", num: int = 0) -> dict[str, Any]:
    return {"key": key, "kind": kind, "value": value, "num": num, "vector": [0.0, 0.0]}
