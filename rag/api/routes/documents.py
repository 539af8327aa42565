"""Admin routes: list, upload and delete indexed documents.

A small upload is ingested within the request (``201`` with the ingest report): a new index
snapshot is built beside the live one and swapped in (see ``Service``), so questions asked
meanwhile are answered from the old snapshot, never from a half-built one. A larger one (over
``RAG_UPLOAD_JOB_BYTES``), one sent with ``Prefer: respond-async``, and any upload while a job is
still running become a background job (``rag.api.jobs``): ``202`` with the job's URL, once the file
has been read and checked. Uploads come as ``multipart/form-data`` (field ``file``) or as the raw
body with ``?filename=``. PDF and DOCX are recognised by their content, text formats by the suffix
(.txt, .md, .html); a PDF's pages are listed with it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, Response, Router, delete, get, post, route
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import HttpMethod
from litestar.exceptions import ClientException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery
from multipart import ParserLimitReached

from rag.api.deps import MetricsDep, ServiceDep
from rag.api.errors import ApiError, error_responses
from rag.api.jobs import QueueFullError
from rag.api.metrics import Metrics
from rag.api.service import Service
from rag.config import Settings
from rag.errors import InputError
from rag.ingest.load import upload_name
from rag.ingest.pipeline import StageProgress
from rag.types import Document

ADMIN = {"admin": True}
PREFIX = "/v1/documents"  # the Router built by document_router() mounts these handlers here
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in a multipart body
RETRY_AFTER = 30  # seconds a client is asked to wait when the ingest queue is full
JOB_ACCEPTED = ResponseSpec(
    data_container=dict[str, Any],
    description='Ingested in the background: {"doc_id", "job_id", "status", "url"}; Location names the job',
    generate_examples=False,
)
# Parts of one multipart body (Litestar's default; an upload needs one). The parser also limits each
# part's headers to 8 lines of 4 KB; a form over any of these is refused before its file is read.
MAX_FORM_PARTS = 1000
MULTIPART_LIMITS = (
    f"the multipart body is over the limits of {MAX_FORM_PARTS} parts and 8 header lines of 4 KB per part;"
    " send the document alone in the field 'file'"
)


@get("/", opt=ADMIN, summary="List indexed documents", tags=["documents"], responses=error_responses())
async def list_documents(service: ServiceDep) -> dict[str, Any]:
    """``{"documents": [{"doc_id", "source", "title", "chunks", "chars", "hash", "pages"?}, ...]}``."""
    return {"documents": await anyio.to_thread.run_sync(service.documents)}


async def _read_upload(request: Request[Any, Any, Any], filename: str | None) -> tuple[str, bytes]:
    if request.content_type[0] == "multipart/form-data":  # Litestar lower-cases it, as media types ignore case
        form = await _read_form(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "missing_file", "send the document in a multipart field named 'file'")
        return upload.filename or filename or "", await upload.read()
    return filename or "", await request.body()


async def _read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    # Litestar answers these with a 422 schema error, a 400 "Request Entity Too Large" or, for a text
    # field in an unknown charset, a 500; here each is an upload error of its own, naming no content.
    if not request.content_type[1].get("boundary"):
        raise ApiError(400, "invalid_multipart", "the Content-Type multipart/form-data has no boundary parameter")
    try:
        return await request.form()
    except ClientException as exc:
        if isinstance(exc.__context__, ParserLimitReached):
            raise ApiError(413, "multipart_too_large", MULTIPART_LIMITS) from None
        if exc.status_code != 400:  # a body over the size limit (413) keeps its own answer
            raise
        raise ApiError(400, "invalid_multipart", "the body is not valid multipart/form-data") from None
    except (UnicodeDecodeError, LookupError):  # a text field not in its declared charset, or an unknown one
        raise ApiError(400, "invalid_multipart", "a form field is not text in its declared charset") from None


def check_upload_size(size: int, settings: Settings) -> None:
    """InputError ``upload_too_large`` when ``size`` bytes of document are over the upload limit."""
    if size > settings.max_upload_bytes:
        raise InputError(f"the upload is over the limit of {settings.max_upload_bytes} bytes", code="upload_too_large")


@post(
    "/",
    opt=ADMIN,
    status_code=201,
    summary="Upload and ingest a document",
    tags=["documents"],
    responses={**error_responses(413, 415, 503, 507), 202: JOB_ACCEPTED},
)
async def upload_document(
    request: Request[Any, Any, Any], service: ServiceDep, metrics: MetricsDep, filename: FromQuery[str | None] = None
) -> Response[dict[str, Any]]:
    """Ingest one file and swap the index: 201 and the ingest report, or 202 and a job URL."""
    length = request.headers.get("content-length", "")
    if length.isdigit():  # refuse before reading a body that is too large anyway
        check_upload_size(int(length) - MULTIPART_SLACK, service.settings)
    raw_name, data = await _read_upload(request, filename)
    name = upload_name(raw_name)
    check_upload_size(len(data), service.settings)
    doc = await anyio.to_thread.run_sync(service.read_upload, name, data)
    wants_async = "respond-async" in request.headers.get("prefer", "").lower()
    if wants_async or len(data) > service.settings.upload_job_bytes or service.jobs.busy:
        try:
            job = service.jobs.submit(name, len(data), partial(_ingest, service, metrics, doc, data))
        except QueueFullError as exc:
            raise ApiError(503, "ingest_busy", str(exc), headers={"Retry-After": str(RETRY_AFTER)}) from None
        url = f"/v1/jobs/{job['id']}"
        body = {"doc_id": name, "job_id": job["id"], "status": job["status"], "url": url}
        return Response(body, status_code=202, headers={"Location": url})
    report = await anyio.to_thread.run_sync(_ingest, service, metrics, doc, data)
    return Response({"doc_id": name, "report": report}, status_code=201)


def _ingest(
    service: Service, metrics: Metrics, doc: Document, data: bytes, on_progress: StageProgress | None = None
) -> dict[str, Any]:
    try:
        report = service.ingest_document(doc, data, on_progress)
    except Exception:
        metrics.ingests.labels("failed").inc()
        raise
    metrics.ingests.labels("ok").inc()
    return report


@delete(
    "/{doc_id:path}",
    opt=ADMIN,
    status_code=200,
    summary="Remove a document",
    tags=["documents"],
    responses=error_responses(404, 503, 507),
)
async def delete_document(doc_id: FromPath[str], service: ServiceDep) -> dict[str, Any]:
    """Drop one document from the index; 404 if it is not there."""
    doc_id = doc_id.lstrip("/")
    known = {d["doc_id"] for d in await anyio.to_thread.run_sync(service.documents)}
    if doc_id not in known:
        raise ApiError(404, "document_not_found", f"no document {doc_id!r} in the index")
    return {"doc_id": doc_id, "report": await anyio.to_thread.run_sync(service.delete, doc_id)}


# Litestar 2 builds a path's automatic OPTIONS answer when the path's first handler is registered,
# so for this path its Allow header named GET alone (litestar#4169, fixed in 3.0). This one is
# registered first, which keeps Litestar from adding its own.
ALLOW = ", ".join(sorted({"OPTIONS", *list_documents.http_methods, *upload_document.http_methods}))


@route("/", http_method=[HttpMethod.OPTIONS], include_in_schema=False, status_code=204)
async def document_options() -> Response[None]:
    """The methods ``/v1/documents`` takes, in ``Allow``."""
    return Response(None, status_code=204, headers={"Allow": ALLOW})


def document_router(max_upload_bytes: int) -> Router:
    """The document routes under ``/v1/documents``, with a body limit fit for uploads."""
    return Router(
        path=PREFIX,
        route_handlers=[document_options, list_documents, upload_document, delete_document],
        request_max_body_size=max_upload_bytes + MULTIPART_SLACK,
    )
