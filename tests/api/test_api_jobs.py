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


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


def test_a_job_left_running_by_a_dead_process_is_reported_lost(tmp_path: Any) -> None:
    from rag.api.jobs import Jobs

    jobs = Jobs(tmp_path)
    jobs.directory.mkdir()
    job_id = "a" * 32
    record = {"id": job_id, "status": "running", "pid": _dead_pid(), "progress": {}, "error": None}
    (jobs.directory / f"{job_id}.json").write_text(json.dumps(record))
    got = jobs.get(job_id)
    assert got is not None and got["status"] == "failed" and got["error"]["code"] == "job_lost"
    record["pid"] = os.getpid()
    (jobs.directory / f"{job_id}.json").write_text(json.dumps(record))
    assert jobs.get(job_id)["status"] == "running"  # type: ignore[index]
    # A restarted container runs its server under the pid of the one that died: the pid is not enough.
    (jobs.directory / f"{job_id}.json").write_text(json.dumps({**record, "process": f"{os.getpid()}@1"}))
    assert jobs.get(job_id)["error"]["code"] == "job_lost"  # type: ignore[index]
    jobs.close()


def _keep(settings: Any, doc_id: str, data: bytes) -> None:
    """Leave ``data`` kept as an upload of ``doc_id`` but not in the index: a server killed mid-ingest."""
    from rag.ingest import uploads
    from rag.ingest.load import load_bytes

    uploads.save(settings.index_dir, load_bytes(doc_id, data), data)


@pytest.mark.asyncio
async def test_uploads_kept_but_not_ingested_are_ingested_at_start_under_their_job_id(make_settings: Any) -> None:
    settings = make_settings(upload_job_bytes=10_000)
    _keep(settings, "lost.txt", document(30, first=7_000))
    _keep(settings, "orphan.txt", "Отдельная заметка: в Бухаре открыли музей верблюдов.".encode())
    job_id = "b" * 32
    lost = {"id": job_id, "status": "running", "doc_id": "lost.txt", "bytes": 1, "pid": _dead_pid(), "created": 1.0}
    (settings.index_dir / "jobs").mkdir(exist_ok=True)
    (settings.index_dir / "jobs" / f"{job_id}.json").write_text(json.dumps({**lost, "process": "1@1", "error": None}))
    async with app_client(settings, headers=SCRIPT) as client:
        job, _ = await follow(client, f"/v1/jobs/{job_id}")
        deadline = time.monotonic() + 60
        while "orphan.txt" not in {d["doc_id"] for d in (await client.get("/v1/documents")).json()["documents"]}:
            assert time.monotonic() < deadline, "the kept upload without a job record was not ingested"
            await asyncio.sleep(0.05)
        hit = (await client.post("/v1/search", json={"query": "Самарканд 7029 тонн хлопка", "top_k": 1})).json()
    # Any ingest takes in every kept upload the index lacks, so the first job may bring in both.
    assert job["status"] == "done" and "lost.txt" in job["result"]["added"] and job["created"] == 1.0, job
    assert "process" not in job and "pid" not in job
    assert hit["passages"][0]["doc_id"] == "lost.txt"
    async with app_client(settings) as client:  # nothing left to recover: no new job
        assert len(list((settings.index_dir / "jobs").glob("*.json"))) == 2


@pytest.mark.asyncio
async def test_a_server_with_nothing_to_recover_writes_nothing_at_start(make_settings: Any) -> None:
    settings = make_settings()  # a read-only index must still serve: start-up only reads
    async with app_client(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert not (settings.index_dir / "jobs").exists()


def test_workers_starting_together_queue_a_kept_upload_once(tmp_path: Any) -> None:
    import threading

    from rag.api.jobs import Jobs

    release, ran = threading.Event(), []

    def work(doc_id: str) -> tuple[int, Any]:
        def run(progress: Any) -> dict[str, Any]:
            ran.append(doc_id)
            release.wait(10)
            return {}

        return 1, run

    first, second = Jobs(tmp_path), Jobs(tmp_path)
    queued = first.recover(lambda: ["a.txt"], work)
    again = second.recover(lambda: ["a.txt"], work)  # the first one's job is still running
    release.set()
    first.close()
    second.close()
    assert len(queued) == 1 and again == [] and ran == ["a.txt"]


def test_a_server_killed_mid_upload_ingests_it_when_it_starts_again(make_settings: Any) -> None:
    """SIGKILL while the job embeds: the restarted server ingests the kept bytes under the same job."""
    data = document(12_000, first=2_000_000)  # ~1 MB: long enough to be caught mid-way
    settings = make_settings(max_upload_bytes=10_000_000, admin_keys=("ak",), rate_limit_per_minute=0)
    auth = {"Authorization": "Bearer ak"}
    with run_server(settings) as srv:
        r = httpx.post(srv.url + "/v1/documents?filename=killed.txt", content=data, headers=auth, timeout=30)
        assert r.status_code == 202, r.text
        url = r.json()["url"]
        deadline = time.monotonic() + 60
        while (job := httpx.get(srv.url + url, headers=auth).json())["progress"]["stage"] in ("queued", "chunking"):
            assert job["status"] != "done" and time.monotonic() < deadline, job
            time.sleep(0.02)
        srv.process.kill()
        srv.process.wait()
    assert job["status"] == "running", job  # killed mid-embedding, after the bytes were kept
    with run_server(settings) as srv:
        deadline = time.monotonic() + 120
        while (job := httpx.get(srv.url + url, headers=auth).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        query = {"query": "Самарканд 2011999 тонн хлопка", "top_k": 1}
        hit = httpx.post(srv.url + "/v1/search", json=query, headers=auth, timeout=10).json()
    assert job["status"] == "done" and job["result"]["added"] == ["killed.txt"], job
    assert hit["passages"][0]["doc_id"] == "killed.txt"


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
