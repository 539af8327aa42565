"""Browser fixtures: Debian's Chromium, the real app under Uvicorn, and host pages on other origins.

Three loopback origins take part: the API (``api``), a page allowed to use the widget key
``wk-test`` (``host``), and a page of another site (``foreign``), each on its own free port.
"""

from __future__ import annotations

import html
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rag.config import PROJECT_ROOT, Settings, replace

OUTPUT = PROJECT_ROOT / "tests" / "output"
WIDGET_JS = PROJECT_ROOT / "rag" / "widget" / "widget.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDGET_RATE = 12  # widget requests per minute per key; the 429 test spends them on purpose


@dataclass(frozen=True)
class Origins:
    api: str
    host: str
    foreign: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def chromium_path() -> str:
    """Debian's Chromium; skips the test without it, but fails under CI (CI=true)."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed; CI must run the browser tests (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); browser tests skipped")
    return path


@pytest.fixture(scope="module")
def origins() -> Origins:
    return Origins(*(f"http://127.0.0.1:{_free_port()}" for _ in range(3)))


@pytest.fixture(scope="module")
def widget_settings(seed_settings: Settings, origins: Origins) -> Settings:
    """The seed index, with widget keys bound to the host (and one to the foreign site)."""
    return replace(
        seed_settings,
        api_keys=("qk-test",),
        widget_keys=(
            f"wk-test@{origins.host}",
            f"wk-burst@{origins.host}",
            f"wk-foreign@{origins.foreign}",
            f"wk-demo@{origins.api}",
        ),
        widget_rate_limit_per_minute=WIDGET_RATE,
    )


@pytest.fixture(scope="module")
def api_server(widget_settings: Settings, origins: Origins) -> Iterator[str]:
    """The real app (rag.api.app.create_app) served by Uvicorn on loopback."""
    import uvicorn

    from rag.api.app import create_app

    port = int(origins.api.rsplit(":", 1)[1])
    config = uvicorn.Config(create_app(widget_settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the lifespan loads the embedder and the index
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield origins.api
    server.should_exit = True
    thread.join(timeout=15)


HOSTILE_CSS = """
:root, html { font-size: 40px !important; }
* { color: red !important; font-size: 40px !important; font-family: serif !important; line-height: 3 !important;
    background: yellow !important; border: 3px dashed lime !important; margin: 7px !important;
    padding: 9px !important; box-sizing: content-box !important; letter-spacing: 4px !important;
    text-transform: uppercase !important; visibility: visible !important; opacity: .9 !important; }
body * { display: inline !important; position: static !important; width: auto !important; height: auto !important; }
button, textarea, div, header, form { all: unset !important; }
"""

PAGE_CSS = """
body { margin: 0; font: 16px/1.6 Georgia, serif; color: #222; background: #f4f1ea; }
.top { background: #2d3e50; color: #fff; padding: 14px 32px; font: 600 18px system-ui, sans-serif; }
main { max-width: 640px; padding: 8px 32px; }
h1 { font: 600 28px system-ui, sans-serif; margin: 24px 0 8px; }
.host-btn { padding: 6px 14px; }
"""


def host_page(query: dict[str, str], api: str) -> str:
    """A plain intranet page with the widget tag built from the query (?key=&lang=&css=hostile&...)."""
    attrs = {
        "data-api-key": query.get("key", "wk-test"),
        "data-lang": query.get("lang", "ru"),
        "data-title": query.get("title", "Вопросы по статье" if query.get("lang", "ru") == "ru" else "Ask the article"),
    }
    for name in ("position", "greeting", "open", "color", "timeout"):
        if name in query:
            attrs[f"data-{name}"] = query[name]
    tag = (
        ""
        if "nowidget" in query
        else (
            f'<script src="{"" if query.get("api") == "self" else api}/widget.js" '
            + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
            + " defer></script>"
        )
    )
    css = PAGE_CSS + (HOSTILE_CSS if query.get("css") == "hostile" else "")
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Портал сотрудников</title>
<style nonce="host-nonce">{css}</style></head><body>
<div class="top">Портал сотрудников</div>
<main><h1>Обзор: Казахстан и Узбекистан</h1>
<p>Материалы отдела аналитики. Задайте вопрос по статье в окне помощника справа внизу: ответ
составляется по документам, под ним — ссылки на источники.</p>
<p><button class="host-btn" type="button">Кнопка страницы</button></p></main>
{tag}</body></html>"""


# What the stand-in service of ``?api=self`` pages streams before it falls silent.
STALL_TEXT = "Частичный ответ"
STALL_SECONDS = 8


class _HostHandler(BaseHTTPRequestHandler):
    """Host pages; with ``?api=self`` the page loads the widget from this origin, whose ``/v1/ask``
    is a service that sends one piece of an answer and then stays silent (a stalled stream)."""

    api = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path == "/widget.js":
            self._send(200, WIDGET_JS.read_bytes(), "text/javascript")
            return
        if parts.path != "/":
            self.send_error(404)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = host_page(query, self.api).encode()
        service = "'self'" if query.get("api") == "self" else self.api
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        # A strict policy: only the service's origin may run scripts or be fetched; no inline
        # styles but our own nonce'd one; Trusted Types on, so innerHTML-style sinks would throw.
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src {service}; connect-src {service}; "
            "style-src 'nonce-host-nonce'; img-src 'none'; base-uri 'none'; "
            "require-trusted-types-for 'script'",
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/v1/ask":
            self.send_error(404)
            return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(f'event: delta\ndata: {{"text": "{STALL_TEXT}"}}\n\n'.encode())
        self.wfile.flush()
        time.sleep(STALL_SECONDS)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


@pytest.fixture(scope="module")
def host_servers(api_server: str, origins: Origins) -> Iterator[Origins]:
    """Serve host pages on the ``host`` and ``foreign`` origins."""
    handler = type("Handler", (_HostHandler,), {"api": api_server})
    servers = [
        ThreadingHTTPServer(("127.0.0.1", int(o.rsplit(":", 1)[1])), handler) for o in (origins.host, origins.foreign)
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield origins
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture(scope="session")  # session: ordered before the session-scoped seed index
def chromium() -> str:
    """The browser's path, checked before any server is started."""
    return chromium_path()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in a fresh context (own sessionStorage); page errors fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(width: int = 1000, height: int = 720) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None,
        )
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, errors


def output_dir() -> Path:
    """tests/output (git-ignored): screenshots of the run."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
