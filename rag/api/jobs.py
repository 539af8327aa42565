"""Background ingest jobs: large uploads are answered at once and ingested by one worker thread.

``POST /v1/documents`` with more than ``RAG_UPLOAD_JOB_BYTES`` (or with ``Prefer: respond-async``)
checks the file, queues it, and answers ``202`` with ``/v1/jobs/{id}``, which reports the stage
("queued", "chunking", "embedding chunks", "embedding sentences", "writing index") with counts, and
in the end the ingest report or the error. Jobs run one at a time, in upload order, since index
writers are serialised anyway.

A job's state is a small JSON file under ``<index>/jobs/``, replaced atomically at each step, so
any worker process of ``rag serve --workers N`` can answer for it, and it outlives a restart: a job
left "queued" or "running" by a process that is gone is reported as failed ("job_lost"), unless its
upload's bytes were already kept with the index: then the next server to start on the index queues
it again under the same id (``recover``), and it ends "done" like any other. A process is known by
its pid and its start time, since a restarted container runs the server under the same pid. Files
older than a week are swept when a job is queued.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection
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


_ACTIVE = ("queued", "running")


def _process(pid: int) -> str | None:
    """``pid@start`` (start time in clock ticks after boot, from /proc), so that a later process
    given the same pid, as a restarted container's server always is, is not taken for the first;
    None when the process does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:  # no /proc here: the pid alone must do
        return str(pid) if _pid_exists(pid) else None
    return f"{pid}@{stat.rsplit(')', 1)[1].split()[19]}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupted(job: dict[str, Any]) -> bool:
    return job.get("status") == "failed" and (job.get("error") or {}).get("code") == "job_interrupted"


def _alive(job: dict[str, Any]) -> bool:
    """Whether the process that queued ``job`` still runs (a record without ``process`` is older)."""
    process = job.get("process")
    return _process(job["pid"]) == process if process else _pid_exists(job["pid"])


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
        self._me = _process(os.getpid()) or str(os.getpid())

    @property
    def busy(self) -> bool:
        """Whether a job of this process is queued or running (a synchronous upload would wait for it)."""
        return self._pending > 0

    def submit(self, doc_id: str, size: int, work: Work) -> dict[str, Any]:
        """Queue ``work`` for ``doc_id`` (``size`` bytes); returns the job's first state.

        QueueFullError when the uploads already queued and this one would hold more than
        ``max_bytes`` (a queue that only grows would hold every upload's bytes in memory)."""
        return self._enqueue(doc_id, size, work, bounded=True)

    def _enqueue(
        self, doc_id: str, size: int, work: Work, bounded: bool = False, lost: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with self._lock:
            if bounded and self.max_bytes and self._pending and self._bytes + size > self.max_bytes:
                raise QueueFullError(self._pending)
            self._pending += 1
            self._bytes += size
        try:
            return self._queue(doc_id, size, work, lost)
        except BaseException:
            with self._lock:
                self._pending -= 1
                self._bytes -= size
            raise

    def _queue(self, doc_id: str, size: int, work: Work, lost: dict[str, Any] | None = None) -> dict[str, Any]:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._sweep()
        now = time.time()
        job: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "created": now,
            **(lost or {}),  # a lost job queued again keeps its id and creation time
            "status": "queued",
            "doc_id": doc_id,
            "bytes": size,
            "progress": {"stage": "queued", "done": 0, "total": 0},
            "updated": now,
            "result": None,
            "error": None,
            "pid": os.getpid(),
            "process": self._me,
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
        if self._lost(job):
            lost = {"code": "job_lost", "message": "the server stopped before the job ended; upload the file again"}
            job.update(status="failed", error=lost)
        return job

    def recover(self, pending: Callable[[], Collection[str]], work: Callable[[str], tuple[int, Work]]) -> list[str]:
        """Queue again the uploads ``pending()`` names (kept with the index but not in it: their
        job's process died mid-ingest), each under its lost job's id when there is one;
        ``work(doc_id)`` gives the size and the work. Uploads a live job of another worker is
        ingesting are left to it, and the check and the claim are one step under a file lock, so
        workers starting together queue each upload once. Returns the ids of the jobs queued.

        Nothing is written when nothing is pending, so a server over a read-only index starts."""
        if not pending():
            return []
        self.directory.mkdir(parents=True, exist_ok=True)
        queued = []
        with open(self.directory / ".recover.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            records = sorted(self._records(), key=lambda j: j.get("created", 0))
            busy = {j.get("doc_id") for j in records if j.get("status") in _ACTIVE and not self._lost(j)}
            # The newest job per document that a dead or stopped server left unfinished.
            lost = {j.get("doc_id"): j for j in records if self._lost(j) or _interrupted(j)}
            for doc_id in pending():
                if doc_id in busy:
                    continue
                size, job_work = work(doc_id)
                job = self._enqueue(doc_id, size, job_work, lost=lost.get(doc_id))
                log.warning("upload %r was kept but not ingested; queued again as job %s", doc_id, job["id"])
                queued.append(job["id"])
        return queued

    def _lost(self, job: dict[str, Any]) -> bool:
        return job.get("status") in _ACTIVE and job.get("process") != self._me and not _alive(job)

    def _records(self) -> list[dict[str, Any]]:
        found = []
        for path in self.directory.glob("*.json"):
            try:
                job = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(job, dict) and _ID.match(str(job.get("id", ""))) and isinstance(job.get("pid"), int):
                found.append(job)
        return found

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
