"""Requests for another host name, and writes from another site, are refused before any handler.

* **DNS rebinding.** A page on ``attacker.example`` can make that name resolve to 127.0.0.1 and
  then call the service as its own origin; the ``Host`` header still says ``attacker.example``.
  The service always answers loopback host names (``localhost``, ``127.x.x.x``, ``[::1]``, any
  port), which no attacker's page can have, and the names in ``RAG_ALLOWED_HOSTS``; without keys
  nothing else, with keys any host while that setting is empty (keys guard all but public paths).
* **Cross-site writes.** Any page can send a "simple" request (a form, a ``text/plain`` body)
  without a CORS preflight, and a key-less service would act on it. A non-GET request without a
  bearer key is refused when its ``Origin`` is neither the service's own nor an allowed one
  (``RAG_CORS_ORIGINS`` and the widget keys' origins), when ``Sec-Fetch-Site`` says another site
  sent it, or, from a client that sends neither header (an old browser, or curl), when its body is
  not JSON and no ``X-Requested-With`` header comes with it. A request carrying
  ``Authorization: Bearer`` passes here: browsers send that header only after a CORS preflight
  that the allow-list approved, and the key itself is checked by the auth guard.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from rag.api.errors import ApiError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Content types a browser sends cross-site without asking the server first (no CORS preflight).
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def split_host(host: str) -> str:
    """The name in a ``Host`` header value, lower case, without port or brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def is_loopback(name: str) -> bool:
    """Whether ``name`` (from :func:`split_host`) can only mean this machine."""
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _matches(name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        p = pattern.strip().lower().rstrip(".")
        if p == "*" or p == name or (p.startswith("*.") and name.endswith(p[1:])):
            return True
    return False


def _netloc(origin: str) -> str:
    """``scheme://host[:port]`` to ``host[:port]`` without the scheme's default port."""
    scheme, _, rest = origin.strip().lower().partition("://")
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    return rest[: -len(default)] if default and rest.endswith(default) else rest


class SiteCheck:
    """The rules above, for one app's settings."""

    def __init__(self, allowed_hosts: Iterable[str], keyed: bool, origins: Iterable[str]) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.keyed = keyed
        self.origins = frozenset(o.rstrip("/").lower() for o in origins)

    def host_allowed(self, host: str | None) -> bool:
        """Whether a request naming ``host`` may be served (no Host header: not a browser, allowed)."""
        if not host:
            return True
        name = split_host(host)
        if is_loopback(name) or _matches(name, self.allowed_hosts):
            return True
        return self.keyed and not self.allowed_hosts

    def check(self, method: str, headers: dict[str, str]) -> None:
        """ApiError 400 for a foreign Host, 403 for a cross-site write; None when the request may go on."""
        host = headers.get("host")
        if not self.host_allowed(host):
            raise ApiError(400, "host_not_allowed", "this server does not answer to that host name")
        if method in SAFE_METHODS or headers.get("authorization", "")[:7].lower() == "bearer ":
            return
        origin = headers.get("origin")
        if origin is not None:
            scheme = origin.partition("://")[0]
            same = host is not None and _netloc(origin) == _netloc(f"{scheme}://{host}")
            if not (same or origin.rstrip("/").lower() in self.origins):
                raise ApiError(403, "cross_site_request", "requests from this page's origin are not allowed")
            return
        # Browsers set Sec-Fetch-Site themselves (pages cannot forge it); when present it is the answer.
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if fetch_site in ("cross-site", "same-site"):
            raise ApiError(403, "cross_site_request", "requests from another site are not allowed")
        if fetch_site in ("same-origin", "none"):
            return
        content_type = headers.get("content-type", "").lower()
        is_simple = not content_type or content_type.startswith(SIMPLE_TYPES)
        if method == "POST" and is_simple and "x-requested-with" not in headers:
            raise ApiError(
                403,
                "cross_site_request",
                "a body that is not JSON needs the header 'X-Requested-With' (any value) or an API key",
            )


class SiteCheckMiddleware(ASGIMiddleware):
    """Applies :class:`SiteCheck` to every HTTP request; errors go to the app's JSON error handler."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, check: SiteCheck) -> None:
        self.site = check

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        self.site.check(str(scope.get("method", "GET")), scope_headers(scope))
        await next_app(scope, receive, send)


def scope_headers(scope: Scope) -> dict[str, str]:
    """A request's headers by lower-case name (the last one of a repeated header)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
