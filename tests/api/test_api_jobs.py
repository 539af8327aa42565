"""Large uploads as background jobs: 202 with a job URL at once, progress, the document searchable
at the end; small uploads stay synchronous; jobs outlive the process that ran them as records."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import SCRIPT, app_client, run_server

UPLOAD_NOTE = "Абзац {i}: склад в Самарканде отгрузил {i} тонн хлопка, сообщил директор Жирафов."


def document(paragraphs: int, first: int = 0) -> bytes:
    return "\n\n".join(UPLOAD_NOTE.format(i=first + i) for i in range(paragraphs)).encode()


async def follow(client: Any, url: str, **headers: str) -> tuple[dict[str, Any], set[str]]:
    """Poll a job until it ends; its last state and every stage seen."""
    stages: set[str] = set()
    deadline = time.monotonic() + 120
    while True:
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        job = r.json()
        stages.add(job["progress"]["stage"])
        if job["status"] in ("done", "failed"):
            return job, stages
        assert time.monotonic() < deadline, f"job still {job['status']} after 120 s"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_a_large_upload_is_a_job_that_ends_searchable(make_settings: Any) -> None:
    data = document(400)  # ~40 KB
    # A raw (non-JSON) body from a keyless client needs X-Requested-With (rag.api.sitecheck).
    async with app_client(make_settings(upload_job_bytes=10_000), headers=SCRIPT) as client:
        r = await client.post("/v1/documents?filename=cotton.txt", content=data)
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["url"] == f"/v1/jobs/{body['job_id']}" == r.headers["location"]
        assert body["doc_id"] == "cotton.txt" and body["status"] in ("queued", "running")
        job, stages = await follow(client, body["url"])
        hit = (await client.post("/v1/search", json={"query": "Самарканд хлопок 377 тонн", "top_k": 1})).json()
        small = await client.post("/v1/documents?filename=note.txt", content="Заметка о жирафах.".encode())
        prefer = {"Prefer": "respond-async"}
        asked = await client.post("/v1/documents?filename=note2.txt", content=b"Note.", headers=prefer)
    assert job["status"] == "done" and job["error"] is None, job
    assert job["result"]["added"] == ["cotton.txt"] and job["result"]["embedded_chunks"] > 10
    assert job["bytes"] == len(data) and "pid" not in job
    assert "embedding chunks" in stages or "embedding sentences" in stages or "done" in stages
    assert hit["passages"][0]["doc_id"] == "cotton.txt"
    assert small.status_code == 201 and small.json()["report"]["added"] == ["note.txt"]  # small: in the request
    assert asked.status_code == 202  # a client may ask for a job whatever the size


@pytest.mark.asyncio
async def test_bad_uploads_fail_in_the_request_and_unknown_jobs_are_404(make_settings: Any) -> None:
    settings = make_settings(upload_job_bytes=100, api_keys=("qk",), admin_keys=("ak",), rate_limit_per_minute=0)
    admin = {"Authorization": "Bearer ak"}
    async with app_client(settings) as client:
        binary = await client.post("/v1/documents?filename=x.txt", content=b"\x00\x01\x02" * 100, headers=admin)
        missing = await client.get("/v1/jobs/" + "0" * 32, headers=admin)
        odd = await client.get("/v1/jobs/..%2F..%2Fetc", headers=admin)
        r = await client.post("/v1/documents?filename=ok.txt", content=document(5), headers=admin)
        forbidden = await client.get(r.json()["url"], headers={"Authorization": "Bearer qk"})
        job, _ = await follow(client, r.json()["url"], **admin)
        listed = await client.get("/v1/documents", headers=admin)
    assert binary.status_code == 415
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
    assert odd.status_code == 404
    assert r.status_code == 202 and forbidden.status_code == 403
    assert job["status"] == "done"
    assert "ok.txt" in {d["doc_id"] for d in listed.json()["documents"]}


def test_a_job_left_running_by_a_dead_process_is_reported_lost(tmp_path: Any) -> None:
    from rag.api.jobs import Jobs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    jobs = Jobs(tmp_path)
    jobs.directory.mkdir()
    job_id = "a" * 32
    record = {"id": job_id, "status": "running", "pid": int(dead.stdout), "progress": {}, "error": None}
    (jobs.directory / f"{job_id}.json").write_text(json.dumps(record))
    got = jobs.get(job_id)
    assert got is not None and got["status"] == "failed" and got["error"]["code"] == "job_lost"
    record["pid"] = os.getpid()
    (jobs.directory / f"{job_id}.json").write_text(json.dumps(record))
    assert jobs.get(job_id)["status"] == "running"  # type: ignore[index]
    jobs.close()


def test_a_5_mb_upload_answers_within_a_second_with_a_job(make_settings: Any) -> None:
    data = document(60_000)  # 5.6 MB of distinct paragraphs
    assert len(data) > 5_000_000
    settings = make_settings(max_upload_bytes=10_000_000, admin_keys=("ak",), rate_limit_per_minute=0)
    with run_server(settings) as srv:
        auth = {"Authorization": "Bearer ak"}
        t0 = time.perf_counter()
        r = httpx.post(srv.url + "/v1/documents?filename=big.txt", content=data, headers=auth, timeout=30)
        elapsed = time.perf_counter() - t0
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 30
        while (job := httpx.get(srv.url + r.json()["url"], headers=auth).json())["status"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        search = httpx.post(srv.url + "/v1/search", json={"query": "товарооборот"}, headers=auth, timeout=10)
    assert elapsed < 1.0, f"the 5 MB upload took {elapsed:.2f} s to answer"
    assert job["status"] in ("running", "done")
    assert search.status_code == 200  # the service keeps answering while the job runs


@pytest.mark.slow
def test_a_5_mb_upload_job_ends_with_the_document_searchable(make_settings: Any) -> None:
    """The whole acceptance, end to end (minutes: `make bench-upload`)."""
    data = document(60_000, first=1_000_000)
    settings = make_settings(max_upload_bytes=10_000_000, admin_keys=("ak",), rate_limit_per_minute=0)
    with run_server(settings) as srv:
        auth = {"Authorization": "Bearer ak"}
        t0 = time.perf_counter()
        r = httpx.post(srv.url + "/v1/documents?filename=big.txt", content=data, headers=auth, timeout=30)
        answered = time.perf_counter() - t0
        assert r.status_code == 202, r.text
        while (job := httpx.get(srv.url + r.json()["url"], headers=auth).json())["status"] in ("queued", "running"):
            time.sleep(1)
        took = time.perf_counter() - t0
        query = {"query": "Самарканд 1059999 тонн хлопка", "top_k": 1}
        hit = httpx.post(srv.url + "/v1/search", json=query, headers=auth, timeout=10).json()
    print(f"\n5 MB upload: 202 in {answered:.2f} s; job {job['status']} after {took:.0f} s: {job['result']}")
    assert answered < 1.0 and job["status"] == "done", job
    assert hit["passages"][0]["doc_id"] == "big.txt" and "1059999" in hit["passages"][0]["text"]


def test_the_job_queue_holds_a_bounded_number_of_bytes(tmp_path: Any) -> None:
    """Each queued upload is held in memory until its job runs: past ``max_bytes`` the queue refuses
    (an upload larger than the budget alone still runs when nothing waits)."""
    import threading

    from rag.api.jobs import Jobs, QueueFullError

    release = threading.Event()
    jobs = Jobs(tmp_path, max_bytes=1000)
    try:
        first = jobs.submit("a.txt", 600, lambda progress: release.wait(30) and {"ok": True})
        with pytest.raises(QueueFullError, match="1 upload"):
            jobs.submit("b.txt", 600, lambda progress: {})
        second = jobs.submit("c.txt", 400, lambda progress: {})
        release.set()
        deadline = time.monotonic() + 30
        while jobs.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [jobs.get(j["id"])["status"] for j in (first, second)] == ["done", "done"]  # type: ignore[index]
        alone = jobs.submit("big.txt", 5000, lambda progress: {})  # over the budget, but nothing waits
        assert alone["status"] == "queued"
    finally:
        release.set()
        jobs.close()


@pytest.mark.asyncio
async def test_an_upload_past_the_queue_budget_is_asked_to_retry(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from rag.api.routes import documents

    release, real = threading.Event(), documents._ingest

    def held(*args: Any, **kwargs: Any) -> dict[str, Any]:
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "_ingest", held)
    settings = make_settings(upload_job_bytes=100, upload_queue_bytes=len(document(10)) + 10)
    async with app_client(settings, headers=SCRIPT) as client:
        first = await client.post("/v1/documents?filename=one.txt", content=document(10))
        full = await client.post("/v1/documents?filename=two.txt", content=document(10, first=50))
        release.set()
        job, _ = await follow(client, first.json()["url"])
        after = await client.post("/v1/documents?filename=two.txt", content=document(10, first=50))
        job2, _ = await follow(client, after.json()["url"])
    assert first.status_code == 202 and job["status"] == "done"
    assert full.status_code == 503 and full.json()["error"]["code"] == "ingest_busy", full.text
    assert full.headers["retry-after"] == "30"
    assert after.status_code == 202 and job2["status"] == "done"
