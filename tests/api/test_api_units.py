"""Unit checks of the security pieces that need no app: key parsing, token buckets, `rag serve`'s bind rule."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from rag.api.auth import Keyring
from rag.api.ratelimit import RateLimiter
from rag.cli.serve import check_bind, is_loopback
from rag.config import PROJECT_ROOT, load_settings
from rag.errors import ConfigError


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.acquire("k", 60) for _ in range(60)] == [0.0] * 60
    wait = limiter.acquire("k", 60)
    assert 0.9 < wait <= 1.0
    now[0] += 1.0
    assert limiter.acquire("k", 60) == 0.0
    assert limiter.acquire("other", 60) == 0.0
    assert limiter.acquire("k", 0) == 0.0  # 0 = unlimited


def test_widget_key_entries_are_validated(make_settings: Any) -> None:
    for bad in ("wk", "wk@", "@https://a.example"):
        with pytest.raises(ConfigError):
            Keyring.from_settings(make_settings(widget_keys=(bad,)))
    ring = Keyring.from_settings(make_settings(widget_keys=("k@https://a.example/|https://b.example",)))
    assert ring.widget_origins() == {"https://a.example", "https://b.example"}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_bind(load_settings(env={}, host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.com"])
def test_non_loopback_needs_keys(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match="without API keys"):
        check_bind(load_settings(env={}, host=host))
    for keys in ({"api_keys": ("k",)}, {"admin_keys": ("k",)}, {"widget_keys": ("k@https://a.example",)}):
        check_bind(load_settings(env={}, host=host, **keys))


def test_rag_serve_refuses_public_bind_without_keys_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    r = subprocess.run(
        [sys.executable, "-m", "rag", "serve", "--host", "0.0.0.0", "--port", "9"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("rag serve: error: refusing to serve on 0.0.0.0")
