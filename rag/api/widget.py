"""The embeddable chat widget: ``GET /widget.js`` and the demo page ``GET /widget/demo``.

The script is a static file shipped inside the package (``rag/widget/widget.js``). Its version is
the first 12 hex digits of the file's sha256: the demo snippet links ``/widget.js?v=<version>``,
which is cached for a year (``immutable``); the bare ``/widget.js`` URL is cached for five minutes
and revalidated by ETag, so page owners who copied an unversioned snippet still get updates.
Both routes are public (``exclude_from_auth``): the script holds no secrets, the key lives in the
host page's tag and is checked by ``/v1/ask``.
"""

from __future__ import annotations

import hashlib
import html
import secrets
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

SHORT_MAX_AGE = 300
LONG_MAX_AGE = 31_536_000
PUBLIC = {"exclude_from_auth": True}


@dataclass(frozen=True)
class _Asset:
    body: bytes
    version: str


@cache
def _asset(name: str) -> _Asset:
    body = resources.files("rag").joinpath("widget", name).read_bytes()
    return _Asset(body, hashlib.sha256(body).hexdigest()[:12])


def widget_version() -> str:
    """The content version of the shipped widget.js (used in its URL and ETag)."""
    return _asset("widget.js").version


@get("/widget.js", sync_to_thread=False, include_in_schema=False, opt=PUBLIC)
def widget_script(request: Request) -> Response[bytes]:
    """Serve the widget script, cacheable and versioned by content hash."""
    asset = _asset("widget.js")
    etag = f'"{asset.version}"'
    pinned = request.query_params.get("v") == asset.version
    headers = {
        "ETag": etag,
        "Cache-Control": (
            f"public, max-age={LONG_MAX_AGE}, immutable" if pinned else f"public, max-age={SHORT_MAX_AGE}"
        ),
        "X-Content-Type-Options": "nosniff",
        # Any page may load the script; the API key and origin checks guard the data.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    return Response(asset.body, media_type="text/javascript; charset=utf-8", headers=headers)


@get("/widget/demo", sync_to_thread=False, include_in_schema=False, opt=PUBLIC)
def widget_demo(request: Request) -> Response[str]:
    """An HTML page with the snippet to copy and the widget embedded (under a strict CSP)."""
    base = str(request.base_url).rstrip("/")
    src = f"{base}/widget.js?v={widget_version()}"
    # A key may be passed as ?key=... to try the widget here; it is only echoed back, escaped.
    key = request.query_params.get("key", "")
    lang = "en" if request.query_params.get("lang") == "en" else "ru"
    shown_key = key or "YOUR_WIDGET_KEY"
    snippet = (
        f'<script src="{src}"\n        data-api-key="{shown_key}"\n'
        f'        data-title="Вопросы по документам" data-lang="{lang}" defer></script>'
    )
    nonce = secrets.token_urlsafe(16)
    page = Template(_asset("demo.html").body.decode("utf-8")).substitute(
        nonce=nonce,
        snippet=html.escape(snippet),
        src=html.escape(src, quote=True),
        key=html.escape(shown_key, quote=True),
        lang=lang,
        version=widget_version(),
        origin=html.escape(base),
    )
    csp = (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'nonce-{nonce}'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
    )


widget_routes: list[HTTPRouteHandler] = [widget_script, widget_demo]

__all__ = ["widget_routes", "widget_version"]
