"""Every security rule and limit: keys, admin routes, widget origins, CORS, rate limits, sizes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import SCRIPT, app_client

pytestmark = pytest.mark.asyncio
Q = {"question": "Какой товарооборот?"}
SITE, OTHER = "https://intranet.example", "https://evil.example"


def keyed(make_settings: Any, **overrides: Any) -> Any:
    return make_settings(
        api_keys=("qk",),
        admin_keys=("ak",),
        widget_keys=(f"wk@{SITE}|https://b.example",),
        cors_origins=("https://app.example",),
        **overrides,
    )


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def assert_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in r.text


async def test_missing_or_wrong_key_is_401(make_settings: Any) -> None:
    async with app_client(keyed(make_settings)) as client:
        r = await client.post("/v1/ask", json=Q)
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        assert_error(await client.post("/v1/ask", json=Q, headers=bearer("nope")), 401, "unauthorized")
        assert_error(await client.post("/v1/ask", json=Q, headers={"Authorization": "Basic qk"}), 401, "unauthorized")
        assert_error(await client.get("/v1/models"), 401, "unauthorized")
        assert (await client.post("/v1/ask", json=Q, headers=bearer("qk"))).status_code == 200


async def test_admin_routes_need_an_admin_key(make_settings: Any) -> None:
    async with app_client(keyed(make_settings)) as client:
        assert_error(await client.get("/v1/documents", headers=bearer("qk")), 403, "forbidden")
        assert_error(
            await client.post("/v1/documents?filename=a.txt", content=b"x", headers=bearer("qk")), 403, "forbidden"
        )
        assert_error(await client.delete("/v1/documents/x.txt", headers=bearer("qk")), 403, "forbidden")
        assert_error(await client.get("/v1/documents"), 401, "unauthorized")
        assert (await client.get("/v1/documents", headers=bearer("ak"))).status_code == 200
        assert (await client.post("/v1/ask", json=Q, headers=bearer("ak"))).status_code == 200


async def test_public_paths_need_no_key(make_settings: Any) -> None:
    async with app_client(keyed(make_settings)) as client:
        for path in ("/healthz", "/readyz", "/metrics", "/schema/openapi.json", "/widget.js", "/widget/demo"):
            assert (await client.get(path)).status_code == 200, path


async def test_widget_keys_are_bound_to_origins_and_query_only(make_settings: Any) -> None:
    async with app_client(keyed(make_settings)) as client:
        ok = await client.post("/v1/ask", json=Q, headers=bearer("wk", Origin=SITE))
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == SITE
        second = await client.post("/v1/ask", json=Q, headers=bearer("wk", Origin="https://b.example"))
        assert second.status_code == 200
        r = await client.post("/v1/ask", json=Q, headers=bearer("wk", Origin=OTHER))
        assert_error(r, 403, "origin_not_allowed")
        assert_error(await client.post("/v1/ask", json=Q, headers=bearer("wk")), 403, "origin_not_allowed")
        assert_error(await client.get("/v1/documents", headers=bearer("wk", Origin=SITE)), 403, "forbidden")
        # A query key is not bound to an origin.
        assert (await client.post("/v1/ask", json=Q, headers=bearer("qk", Origin=OTHER))).status_code == 200


async def test_cors_allow_list(make_settings: Any) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with app_client(keyed(make_settings)) as client:
        for origin in ("https://app.example", SITE):  # configured origin, and a widget key's origin
            r = await client.options("/v1/ask", headers={"Origin": origin, **preflight})
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == origin
            assert "access-control-allow-credentials" not in r.headers
            assert "authorization" in r.headers["access-control-allow-headers"].lower()
        r = await client.options("/v1/ask", headers={"Origin": OTHER, **preflight})
        assert_error(r, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in r.headers
        r = await client.post("/v1/ask", json=Q, headers=bearer("qk", Origin=OTHER))
        assert "access-control-allow-origin" not in r.headers
        r = await client.post("/v1/ask", json=Q, headers=bearer("qk", Origin="https://app.example"))
        assert r.headers["access-control-allow-origin"] == "https://app.example"
    async with app_client(make_settings()) as client:  # nothing configured: no cross-origin access at all
        r = await client.options("/v1/ask", headers={"Origin": OTHER, **preflight})
        assert_error(r, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in r.headers
        assert (await client.options("/v1/ask")).status_code == 204  # OPTIONS without an Origin is no preflight


ACRM, ACRH = "Access-Control-Request-Method", "Access-Control-Request-Headers"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": OTHER, ACRM: "POST"}, "origin_not_allowed"),
        ({"Origin": "null", ACRM: "POST"}, "origin_not_allowed"),
        ({"Origin": OTHER}, "origin_not_allowed"),  # Litestar takes any OPTIONS with an Origin for a preflight
        ({"Origin": OTHER, ACRM: "PUT"}, "origin_not_allowed"),  # the origin is checked first
        ({"Origin": SITE, ACRM: "PUT"}, "cors_not_allowed"),
        ({"Origin": SITE, ACRM: "post"}, "cors_not_allowed"),  # method names are case-sensitive
        ({"Origin": SITE, ACRM: "POST", ACRH: "authorization, x-a"}, "cors_not_allowed"),
    ],
)
async def test_refused_preflights_are_json_errors(make_settings: Any, headers: dict[str, str], code: str) -> None:
    async with app_client(keyed(make_settings)) as client:
        for path in ("/v1/ask", "/v1/documents", "/v1/nothing-here"):
            r = await client.options(path, headers=headers)
            assert_error(r, 403, code)
            assert r.headers["content-type"] == "application/json"
            assert not any(h.startswith("access-control-") for h in r.headers), r.headers
            assert OTHER not in r.text  # the origin is not echoed


@pytest.mark.parametrize("origin", [SITE, OTHER])
async def test_preflights_for_a_foreign_host_are_refused_like_other_requests(make_settings: Any, origin: str) -> None:
    preflight = {"Origin": origin, ACRM: "POST", ACRH: "authorization, content-type"}
    async with app_client(keyed(make_settings, allowed_hosts=("rag.example",))) as client:
        refused = await client.post("/v1/ask", json=Q, headers=bearer("qk", Host="rebind.example"))
        assert_error(refused, 400, "host_not_allowed")
        for path in ("/v1/ask", "/v1/documents", "/v1/nothing-here"):
            r = await client.options(path, headers={**preflight, "Host": "rebind.example:8000"})
            assert_error(r, 400, "host_not_allowed")
            assert r.json() == refused.json() and r.headers["content-type"] == "application/json"
            assert not any(h.startswith("access-control-") for h in r.headers), r.headers
        if origin == SITE:  # the rest is unchanged: an allowed origin on a host the server answers to
            for host in ("rag.example", "127.0.0.1:8000"):
                r = await client.options("/v1/ask", headers={**preflight, "Host": host})
                assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SITE, host
    async with app_client(make_settings(cors_origins=(SITE,))) as client:  # no keys: loopback names only
        r = await client.options("/v1/ask", headers={**preflight, "Host": "rebind.example"})
        assert_error(r, 400, "host_not_allowed")


async def test_rate_limits_per_key_with_retry_after(make_settings: Any) -> None:
    settings = keyed(make_settings, rate_limit_per_minute=3, widget_rate_limit_per_minute=2)
    async with app_client(settings) as client:
        for _ in range(3):
            assert (await client.post("/v1/search", json={"query": "Ташкент"}, headers=bearer("qk"))).status_code == 200
        r = await client.post("/v1/search", json={"query": "Ташкент"}, headers=bearer("qk"))
        assert_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 20
        # Another key has its own budget; widget keys have their own, lower one.
        assert (await client.post("/v1/search", json={"query": "Ташкент"}, headers=bearer("ak"))).status_code == 200
        widget = bearer("wk", Origin=SITE)
        codes = [
            (await client.post("/v1/search", json={"query": "Ташкент"}, headers=widget)).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        assert (await client.get("/healthz")).status_code == 200  # public paths are not limited


async def test_open_mode_limits_per_client_address(make_settings: Any) -> None:
    async with app_client(make_settings(rate_limit_per_minute=2)) as client:
        codes = [(await client.post("/v1/search", json={"query": "Ташкент"})).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


async def test_body_size_question_length_and_top_k_limits(make_settings: Any) -> None:
    settings = make_settings(max_body_bytes=2000, max_question_chars=100, max_top_k=5)
    async with app_client(settings) as client:
        assert_error(await client.post("/v1/ask", json={"question": "x" * 3000}), 413, "body_too_large")
        assert_error(await client.post("/v1/ask", json={"question": "вопрос " * 20}), 400, "question_too_long")
        assert_error(await client.post("/v1/search", json={"query": "q" * 101}), 400, "query_too_long")
        assert_error(await client.post("/v1/ask", json={**Q, "top_k": 6}), 400, "invalid_top_k")
        assert_error(await client.post("/v1/ask", json={**Q, "top_k": 0}), 400, "invalid_top_k")
        assert_error(await client.post("/v1/search", json={"query": "Ташкент", "top_k": 99}), 400, "invalid_top_k")
        chat = {"messages": [{"role": "user", "content": "Ташкент"}], "top_k": 99}
        assert_error(await client.post("/v1/chat/completions", json=chat), 400, "invalid_top_k")
        assert (await client.post("/v1/ask", json={**Q, "top_k": 5})).status_code == 200


async def test_upload_size_and_type_limits(make_settings: Any) -> None:
    async with app_client(make_settings(max_upload_bytes=1000, max_body_bytes=500), headers=SCRIPT) as client:
        # Uploads have their own limit, above the general body limit.
        assert (await client.post("/v1/documents?filename=ok.txt", content="Текст. ".encode() * 50)).status_code == 201
        big = b"a" * 1001
        assert_error(await client.post("/v1/documents?filename=big.txt", content=big), 413, "upload_too_large")
        assert_error(await client.post("/v1/documents", files={"file": ("big.txt", big)}), 413, "upload_too_large")
        huge = b"a" * 200_000
        assert_error(await client.post("/v1/documents?filename=huge.txt", content=huge), 413, "upload_too_large")
        assert_error(
            await client.post("/v1/documents", files={"file": ("x.exe", b"MZ\x90\x00")}), 415, "unsupported_file_type"
        )
        assert_error(await client.post("/v1/documents", files={"file": ("x.pdf", b"%PDF-1.4")}), 415, "bad_document")
        assert_error(await client.post("/v1/documents", files={"file": ("x.txt", b"ab\x00cd")}), 415, "bad_document")
        assert_error(await client.post("/v1/documents", files={"file": ("x.md", b"\xff\xfe\xfa")}), 415, "bad_document")
        assert_error(await client.post("/v1/documents", content=b"no name"), 400, "missing_filename")
        assert_error(await client.post("/v1/documents", files={"other": ("a.txt", b"x")}), 400, "missing_file")
        # A client's directories are dropped from the name.
        r = await client.post("/v1/documents?filename=../../etc/evil.txt", content=b"Evil text.")
        assert r.status_code == 201 and r.json()["doc_id"] == "evil.txt"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{bad json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b'{"question": "\xff"}', 400, "invalid_json"),
        (b"[]", 422, "invalid_request"),
        (b'"text"', 422, "invalid_request"),
        (b"{}", 422, "invalid_request"),
        (b'{"question": 42}', 422, "invalid_request"),
        (b'{"question": null}', 422, "invalid_request"),
        (b'{"question": "ok", "top_k": "five"}', 422, "invalid_request"),
        (b'{"question": "ok", "stream": "yes"}', 422, "invalid_request"),
        (b'{"question": "   "}', 400, "invalid_input"),
        (b'{"question": ""}', 400, "invalid_input"),
    ],
)
async def test_bad_bodies_are_400_or_422_never_500(make_settings: Any, body: bytes, status: int, code: str) -> None:
    async with app_client(make_settings()) as client:
        r = await client.post("/v1/ask", content=body, headers={"Content-Type": "application/json"})
    assert_error(r, status, code)


async def test_bad_bodies_on_every_json_route(make_settings: Any) -> None:
    bodies = [b"{", b"[1,2]", b'{"messages": "hi"}', b'{"messages": [{"role": 1}]}', b'{"query": ["a"]}', b"\xff\xfe"]
    async with app_client(make_settings()) as client:
        for path in ("/v1/ask", "/v1/search", "/v1/chat/completions"):
            for body in bodies:
                r = await client.post(path, content=body, headers={"Content-Type": "application/json"})
                assert r.status_code in (400, 422), (path, body, r.status_code, r.text)
                assert r.json()["error"]["code"] in ("invalid_json", "invalid_request", "invalid_input"), r.text
        assert_error(await client.get("/v1/nothing-here"), 404, "not_found")
        assert_error(await client.get("/v1/ask"), 405, "method_not_allowed")


async def test_unexpected_failures_are_bare_500s(make_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.answer.generate.echo import EchoGenerator

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("secret internals /etc/passwd")

    monkeypatch.setattr(EchoGenerator, "stream", boom)
    async with app_client(make_settings()) as client:
        r = await client.post("/v1/ask", json=Q)
        assert_error(r, 500, "internal_error")
        assert "secret" not in r.text and "ZeroDivision" not in r.text
        r = await client.post("/v1/ask", json={**Q, "stream": True})
    assert r.status_code == 200  # the stream had started: the failure arrives as an error event
    last = 'event: error\ndata: {"error": {"code": "internal_error", "message": "internal server error"}}\n\n'
    assert r.text.endswith(last)
    assert "secret" not in r.text
