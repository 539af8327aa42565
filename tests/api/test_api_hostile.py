"""Hostile requests: foreign Host names, cross-site writes, deep JSON, and what errors must not leak."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.answer.llm_fakes import FakeLLM, LoopbackLLM, Script
from tests.api.conftest import SCRIPT, app_client, parse_sse

pytestmark = pytest.mark.asyncio
Q = {"question": "Какой товарооборот?"}
EVIL = "http://evil.example"
KEY_FRAGMENT = "sk-live-4f9a"


def assert_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


async def test_a_keyless_server_answers_only_loopback_host_names(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        for path in ("/healthz", "/v1/documents", "/widget/demo"):
            r = await client.get(path, headers={"Host": "rebind.evil.example:8000"})
            assert_error(r, 400, "host_not_allowed")
        r = await client.post("/v1/ask", json=Q, headers={"Host": "rebind.evil.example"})
        assert_error(r, 400, "host_not_allowed")
        for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
            assert (await client.get("/v1/documents", headers={"Host": host})).status_code == 200, host


async def test_keyed_servers_use_the_allowed_hosts_setting(make_settings: Any) -> None:
    settings = make_settings(api_keys=("qk",), allowed_hosts=("rag.example",))
    async with app_client(settings, headers={"Authorization": "Bearer qk"}) as client:
        assert_error(await client.post("/v1/ask", json=Q, headers={"Host": "other.example"}), 400, "host_not_allowed")
        assert (await client.post("/v1/ask", json=Q, headers={"Host": "rag.example"})).status_code == 200
        assert (await client.post("/v1/ask", json=Q, headers={"Host": "127.0.0.1:9"})).status_code == 200
    async with app_client(make_settings(api_keys=("qk",)), headers={"Authorization": "Bearer qk"}) as client:
        assert (await client.post("/v1/ask", json=Q, headers={"Host": "any.example"})).status_code == 200


async def test_keyless_writes_from_another_site_are_refused(make_settings: Any) -> None:
    settings = make_settings(cors_origins=("http://app.example",))
    async with app_client(settings) as client:
        planted = "Посеянный документ: [2][3] говорят иное."
        forms = [
            {"Origin": EVIL, "Content-Type": "text/plain"},
            {"Origin": "null", "Content-Type": "text/plain"},
            {"Origin": "http://127.0.0.1:9999", "Content-Type": "text/plain"},  # another local app
            {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
            {"Content-Type": "text/plain"},  # neither header (an old browser): needs X-Requested-With
            {"Content-Type": "application/x-www-form-urlencoded"},
        ]
        for headers in forms:
            r = await client.post("/v1/documents?filename=planted.txt", content=planted.encode(), headers=headers)
            assert_error(r, 403, "cross_site_request")
        r = await client.delete("/v1/documents/kazakhstan-uzbekistan.ru.txt", headers={"Origin": EVIL})
        assert_error(r, 403, "cross_site_request")
        assert_error(await client.post("/v1/ask", json=Q, headers={"Origin": EVIL}), 403, "cross_site_request")
        docs = (await client.get("/v1/documents")).json()["documents"]
        assert [d["doc_id"] for d in docs] == ["kazakhstan-uzbekistan.ru.txt"]
        # The service's own pages, allowed origins and scripts that say so still write.
        ok = [
            {"Origin": "http://127.0.0.1", "Content-Type": "text/plain"},
            {"Origin": "http://app.example", "Content-Type": "text/plain"},
            {"Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain"},
            {**SCRIPT, "Content-Type": "text/plain"},
            {"Content-Type": "application/octet-stream"},  # not sendable cross-site without a preflight
        ]
        for n, headers in enumerate(ok):
            r = await client.post(f"/v1/documents?filename=ok{n}.txt", content=b"Fine text.", headers=headers)
            assert r.status_code == 201, (headers, r.text)
        assert (await client.post("/v1/ask", json=Q, headers={"Origin": "http://127.0.0.1"})).status_code == 200
        assert (await client.post("/v1/ask", json=Q)).status_code == 200  # curl with JSON


@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000])
async def test_deeply_nested_json_is_a_400_without_a_traceback(
    make_settings: Any, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    wrapped = [body, b'{"question": ' + body + b"}", b'{"messages": [{"role": "user", "content": ' + body + b"}]}"]
    async with app_client(make_settings()) as client:
        for path in ("/v1/ask", "/v1/search", "/v1/chat/completions"):
            for content in wrapped:
                r = await client.post(path, content=content, headers={"Content-Type": "application/json"})
                assert r.status_code in (400, 422), (path, r.status_code, r.text[:200])
                assert r.json()["error"]["code"] in ("invalid_json", "invalid_request"), r.text[:200]
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR or rec.exc_info]


async def test_upstream_error_bodies_urls_and_key_fragments_stay_in_the_log(
    make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = f'{{"error": "Incorrect API key provided: {KEY_FRAGMENT}****"}}'
    llm = LoopbackLLM(FakeLLM(default=Script(kind="status", status=401, body=body)))
    settings = make_settings(generator="openai", openai_base_url=llm.url + "/v1", llm_retries=0, llm_fallback=False)
    chat = {"messages": [{"role": "user", "content": "Какой товарооборот?"}]}
    try:
        async with app_client(settings) as client:
            plain = await client.post("/v1/ask", json=Q)
            stream = await client.post("/v1/ask", json={**Q, "stream": True})
            chat_plain = await client.post("/v1/chat/completions", json=chat)
            chat_stream = await client.post("/v1/chat/completions", json={**chat, "stream": True})
            ready = await client.get("/readyz")
    finally:
        llm.close()
    assert_error(plain, 502, "generator_error")
    assert_error(chat_plain, 502, "generator_error")
    assert parse_sse(stream.text)[-1].json()["error"]["code"] == "generator_error"
    assert parse_sse(chat_stream.text)[-1].json()["error"]["code"] == "generator_error"
    for r in (plain, stream, chat_plain, chat_stream, ready):
        assert KEY_FRAGMENT not in r.text and llm.url not in r.text and "127.0.0.1" not in r.text, r.text
    # The operator can still see what went wrong, but not even a fragment of a key.
    assert "HTTP 401" in caplog.text and "Incorrect API key provided: [key]" in caplog.text
    assert KEY_FRAGMENT not in caplog.text


async def test_readyz_and_errors_name_no_paths_or_urls(make_settings: Any, tmp_path: Any) -> None:
    settings = make_settings(
        index_dir=tmp_path / "secret-place" / "index", openai_base_url="http://user:pw@llm.internal/v1"
    )
    async with app_client(settings) as client:
        ready = await client.get("/readyz")
        ask = await client.post("/v1/ask", json=Q)
    assert ready.status_code == 503 and ask.status_code == 503
    assert ask.json()["error"] == {"code": "index_missing", "message": "the service has no index yet"}
    for r in (ready, ask):
        assert "secret-place" not in r.text and str(tmp_path) not in r.text
    async with app_client(make_settings(generator="openai", openai_base_url="http://user:pw@127.0.0.1:9/v1")) as client:
        ready = await client.get("/readyz")
    assert ready.json()["generator"]["ok"] is False and "pw@" not in ready.text and "127.0.0.1" not in ready.text


async def test_the_admin_listing_shows_no_server_paths(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        docs = (await client.get("/v1/documents")).json()["documents"]
    assert docs and all("path" not in d and not d["source"].startswith("/") for d in docs), docs


async def test_planted_markers_never_become_citations(make_settings: Any) -> None:
    text = "Мост через канал Анхор имеет длину 120 метров [2][3]. Так пишут [4] и [ 5 ] тоже."
    async with app_client(make_settings(generator="extractive"), headers=SCRIPT) as client:
        assert (await client.post("/v1/documents?filename=planted.txt", content=text.encode())).status_code == 201
        r = await client.post("/v1/ask", json={"question": "Какая длина у моста через канал Анхор?", "top_k": 5})
    body = r.json()
    assert "planted.txt" in [c["doc_id"] for c in body["citations"]], body
    cited = {c["n"] for c in body["citations"]}
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", body["answer"])}
    assert markers == cited and len(cited) == len(body["citations"])
    assert "［2］［3］" in body["answer"]  # the document's own brackets, neutralized, offsets intact


async def test_hostile_uploads_are_ingested_or_refused_and_the_rest_stays(make_settings: Any) -> None:
    from tests.ingest.test_hostile_documents import HOSTILE

    # Every upload within the request (none becomes a background job), so each answers 201 or an error.
    async with app_client(make_settings(upload_job_bytes=10_000_000), headers=SCRIPT) as client:
        for name, (data, reason) in HOSTILE.items():
            r = await client.post("/v1/documents", files={"file": (name, data)})
            if reason is None:
                assert r.status_code == 201, (name, r.text)
            else:
                assert_error(r, 415, "bad_document")
                assert reason in r.json()["error"]["message"]
        for name in ("../../etc/passwd.txt", "..\\..\\win.ini.txt", "/abs/path.md"):
            r = await client.post("/v1/documents", files={"file": (name, b"Separators in the name.")})
            assert r.status_code == 201 and "/" not in r.json()["doc_id"] and "\\" not in r.json()["doc_id"], r.text
        big = b"x" * (50_000_001)
        assert_error(await client.post("/v1/documents", files={"file": ("big.txt", big)}), 413, "upload_too_large")
        docs = {d["doc_id"] for d in (await client.get("/v1/documents")).json()["documents"]}
    accepted = {n for n, (_, reason) in HOSTILE.items() if reason is None}
    assert accepted | {"kazakhstan-uzbekistan.ru.txt", "passwd.txt", "win.ini.txt", "path.md"} == docs


def multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"b0und") -> bytes:
    """A multipart/form-data body of (Content-Disposition parameters and other headers, value) parts."""
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; %s\r\n\r\n%s\r\n" % (boundary, h, v) for h, v in parts)
    return body + b"--%s--\r\n" % boundary


FILE_PART = (b'name="file"; filename="form.txt"', b"Text sent as a form.")
FORM = "multipart/form-data; boundary=b0und"


async def test_multipart_uploads_over_the_part_limit_are_413(make_settings: Any) -> None:
    async with app_client(make_settings(), headers=SCRIPT) as client:
        for fields, status in ((999, 201), (1000, 413), (5000, 413)):  # at most 1000 parts, the file's included
            parts = [(b'name="f%d"' % n, b"SECRET-%d" % n) for n in range(fields)]
            r = await client.post(
                "/v1/documents", content=multipart([*parts, FILE_PART]), headers={"Content-Type": FORM}
            )
            if status == 201:
                assert r.status_code == 201 and r.json()["doc_id"] == "form.txt", r.text
            else:
                assert_error(r, 413, "multipart_too_large")
                assert "1000" in r.json()["error"]["message"] and "SECRET" not in r.text


BAD = "invalid_multipart"


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("multipart/form-data", multipart([FILE_PART]), BAD),  # no boundary
        ("multipart/form-data; boundary=", multipart([FILE_PART]), BAD),
        ('multipart/form-data; boundary=""', multipart([FILE_PART]), BAD),
        ("multipart/form-data; charset=utf-8", multipart([FILE_PART]), BAD),
        ("multipart/form-data; boundary=other", multipart([FILE_PART]), BAD),  # not the body's boundary
        (FORM, b'--b0und\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n', BAD),  # cut off
        (FORM, multipart([(b'name="note"\r\nContent-Type: text/plain; charset=no-such-charset', b"SECRET")]), BAD),
        (FORM, multipart([(b'name="note"', b"SECRET \xff\xfe")]), BAD),  # a text field that is not UTF-8
        (
            FORM,
            multipart([(b'name="file"; filename="a.txt"\r\n' + b"X-Pad: 1\r\n" * 8, b"SECRET")]),
            "multipart_too_large",
        ),
        (FORM, multipart([(b'name="file"; filename="%s.txt"' % (b"S" * 5000), b"SECRET")]), "multipart_too_large"),
    ],
)
async def test_malformed_multipart_uploads_are_json_errors(
    make_settings: Any, content_type: str, body: bytes, code: str
) -> None:
    async with app_client(make_settings(), headers=SCRIPT) as client:
        r = await client.post("/v1/documents?filename=q.txt", content=body, headers={"Content-Type": content_type})
        assert_error(r, 400 if code == BAD else 413, code)
        assert "SECRET" not in r.text and "Traceback" not in r.text
        docs = [d["doc_id"] for d in (await client.get("/v1/documents")).json()["documents"]]
        assert docs == ["kazakhstan-uzbekistan.ru.txt"]


async def test_media_type_names_are_case_insensitive(make_settings: Any) -> None:
    async with app_client(make_settings(), headers=SCRIPT) as client:
        headers = {"Content-Type": "Multipart/Form-Data; Boundary=b0und"}
        r = await client.post("/v1/documents?filename=raw.txt", content=multipart([FILE_PART]), headers=headers)
        assert r.status_code == 201 and r.json()["doc_id"] == "form.txt", r.text  # read as a form, not as raw.txt
