"""GET /widget.js and GET /widget/demo: content, caching headers, versioning, CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from rag.api.widget import widget_routes, widget_version

SCRIPT = resources.files("rag").joinpath("widget", "widget.js").read_bytes()


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(Litestar(route_handlers=widget_routes)) as c:
        yield c


def test_version_follows_the_script_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed script gets a new version (so pinned URLs and ETags go stale); the same one keeps it."""
    from rag.api import widget

    shipped = widget_version()
    assert re.fullmatch(r"[0-9a-f]{12}", shipped)
    (tmp_path / "widget").mkdir()
    monkeypatch.setattr(widget.resources, "files", lambda package: tmp_path)
    versions = []
    for body in (SCRIPT, SCRIPT + b"\n// changed\n", SCRIPT):
        (tmp_path / "widget" / "widget.js").write_bytes(body)
        widget._asset.cache_clear()
        versions.append(widget_version())
    widget._asset.cache_clear()
    assert versions[0] == versions[2] == shipped and versions[1] != shipped


def test_script_is_served_with_etag_and_short_cache(client: TestClient[Litestar]) -> None:
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.content == SCRIPT
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["etag"] == f'"{widget_version()}"'
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_versioned_url_is_immutable(client: TestClient[Litestar]) -> None:
    r = client.get("/widget.js", params={"v": widget_version()})
    assert "immutable" in r.headers["cache-control"] and "max-age=31536000" in r.headers["cache-control"]
    stale = client.get("/widget.js", params={"v": "0000"})  # an old version must not be pinned for a year
    assert stale.headers["cache-control"] == "public, max-age=300"


def test_revalidation_returns_304(client: TestClient[Litestar]) -> None:
    r = client.get("/widget.js", headers={"If-None-Match": f'"{widget_version()}"'})
    assert r.status_code == 304 and r.content == b""
    assert client.get("/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_demo_page_shows_versioned_snippet_under_strict_csp(client: TestClient[Litestar]) -> None:
    r = client.get("/widget/demo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f"/widget.js?v={widget_version()}" in page
    assert "&lt;script src=" in page and "data-api-key=&quot;YOUR_WIDGET_KEY&quot;" in page
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'<style nonce="{nonce.group(1)}">' in page


def test_demo_page_escapes_the_key(client: TestClient[Litestar]) -> None:
    page = client.get("/widget/demo", params={"key": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in page
    assert "&quot;&gt;&lt;script&gt;alert(1)" in page


def test_script_is_plain_and_self_contained() -> None:
    """No eval, no innerHTML, no third-party URLs, one global."""
    text = SCRIPT.decode("utf-8")
    # Look at code only: drop block comments and "// ..." comments (not the "//" inside URLs).
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(^|\s)//\s.*$", "", text, flags=re.M)
    assert not re.search(r"\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write", text)
    urls = set(re.findall(r"https?://[^\s\"')]+", text))
    assert urls == {"http://www.w3.org/2000/svg"}, urls  # the SVG namespace is a name, not a request
    assert re.findall(r"window\.(\w+)\s*=", text) == ["RagChat"]
