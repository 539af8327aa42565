"""Background ingest jobs: large uploads are answered at once and ingested by one worker thread.

``POST /v1/documents`` with more than ``RAG_UPLOAD_JOB_BYTES`` (or with ``Prefer: respond-async``)
checks the file, queues it, and answers ``202`` with ``/v1/jobs/{id}``, which reports the stage
("queued", "chunking", "embedding chunks", "embedding sentences", "writing index") with counts, and
in the end the ingest report or the error. Jobs run one at a time, in upload order, since index
writers are serialised anyway.

A job's state is a small JSON file under ``<index>/jobs/``, replaced atomically at each step, so
any worker process of ``rag serve --workers N`` can answer for it, and it outlives a restart: a job
left "queued" or "running" by a process that is gone is reported as failed. Files older than a
week are swept when a job is queued.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rag.api.errors import public_message
from rag.errors import RagError

log = logging.getLogger(__name__)


class QueueFullError(Exception):
    """Too many upload bytes are waiting for the ingest worker: the client should retry later."""

    def __init__(self, pending: int) -> None:
        super().__init__(f"{pending} upload(s) are waiting to be ingested; try again later")


class _StoppedError(Exception):
    """The server is shutting down: the running job stops at its next progress report."""


KEEP_SECONDS = 7 * 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")
_WRITE_EVERY = 0.5  # seconds between progress writes (each batch of 16 texts would be too many)

# The work of a job: given a progress callback (stage, done, total), ingest and return the result.
Work = Callable[[Callable[[str, int, int], None]], dict[str, Any]]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Jobs:
    """Queued ingest jobs of one index, run by one thread of this process."""

    def __init__(self, index_dir: Path, max_bytes: int = 0) -> None:
        self.directory = index_dir / "jobs"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-ingest-job")
        self._pending = 0
        self._bytes = 0  # of the uploads queued or running
        self.max_bytes = max_bytes  # 0: no limit
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def busy(self) -> bool:
        """Whether a job of this process is queued or running (a synchronous upload would wait for it)."""
        return self._pending > 0

    def submit(self, doc_id: str, size: int, work: Work) -> dict[str, Any]:
        """Queue ``work`` for ``doc_id`` (``size`` bytes); returns the job's first state.

        QueueFullError when the uploads already queued and this one would hold more than
        ``max_bytes`` (a queue that only grows would hold every upload's bytes in memory)."""
        with self._lock:
            if self.max_bytes and self._pending and self._bytes + size > self.max_bytes:
                raise QueueFullError(self._pending)
            self._pending += 1
            self._bytes += size
        try:
            return self._queue(doc_id, size, work)
        except BaseException:
            with self._lock:
                self._pending -= 1
                self._bytes -= size
            raise

    def _queue(self, doc_id: str, size: int, work: Work) -> dict[str, Any]:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._sweep()
        now = time.time()
        job: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "status": "queued",
            "doc_id": doc_id,
            "bytes": size,
            "progress": {"stage": "queued", "done": 0, "total": 0},
            "created": now,
            "updated": now,
            "result": None,
            "error": None,
            "pid": os.getpid(),
        }
        self._write(job)
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's current state, or None when there is no such job."""
        if not _ID.match(job_id):
            return None
        try:
            job: dict[str, Any] = json.loads((self.directory / f"{job_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if job["status"] in ("queued", "running") and job["pid"] != os.getpid() and not _alive(job["pid"]):
            lost = {"code": "job_lost", "message": "the server stopped before the job ended"}
            job.update(status="failed", error=lost)
        return job

    def close(self) -> None:
        """Stop: the running job ends at its next step, queued ones are dropped (both reported failed)."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: dict[str, Any], work: Work) -> None:
        last = 0.0

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal last
            if self._stopping.is_set():
                raise _StoppedError
            job["progress"] = {"stage": stage, "done": done, "total": total}
            if time.monotonic() - last >= _WRITE_EVERY or done == total:
                last = time.monotonic()
                self._write(job)

        job["status"] = "running"
        self._write(job)
        try:
            job.update(status="done", result=work(progress))
            job["progress"] = {"stage": "done", "done": 1, "total": 1}
        except RagError as exc:
            # Like every error body: internal details (paths, URLs) are logged, not shown to callers.
            job.update(status="failed", error={"code": exc.code, "message": public_message(exc.code, exc.message)})
        except _StoppedError:
            # The vectors made so far stay in the index's resume cache: uploading again reuses them.
            stopped = {"code": "job_interrupted", "message": "the server stopped; upload the file again to resume"}
            job.update(status="failed", error=stopped)
        except Exception:  # noqa: BLE001 - a job must end in a state the client can read
            log.exception("ingest job %s failed", job["id"])
            job.update(status="failed", error={"code": "internal_error", "message": "internal server error"})
        finally:
            with self._lock:
                self._pending -= 1
                self._bytes -= job["bytes"]
            self._write(job)

    def _write(self, job: dict[str, Any]) -> None:
        job["updated"] = time.time()
        path = self.directory / f"{job['id']}.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def _sweep(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for path in self.directory.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass
