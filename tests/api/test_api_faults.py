"""Faults while serving: a full disk during an upload, index files broken or deleted under the server."""

from __future__ import annotations

import asyncio
import errno
import shutil
from typing import Any

import pytest

from tests.api.conftest import SCRIPT, app_client

pytestmark = pytest.mark.asyncio
Q = {"question": "Какой товарооборот?"}


async def test_a_full_disk_fails_the_upload_cleanly_and_recovers(make_settings: Any, monkeypatch: Any) -> None:
    import rag.ingest.index as index

    real = index.embed_passages

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    settings = make_settings()
    async with app_client(settings, headers=SCRIPT) as client:
        monkeypatch.setattr(index, "embed_passages", disk_full)
        r = await client.post("/v1/documents?filename=note.txt", content="Заметка о мосте.".encode())
        assert r.status_code == 507 and r.json()["error"]["code"] == "storage_error", r.text
        assert str(settings.index_dir) not in r.text
        assert (await client.post("/v1/ask", json=Q)).status_code == 200  # the old index still serves
        assert not list((settings.index_dir / "uploads").glob("*.json"))  # nothing half-kept
        monkeypatch.setattr(index, "embed_passages", real)  # the disk has room again
        r = await client.post("/v1/documents?filename=note.txt", content="Заметка о мосте.".encode())
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("damage", ["dangling CURRENT", "garbage manifest", "index deleted"])
async def test_the_last_good_index_is_served_while_files_are_broken(make_settings: Any, damage: str) -> None:
    settings = make_settings()
    index = settings.index_dir
    async with app_client(settings) as client:
        good = await client.post("/v1/ask", json=Q)
        version = good.headers["x-index-version"]
        backup = index.parent / "backup"
        shutil.copytree(index, backup)
        if damage == "dangling CURRENT":
            (index / "CURRENT").write_text("no-such-snapshot\n")
        elif damage == "garbage manifest":
            (index / "snapshots" / "broken").mkdir()
            (index / "snapshots" / "broken" / "manifest.json").write_text("{not json")
            (index / "CURRENT").write_text("broken\n")
        else:
            shutil.rmtree(index)
        await asyncio.sleep(1.2)  # the server looks for a new snapshot at most once a second
        r = await client.post("/v1/ask", json=Q)
        assert r.status_code == 200 and r.headers["x-index-version"] == version, r.text
        assert (await client.get("/readyz")).status_code == 200
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(backup, index)  # the operator restores the files
        await asyncio.sleep(1.2)
        assert (await client.post("/v1/ask", json=Q)).status_code == 200
