"""Search: dense and lexical rankings over one index snapshot, fused (``retrieve``, ``fuse``)."""
