"""CORS: which page origins may call the API from a browser, and a JSON answer for those that may not.

Litestar's CORS middleware adds the headers for allowed origins, but answers a preflight it refuses
with a ``text/plain`` ``400 Disallowed CORS ...``: the one error of the API that was not a JSON
body. It also answers every preflight before any route middleware runs, so before the Host check
against DNS rebinding (``rag.api.sitecheck``). :class:`PreflightRefusal` sits in front of it and
refuses those preflights itself:

* ``400 host_not_allowed``: the ``Host`` header names a host the server does not answer to. This is
  checked first, as for every other request, and the answer is the same JSON error they get.
* ``403 origin_not_allowed``: the origin is not on the allow-list (``RAG_CORS_ORIGINS`` and the
  widget keys' origins), or there is no allow-list at all. It is the code a widget key gets from a
  foreign origin, and 403 rather than 400 because the request is well formed and understood: this
  origin may just not make it. Browsers fail the CORS check on any status outside 200-299 and show
  the page nothing either way, so the status and body are for people reading logs or using curl.
* ``403 cors_not_allowed``: an allowed origin asks for a method or a header that cross-origin
  requests may not use.

The two 403s are Litestar's checks, in its order (origin, method, requested headers). No refusal
carries ``Access-Control-Allow-Origin`` or echoes the origin. Preflights that pass go on to
Litestar unchanged, as do all other requests.
"""

from __future__ import annotations

import msgspec
from litestar.config.cors import CORSConfig
from litestar.constants import DEFAULT_ALLOWED_CORS_HEADERS
from litestar.datastructures import Headers
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from rag.api.errors import ApiError, error_body
from rag.api.sitecheck import SiteCheck, scope_headers


def cors_config(origins: set[str]) -> CORSConfig | None:
    """CORS for ``origins`` (the configured ones and every widget key's); None when there are none."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=sorted(origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,  # keys travel in a header, never cookies; also keeps "*" safe
        expose_headers=["Retry-After", "X-Index-Version"],
    )


def refusal(config: CORSConfig | None, headers: Headers) -> tuple[str, str] | None:
    """(code, message) refusing the preflight with ``headers``, or None when CORS allows it."""
    origin = headers.get("origin", "")
    if config is None or not config.is_origin_allowed(origin):
        return "origin_not_allowed", "cross-origin requests from this page's origin are not allowed"
    method = headers.get("access-control-request-method")
    if method and not config.is_allow_all_methods and method not in config.allow_methods:
        allowed = ", ".join(sorted(config.allow_methods))
        return "cors_not_allowed", f"this method is not allowed cross-origin; allowed: {allowed}"
    requested = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")}
    allowed_headers = {h.lower() for h in (*config.allow_headers, *DEFAULT_ALLOWED_CORS_HEADERS)}
    if not config.is_allow_all_headers and requested - allowed_headers - {""}:
        listed = ", ".join(sorted(allowed_headers))
        return "cors_not_allowed", f"a requested header is not allowed cross-origin; allowed: {listed}"
    return None


class PreflightRefusal:
    """ASGI app in front of Litestar's CORS handling: refused preflights get a JSON error."""

    def __init__(self, app: ASGIApp, config: CORSConfig | None, site: SiteCheck) -> None:
        self.app, self.config, self.site = app, config, site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar takes any OPTIONS request with an Origin for a preflight; so does this check.
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            headers = Headers.from_scope(scope)
            if "origin" in headers:
                response = self._refuse(scope, headers)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _refuse(self, scope: Scope, headers: Headers) -> ASGIResponse | None:
        try:
            self.site.check("OPTIONS", scope_headers(scope))  # a safe method: the Host rule alone
        except ApiError as exc:
            return _json(exc.status, error_body(exc.code, exc.message), exc.headers)
        found = refusal(self.config, headers)
        if found is None:
            return None
        # The answer depends on the Origin: no cache may reuse it for another.
        return _json(403, error_body(*found), {"Vary": "Origin"})


def _json(status: int, body: dict[str, object], headers: dict[str, str]) -> ASGIResponse:
    return ASGIResponse(
        body=msgspec.json.encode(body), status_code=status, media_type="application/json", headers=headers
    )
