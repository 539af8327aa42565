"""The widget in a real browser: Debian Chromium (headless) against the real app under Uvicorn.

Host pages live on other loopback origins and send a strict Content-Security-Policy with Trusted
Types, so any inline style or HTML-string sink in the widget would show up as a page error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.widget.conftest import STALL_TEXT, WIDGET_RATE, Origins, output_dir

# "chromium" first: without a browser, skip before building the index and starting servers.
pytestmark = pytest.mark.usefixtures("chromium", "host_servers")

FACT_QUESTION = "Каким был товарооборот между Казахстаном и Узбекистаном за январь–сентябрь 2025 года?"
WIDGET = "rag-chat-widget"

# Records what the newest answer bubble looked like at each DOM change.
WATCH = """() => {
  const root = document.querySelector('rag-chat-widget').shadowRoot;
  window.__seen = [];
  new MutationObserver(() => {
    const m = [...root.querySelectorAll('.msg.bot')].pop();
    if (m) window.__seen.push({busy: m.getAttribute('aria-busy') === 'true', thinking: !!m.querySelector('.thinking'),
                               text: m.textContent, cites: m.querySelectorAll('.cite').length});
  }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def url(origin: str, **query: str) -> str:
    return f"{origin}/?{urlencode(query)}"


def expect() -> Any:
    from playwright.sync_api import expect as _expect

    return _expect


def open_widget(page: Any, origin: str, **query: str) -> None:
    page.goto(url(origin, **query))
    launcher = page.locator(".launcher")
    expect()(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect()(page.get_by_role("dialog")).to_be_visible()


def ask(page: Any, question: str) -> Any:
    """Type and send a question; return the locator of its answer bubble once finished."""
    box = page.locator("textarea")
    box.fill(question)
    box.press("Enter")
    answer = page.locator(".msg.bot").last
    expect()(answer).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    return answer


def active_class(page: Any) -> str:
    """The class of the element focused inside the widget's shadow root."""
    return str(page.evaluate(f"() => document.querySelector('{WIDGET}').shadowRoot.activeElement?.className ?? ''"))


def test_answer_streams_in_with_citations_and_survives_reload(new_page: Any, origins: Origins) -> None:
    page = new_page()
    open_widget(page, origins.host)
    page.evaluate(WATCH)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as resp:
        answer = ask(page, FACT_QUESTION)
    assert resp.value.status == 200
    assert resp.value.headers["content-type"].startswith("text/event-stream")

    expect()(answer).to_contain_text("3,39")
    assert "refused" not in (answer.get_attribute("class") or "")
    cites = answer.locator(".cite")
    assert cites.count() >= 1
    first = cites.first
    assert first.locator(".cite-title").inner_text().strip()
    assert any(
        "3,39" in cites.nth(i).inner_text() or cites.nth(i).locator(".more").count() for i in range(cites.count())
    )
    seen = page.evaluate("() => window.__seen")
    # The answer text was on screen while the stream was still open, before the sources arrived.
    assert any(s["busy"] and not s["thinking"] and s["cites"] == 0 and "3,39" in s["text"] for s in seen), seen
    assert seen[-1]["cites"] >= 1 and not seen[-1]["busy"]

    page.screenshot(path=str(output_dir() / "widget.png"))

    # "Show the whole passage" expands the excerpt.
    expander = answer.locator(".more").first
    short = answer.locator(".cite-text").first.inner_text()
    expander.click()
    expect()(expander).to_have_attribute("aria-expanded", "true")
    assert len(answer.locator(".cite-text").first.inner_text()) > len(short)

    # The conversation and the open panel are kept for the page session.
    page.reload()
    expect()(page.get_by_role("dialog")).to_be_visible()
    expect()(page.locator(".msg.user")).to_contain_text(FACT_QUESTION)
    expect()(page.locator(".msg.bot").last).to_contain_text("3,39")
    assert page.locator(".msg.bot").last.locator(".cite").count() == cites.count()


def test_refusal_in_english(new_page: Any, origins: Origins) -> None:
    page = new_page()
    open_widget(page, origins.host, lang="en")
    expect()(page.locator("textarea")).to_have_attribute("placeholder", "Your question…")
    answer = ask(page, "What is the recipe for borscht?")
    expect()(answer).to_have_class("msg bot refused")
    expect()(answer.locator(".tag")).to_have_text("Not found in the documents")
    assert answer.locator(".cite").count() == 0


@pytest.mark.parametrize(
    ("site", "key", "status", "message"),
    [
        ("foreign", "wk-test", 403, "не разрешено"),  # a real key, used from another site's page
        ("host", "wk-unknown", 401, "не принял ключ"),
    ],
)
def test_rejected_key_shows_a_clear_message(
    new_page: Any, origins: Origins, site: str, key: str, status: int, message: str
) -> None:
    page = new_page()
    open_widget(page, getattr(origins, site), key=key)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask") and r.request.method == "POST") as resp:
        answer = ask(page, FACT_QUESTION)
    assert resp.value.status == status
    assert resp.value.json()["error"]["code"] in {"origin_not_allowed", "unauthorized"}
    expect()(answer).to_have_attribute("role", "alert")
    expect()(answer).to_contain_text(message)
    expect()(answer).to_contain_text(str(status))
    assert answer.locator(".retry").count() == 0  # retrying cannot help; the site owner must act


def test_rate_limit_then_network_down_then_retry(new_page: Any, origins: Origins, api_server: str) -> None:
    page = new_page()
    open_widget(page, origins.host, key="wk-burst")
    # Spend the key's minute allowance with cheap invalid requests from the same page.
    statuses = page.evaluate(
        """async ([api, n]) => { const out = [];
             for (let i = 0; i < n; i++) {
               const r = await fetch(api + '/v1/ask', {method: 'POST', body: JSON.stringify({question: ' '}),
                 headers: {'Authorization': 'Bearer wk-burst', 'Content-Type': 'application/json'}});
               out.push(r.status); }
             return out; }""",
        [api_server, WIDGET_RATE],
    )
    assert 429 not in statuses, statuses
    answer = ask(page, FACT_QUESTION)
    expect()(answer).to_contain_text("Слишком много вопросов")
    expect()(answer).to_contain_text(re.compile(r"через \d+ с"))  # Retry-After, exposed by CORS
    expect()(answer.locator(".retry")).to_be_visible()

    # Network down: the request never reaches the service.
    page.route(f"{api_server}/v1/ask", lambda route: route.abort("internetdisconnected"))
    page.locator(".retry").click()
    answer = page.locator(".msg.bot").last
    expect()(answer).to_contain_text("Нет связи с сервисом")
    page.unroute(f"{api_server}/v1/ask")
    assert page.locator(".msg.bot.error").count() == 1  # the retry replaced the old error


def test_keyboard_only(new_page: Any, origins: Origins) -> None:
    page = new_page()
    page.goto(url(origins.host))
    page.keyboard.press("Tab")  # the page's own button
    page.keyboard.press("Tab")
    assert active_class(page) == "launcher"
    page.keyboard.press("Enter")
    expect()(page.get_by_role("dialog")).to_be_visible()
    assert page.evaluate(f"() => document.querySelector('{WIDGET}').shadowRoot.activeElement.tagName") == "TEXTAREA"
    page.keyboard.type(FACT_QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".msg.bot").last
    expect()(answer).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    for _ in range(12):  # Shift+Tab back from the input to the last "show passage" control
        page.keyboard.press("Shift+Tab")
        if active_class(page) in {"more", "ref"}:
            break
    assert active_class(page) in {"more", "ref"}
    page.keyboard.press("Enter")
    expect()(answer.locator(".more[aria-expanded=true]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect()(page.get_by_role("dialog")).to_be_hidden()
    assert active_class(page) == "launcher"
    expect()(page.locator(".launcher")).to_have_attribute("aria-expanded", "false")


def _widget_styles(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const r = document.querySelector('rag-chat-widget').shadowRoot; const out = {};
             for (const sel of ['.launcher', '.panel', 'h2', '.log', '.msg.bot', 'textarea', '.send', '.foot']) {
               const el = r.querySelector(sel), cs = getComputedStyle(el), box = el.getBoundingClientRect();
               out[sel] = ['display', 'color', 'background-color', 'font-size', 'font-family', 'line-height',
                 'border-top-style', 'padding-top', 'margin-top', 'letter-spacing', 'text-transform', 'opacity']
                 .map(p => cs.getPropertyValue(p)).concat([box.x, box.y, box.width, box.height]); }
             return out; }"""
        )
    )


def test_host_css_cannot_reach_in_and_widget_css_cannot_leak_out(new_page: Any, origins: Origins) -> None:
    plain, hostile = new_page(), new_page()
    open_widget(plain, origins.host, greeting="Hi")
    open_widget(hostile, origins.host, greeting="Hi", css="hostile")
    assert _widget_styles(hostile) == _widget_styles(plain)

    # The other way round: the page's own elements look the same with and without the widget, and
    # the widget adds exactly one global.
    bare = new_page()
    bare.goto(url(origins.host, nowidget="1"))
    probe = """() => { const cs = getComputedStyle(document.querySelector('.host-btn'));
                       return [cs.borderRadius, cs.backgroundColor, cs.fontSize, cs.display, cs.boxSizing,
                               getComputedStyle(document.body).fontFamily,
                               Object.getOwnPropertyNames(window).filter(k => !k.startsWith('__'))]; }"""
    with_widget, without = plain.evaluate(probe), bare.evaluate(probe)
    assert with_widget[:6] == without[:6]
    assert set(with_widget[6]) - set(without[6]) == {"RagChat"}


def test_theme_colour_position_and_open_attributes(new_page: Any, origins: Origins) -> None:
    page = new_page()
    page.goto(url(origins.host, color="#ffd33d", position="bottom-left", open="true", greeting="Добрый день!"))
    expect()(page.get_by_role("dialog")).to_be_visible()
    launcher = page.locator(".launcher")
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 211, 61)"
    # A light theme colour gets dark text, keeping the contrast readable.
    assert launcher.evaluate("e => getComputedStyle(e).color") == "rgb(17, 17, 17)"
    assert launcher.bounding_box()["x"] < 100
    expect()(page.locator(".msg.bot").first).to_have_text("Добрый день!")


def test_a_light_colour_in_any_notation_gets_dark_text(new_page: Any, origins: Origins) -> None:
    """Computed styles keep oklch() and color(display-p3 ...) in their own notation; read as 0-255
    numbers they once made light yellows look dark, and gave them white text."""
    for colour in ("oklch(0.92 0.1 100)", "color(display-p3 1 0.95 0.4)", "#f5e663"):
        page = new_page()
        page.goto(url(origins.host, color=colour, open="true"))
        launcher = page.locator(".launcher")
        expect()(launcher).to_be_visible()
        assert launcher.evaluate("e => getComputedStyle(e).color") == "rgb(17, 17, 17)", colour
    page.goto(url(origins.host, color="oklch(0.35 0.15 260)", open="true"))
    assert page.locator(".launcher").evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"


def test_keys_typed_in_the_widget_stay_in_the_widget(new_page: Any, origins: Origins) -> None:
    """A page's shortcuts ("/" or "s" to jump to its search) ignore keys typed in fields, but a key
    leaving the shadow root looks pressed on <rag-chat-widget>, so they must not leave it."""
    page = new_page()
    open_widget(page, origins.host)
    page.evaluate(
        """() => { window.__keys = [];
           for (const t of ['keydown', 'keypress', 'keyup'])
             document.addEventListener(t, e => window.__keys.push(t + ':' + e.key)); }"""
    )
    page.locator("textarea").press_sequentially("what is a/b test")
    assert page.locator("textarea").input_value() == "what is a/b test"
    assert page.evaluate("() => window.__keys") == []
    page.keyboard.press("Escape")  # closes the panel, and is not the page's either
    expect()(page.get_by_role("dialog")).to_be_hidden()
    # (its keyup comes from the launcher, where focus went back: outside the panel, not typing)
    assert page.evaluate("() => window.__keys") == ["keyup:Escape"]


def test_enter_while_an_answer_streams_keeps_it_and_a_stalled_stream_ends(new_page: Any, origins: Origins) -> None:
    """The stand-in service of ``api=self`` sends one piece, then nothing for 8 s; the page gives up
    after its ``data-timeout`` of 2 s without a byte."""
    page = new_page()
    open_widget(page, origins.host, api="self", timeout="2")
    box = page.locator("textarea")
    box.fill("Первый вопрос?")
    box.press("Enter")
    answer = page.locator(".msg.bot").last
    expect()(answer).to_contain_text(STALL_TEXT)
    box.fill("Следующий вопрос?")
    box.press("Enter")  # while the first answer streams: neither a Stop nor a send
    assert box.input_value() == "Следующий вопрос?"
    expect()(answer).to_have_attribute("aria-busy", "true")
    expect()(answer).not_to_have_attribute("aria-busy", "true", timeout=6_000)
    expect()(answer).to_contain_text("Ответ прервался")
    expect()(answer.locator(".retry")).to_be_visible()
    assert page.locator(".msg.user").count() == 1


def test_an_answer_in_twenty_thousand_pieces_does_not_freeze_the_page(new_page: Any, origins: Origins) -> None:
    """Each piece is appended to the text on screen; rebuilding the message once a piece kept the
    page's main thread busy for over 20 s at 20,000 pieces (0.4 s now, `docs/widget.md`)."""
    import json
    import time

    pieces = 20_000
    body = "".join(f"event: delta\ndata: {json.dumps({'text': f'слово{i} '})}\n\n" for i in range(pieces))
    body += 'event: done\ndata: {"answer": null, "citations": [], "refused": false}\n\n'
    page = new_page()
    open_widget(page, origins.host, api="self")
    page.route("**/v1/ask", lambda r: r.fulfill(status=200, body=body, headers={"Content-Type": "text/event-stream"}))
    started = time.perf_counter()
    answer = ask(page, "Длинный ответ?")
    elapsed = time.perf_counter() - started
    expect()(answer).to_contain_text(f"слово{pieces - 1}")
    assert elapsed < 10, elapsed


def test_narrow_phone_screen(new_page: Any, origins: Origins) -> None:
    page = new_page(width=360, height=640)
    open_widget(page, origins.host)
    box = page.get_by_role("dialog").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 640)
    expect()(page.locator("textarea")).to_be_in_viewport()
    expect()(page.locator(".launcher")).to_be_hidden()  # the panel covers the screen; it has its own close
    page.get_by_role("button", name="Закрыть", exact=True).click()
    expect()(page.get_by_role("dialog")).to_be_hidden()
    expect()(page.locator(".launcher")).to_be_visible()


def test_accessibility_roles(new_page: Any, origins: Origins) -> None:
    page = new_page()
    open_widget(page, origins.host)
    dialog = page.get_by_role("dialog", name="Вопросы по статье")
    expect()(dialog).to_be_visible()
    log = dialog.get_by_role("log")
    expect()(log).to_have_attribute("aria-live", "polite")
    expect()(dialog.get_by_role("textbox", name="Ваш вопрос")).to_be_visible()
    expect()(dialog.get_by_role("button", name="Отправить")).to_be_visible()
    expect()(page.locator(".launcher")).to_have_attribute("aria-label", "Закрыть чат")


def test_demo_page_embeds_the_widget_under_its_own_csp(new_page: Any, api_server: str) -> None:
    page = new_page()
    page.goto(f"{api_server}/widget/demo?key=wk-demo")
    expect()(page.locator("#snippet")).to_contain_text(f"{api_server}/widget.js?v=")
    page.locator(".launcher").click()
    expect()(page.get_by_role("dialog")).to_be_visible()
    answer = ask(page, FACT_QUESTION)  # same-origin: the service's own page
    expect()(answer).to_contain_text("3,39")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'event: delta\ndata: {"text": "Частичный"}\n\nevent: error\n'
            'data: {"error": {"code": "generator_error", "message": "the model server went away"}}\n\n',
            "the model server went away",
        ),
        ('event: delta\ndata: {"text": "Частичный ответ"}\n\n', "Ответ прервался"),  # stream cut short
    ],
)
def test_failure_inside_the_stream(new_page: Any, origins: Origins, api_server: str, body: str, message: str) -> None:
    page = new_page()
    open_widget(page, origins.host)
    page.route(
        f"{api_server}/v1/ask",
        lambda route: route.fulfill(
            status=200, body=body, headers={"Content-Type": "text/event-stream", "Access-Control-Allow-Origin": "*"}
        ),
    )
    answer = ask(page, FACT_QUESTION)
    expect()(answer).to_contain_text(message)
    page.unroute(f"{api_server}/v1/ask")
    answer.locator(".retry").click()  # now the real service answers
    expect()(page.locator(".msg.bot").last).to_contain_text("3,39", timeout=60_000)
    assert page.locator(".msg.bot.error").count() == 0
