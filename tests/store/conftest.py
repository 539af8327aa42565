"""Fixtures that run one test over every store backend (Milvus Lite in a temporary directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.store import Store, open_store
from tests.conftest import make_settings

STORES = ["faiss", "milvus"]


def release_lite(settings: Settings) -> None:
    """Stop the Milvus Lite server of ``settings`` if a test left one running (frees its lock)."""
    if settings.store != "milvus":
        return
    from milvus_lite import server_manager_instance

    from rag.store.milvus import connect

    path = str(Path(connect.milvus_uri(settings)).resolve())
    connect._lite_refs.pop(path, None)
    server_manager_instance.release_server(path)


def store_settings_for(kind: str, index_dir: Path, **overrides: object) -> Settings:
    return make_settings(index_dir, embedder="hashing", store=kind, **overrides)


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for an empty index in tmp_path, once per store backend (hashing embedder)."""
    settings = store_settings_for(request.param, tmp_path / "index")
    yield settings
    release_lite(settings)


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    """The store of ``store_settings``, open for the test."""
    s = open_store(store_settings)
    yield s
    s.close()


def release_lite_under(root: Path) -> None:
    """Stop every Milvus Lite server this process runs on a directory under ``root``."""
    from milvus_lite import server_manager_instance

    from rag.store.milvus import connect

    for path in [p for p in list(server_manager_instance._servers) if Path(p).is_relative_to(root)]:
        connect._lite_refs.pop(path, None)
        server_manager_instance.release_server(path)
