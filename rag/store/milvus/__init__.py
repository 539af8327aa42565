"""The Milvus store: the whole index in Milvus collections, so serving processes keep no state.

``connect`` opens Milvus Lite for a local path or a client for a server URI; ``schema`` defines
the three collections; ``terms`` turns stemmed tokens into BM25-weighted sparse vectors;
``backend`` writes, ``reader`` searches. Design and measurements: docs/store.md.
"""
