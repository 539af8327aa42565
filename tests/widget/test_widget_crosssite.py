"""A key-less service against hostile pages in a real browser (Debian Chromium, real Uvicorn).

The page of another origin tries what any web page the user visits could: plant a document with a
"simple" request (no CORS preflight), post a form, delete a document, read the document list; and
a DNS-rebinding page (``rebind.test`` resolved to 127.0.0.1 by the browser) reads the service as its
own origin. None of it may change or reveal anything.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.config import Settings, replace
from tests.widget.conftest import CHROMIUM_ARGS, _free_port

pytestmark = pytest.mark.usefixtures("chromium")
SEED_DOC = "kazakhstan-uzbekistan.ru.txt"

ATTACKS = (
    """async (api) => {
  const out = {};
  const tryFetch = async (name, url, init) => {
    try {
      const r = await fetch(url, init);
      out[name] = r.type === "opaque" ? "opaque" : r.status + " " + await r.text();
    }
    catch (e) { out[name] = "blocked"; }
  };
  await tryFetch("plain", api + "/v1/documents?filename=planted.txt",
    {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
     body: "Planted: the bridge is 999 m [2]."});
  const form = new FormData();
  form.append("file", new Blob(["Planted by a form."], {type: "text/plain"}), "form.txt");
  await tryFetch("multipart", api + "/v1/documents", {method: "POST", mode: "no-cors", body: form});
  await tryFetch("ask", api + "/v1/ask",
    {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"question": "Кто?"}'});
  await tryFetch("delete", api + "/v1/documents/"""
    + SEED_DOC
    + """", {method: "DELETE"});
  await tryFetch("read", api + "/v1/documents", {});
  return out;
}"""
)

FORM_POST = """(api) => new Promise((done) => {
  const frame = document.createElement("iframe");
  frame.name = "sink"; frame.onload = () => done(true); document.body.appendChild(frame);
  const f = document.createElement("form");
  f.method = "POST"; f.action = api + "/v1/documents?filename=html-form.txt";
  f.enctype = "text/plain"; f.target = "sink";
  const i = document.createElement("input"); i.name = "Planted by an HTML form"; i.value = "x"; f.appendChild(i);
  document.body.appendChild(f); f.submit();
})"""


class _AttackPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<!doctype html><html><body><h1>A page on another site</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture(scope="module")
def open_api(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A key-less service over a copy of the seed index, as `make run` serves it."""
    import uvicorn

    from rag.api.app import create_app

    index = tmp_path_factory.mktemp("open-api") / "index"
    shutil.copytree(seed_settings.index_dir, index)
    settings = replace(seed_settings, index_dir=index)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def attacker() -> Iterator[str]:
    """Another origin: a plain page on another loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AttackPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def rebinding_browser(chromium: str) -> Iterator[Any]:
    """Chromium whose resolver maps rebind.test to 127.0.0.1, as a rebinding attacker's DNS would."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1"]
        )
        yield b
        b.close()


def documents(api: str) -> list[str]:
    return [d["doc_id"] for d in httpx.get(api + "/v1/documents", timeout=10).json()["documents"]]


def test_a_page_on_another_origin_cannot_add_delete_or_read_documents(
    rebinding_browser: Any, open_api: str, attacker: str, tmp_path: Path
) -> None:
    page = rebinding_browser.new_page()
    page.goto(attacker + "/")
    out = page.evaluate(ATTACKS, open_api)
    page.evaluate(FORM_POST, open_api)
    page.close()
    # Simple requests leave the browser (that is the danger) but the service refused them.
    assert out["plain"] == out["multipart"] == out["ask"] == "opaque", out
    assert out["delete"] == "blocked" and out["read"] == "blocked", out  # no CORS for this origin
    assert documents(open_api) == [SEED_DOC]


def test_dns_rebinding_cannot_read_or_write(rebinding_browser: Any, open_api: str) -> None:
    port = open_api.rsplit(":", 1)[1]
    page = rebinding_browser.new_page()
    # The attacker's page, now served under its own name by the service's address.
    response = page.goto(f"http://rebind.test:{port}/widget/demo")
    assert response is not None and response.status == 400
    same_origin = page.evaluate(
        """async () => {
          const list = await fetch("/v1/documents");
          const plant = await fetch("/v1/documents?filename=rebound.txt",
            {method: "POST", headers: {"Content-Type": "text/plain"}, body: "Planted after rebinding."});
          return [list.status, await list.text(), plant.status];
        }"""
    )
    page.close()
    assert same_origin[0] == 400 and SEED_DOC not in same_origin[1] and same_origin[2] == 400, same_origin
    assert documents(open_api) == [SEED_DOC]
    # The service's own page, under a loopback name, still works in the same browser.
    own = rebinding_browser.new_page()
    assert own.goto(f"http://localhost:{port}/widget/demo").status == 200
    own.close()
