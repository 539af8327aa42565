"""API keys: query keys, admin keys and widget keys, sent as ``Authorization: Bearer <key>``.

* query keys may ask and search; admin keys may also manage documents (routes marked
  ``opt={"admin": True}``); widget keys are query keys bound to a list of page origins, checked
  against the request's ``Origin`` on every call, with their own (lower) rate limit.
* With no keys configured at all the service is open (``rag serve`` then refuses to bind anything
  but loopback) and callers are rate limited per client address instead of per key.
* Widget keys are limited per visitor (key and client address), under a ceiling per key; wrong keys
  are limited per client address, so keys cannot be guessed at speed.
* Health, metrics, the OpenAPI schema and the widget's own files need no key.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from rag.api.errors import ApiError
from rag.api.ratelimit import RateLimiter, retry_after
from rag.config import Settings
from rag.errors import ConfigError

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/widget.js", "/widget/demo"})
PUBLIC_PREFIXES = ("/schema",)


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``role`` is "admin", "query", "widget" or "open" (no keys configured)."""

    role: str
    identity: str  # what the rate limit counts against (never the raw key)


@dataclass(frozen=True)
class Keyring:
    """The configured keys, parsed once."""

    query: tuple[str, ...]
    admin: tuple[str, ...]
    widget: tuple[tuple[str, frozenset[str]], ...]  # (key, allowed origins)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """Parse ``settings.widget_keys`` entries of the form ``key@origin1|origin2``."""
        widget = []
        for entry in settings.widget_keys:
            key, sep, origins = entry.partition("@")
            allowed = frozenset(o.strip().rstrip("/") for o in origins.split("|") if o.strip())
            if not key.strip() or not sep or not allowed:
                raise ConfigError(
                    f"widget key entry {entry!r} must look like key@https://site.example|https://other.example"
                )
            widget.append((key.strip(), allowed))
        return cls(tuple(settings.api_keys), tuple(settings.admin_keys), tuple(widget))

    @property
    def open(self) -> bool:
        """True when no key of any kind is configured."""
        return not (self.query or self.admin or self.widget)

    def widget_origins(self) -> set[str]:
        """Every origin some widget key allows (they need CORS too)."""
        return {o for _, allowed in self.widget for o in allowed}

    def identify(self, token: str, origin: str | None) -> Caller:
        """The caller holding ``token``, or ApiError 401 (unknown key) / 403 (widget key, wrong origin)."""
        # Compare against every key without stopping early, so timing does not reveal a prefix match.
        found: Caller | None = None
        for n, key in enumerate(self.admin):
            if hmac.compare_digest(key.encode(), token.encode()):
                found = Caller("admin", f"admin:{n}")
        for n, key in enumerate(self.query):
            if hmac.compare_digest(key.encode(), token.encode()) and found is None:
                found = Caller("query", f"query:{n}")
        widget_origins: frozenset[str] = frozenset()
        for n, (key, allowed) in enumerate(self.widget):
            if hmac.compare_digest(key.encode(), token.encode()) and found is None:
                found, widget_origins = Caller("widget", f"widget:{n}"), allowed
        if found is None:
            raise ApiError(401, "unauthorized", "invalid API key")
        if found.role == "widget" and (origin or "").rstrip("/") not in widget_origins:
            raise ApiError(403, "origin_not_allowed", "this widget key is not allowed from this page's origin")
        return found


def is_public(path: str) -> bool:
    """Paths that need no key."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def key_needed(path: str, opt: Mapping[str, Any]) -> str | None:
    """The key a keyed service asks for on ``path`` (a route with options ``opt``): "admin",
    "query" (any key: query, widget or admin), or None for public routes. The OpenAPI schema's
    ``security`` is written from this too."""
    if is_public(path) or opt.get("exclude_from_auth"):
        return None
    return "admin" if opt.get("admin") else "query"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class AuthGuard:
    """Litestar guard: authenticates, checks admin-only routes, applies the rate limit."""

    def __init__(self, settings: Settings, keyring: Keyring, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.keyring = keyring
        self.limiter = limiter or RateLimiter()

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler) -> None:
        needed = key_needed(connection.scope["path"], route_handler.opt)
        if needed is None:
            return
        caller = self.authenticate(connection)
        if needed == "admin" and caller.role not in ("admin", "open"):
            raise ApiError(403, "forbidden", "this route needs an admin key")
        s = self.settings
        if caller.role == "widget":
            # Each visitor has a bucket of their own, under one ceiling for the key as a whole.
            self._take(f"{caller.identity}@{client_address(connection)}", s.widget_rate_limit_per_minute)
            self._take(caller.identity, s.widget_key_rate_limit_per_minute)
        else:
            self._take(caller.identity, s.rate_limit_per_minute)
        connection.state.caller = caller

    def _take(self, identity: str, per_minute: int) -> None:
        wait = self.limiter.acquire(identity, per_minute)
        if wait > 0:
            raise _limited(wait, f"rate limit of {per_minute} requests per minute exceeded; retry later")

    def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
        """The caller of this request, or ApiError 401/403 (429 for an address that keeps guessing)."""
        client = client_address(connection)
        if self.keyring.open:
            return Caller("open", f"ip:{client}")
        token = bearer_token(connection)
        if token is None:
            raise ApiError(401, "unauthorized", "missing API key: send the header 'Authorization: Bearer <key>'")
        # Wrong keys are counted per address, and checked before the key is, so guessing stays slow.
        failures, per_minute = f"authfail:{client}", self.settings.auth_failures_per_minute
        wait = self.limiter.waiting(failures, per_minute)
        if wait > 0:
            raise _limited(wait, "too many requests with invalid API keys from this address; retry later")
        try:
            return self.keyring.identify(token, connection.headers.get("origin"))
        except ApiError as exc:
            if exc.status == 401:
                self.limiter.acquire(failures, per_minute)
            raise


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's address (behind a proxy, run Uvicorn with --forwarded-allow-ips to get the client's)."""
    return connection.client.host if connection.client else "unknown"


def _limited(wait: float, message: str) -> ApiError:
    return ApiError(429, "rate_limited", message, headers={"Retry-After": retry_after(wait)})
