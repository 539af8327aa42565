"""Rate limits per widget visitor and for wrong keys, against a real server, from two loopback addresses."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import run_server

SITE = "https://intranet.example"
Q = {"query": "Ташкент"}


def client_from(address: str) -> httpx.Client:
    """A client whose connections leave from ``address`` (the server sees it as the caller)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_one_widget_visitor_cannot_lock_out_the_others_and_guessing_is_throttled(make_settings: Any) -> None:
    settings = make_settings(api_keys=("qk",), widget_keys=(f"wk@{SITE}",))
    env = {
        "RAG_WIDGET_RATE_LIMIT_PER_MINUTE": "3",
        "RAG_WIDGET_KEY_RATE_LIMIT_PER_MINUTE": "5",
        "RAG_AUTH_FAILURES_PER_MINUTE": "2",
    }
    widget = {"Authorization": "Bearer wk", "Origin": SITE}
    with run_server(settings, env=env) as srv, client_from("127.0.0.1") as a, client_from("127.0.0.2") as b:
        url = srv.url + "/v1/search"
        first = [a.post(url, json=Q, headers=widget).status_code for _ in range(4)]
        assert first == [200, 200, 200, 429]  # visitor a spent their own bucket...
        second = [b.post(url, json=Q, headers=widget).status_code for _ in range(3)]
        assert second == [200, 200, 429]  # ...b still gets in, until the key's ceiling (5) is reached
        wrong = [b.post(url, json=Q, headers={"Authorization": "Bearer guess"}) for _ in range(3)]
        assert [r.status_code for r in wrong] == [401, 401, 429] and "retry-after" in wrong[-1].headers
        # Once an address is throttled even a right key waits, so a guess cannot be confirmed...
        assert b.post(url, json=Q, headers={"Authorization": "Bearer qk"}).status_code == 429
        # ...while other addresses are not affected.
        assert a.post(url, json=Q, headers={"Authorization": "Bearer qk"}).status_code == 200
