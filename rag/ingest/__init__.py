"""Ingest: ``load → chunk → embed → index``; files in, a new index snapshot out (``pipeline``)."""
