"""``GET /v1/jobs/{job_id}``: the progress and outcome of a background upload (see ``rag.api.jobs``)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.params import FromPath

from rag.api.deps import ServiceDep
from rag.api.errors import ApiError, error_responses


@get(
    "/v1/jobs/{job_id:str}",
    opt={"admin": True},
    summary="An upload job's progress and result",
    tags=["documents"],
    responses=error_responses(404),
)
async def get_job(job_id: FromPath[str], service: ServiceDep) -> dict[str, Any]:
    """``{"id", "status": queued|running|done|failed, "doc_id", "bytes", "progress": {"stage", "done",
    "total"}, "created", "updated", "result": {"doc_id", "report"} | null, "error": {"code", "message"} | null}``."""
    job = service.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no job {job_id!r}")
    job.pop("pid", None)
    job.pop("process", None)
    return job
