"""The FAISS store and all of its persistence: vectors, the SQLite chunk store, crash-safe snapshots."""
