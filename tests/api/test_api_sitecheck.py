"""The host-name rules against DNS rebinding, without an app."""

from __future__ import annotations

import pytest

from rag.api.errors import ApiError
from rag.api.sitecheck import SiteCheck, split_host


@pytest.mark.parametrize(
    ("host", "name"),
    [("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8000", "::1"), ("LOCALHOST.", "localhost"), ("a.example", "a.example")],
)
def test_split_host(host: str, name: str) -> None:
    assert split_host(host) == name


def test_host_rules() -> None:
    open_ = SiteCheck((), keyed=False, origins=())
    for ok in ("127.0.0.1:8000", "localhost", "[::1]:1", "127.0.0.2", "app.localhost:3", None):
        assert open_.host_allowed(ok), ok
    for bad in ("evil.example", "127.0.0.1.evil.example", "10.0.0.1:8000", "localhost.evil.example"):
        assert not open_.host_allowed(bad), bad
    assert SiteCheck((), keyed=True, origins=()).host_allowed("rag.example")
    assert SiteCheck(("rag.example",), keyed=True, origins=()).host_allowed("localhost:8000")
    listed = SiteCheck(("rag.example", "*.corp.example"), keyed=True, origins=())
    assert listed.host_allowed("rag.example:443") and listed.host_allowed("a.corp.example")
    assert not listed.host_allowed("evil.example") and not listed.host_allowed("corp.example.evil")


def test_own_origin_writes_pass_with_or_without_default_ports() -> None:
    check = SiteCheck((), keyed=False, origins=())
    for origin, host in [("http://127.0.0.1:8000", "127.0.0.1:8000"), ("https://localhost", "localhost:443")]:
        check.check("POST", {"host": host, "origin": origin, "content-type": "text/plain"})
    with pytest.raises(ApiError, match="not allowed"):
        check.check("POST", {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8001"})
