/*
 * Embeddable chat widget for the document question-answering service.
 *
 *   <script src="https://HOST/widget.js" data-api-key="..." data-title="..." data-lang="ru" defer></script>
 *
 * Plain ES2018, no build step, no dependencies, no requests to anyone but HOST (the origin this
 * script was loaded from). Everything lives in one Shadow DOM root; the only global is
 * window.RagChat. DOM is built with createElement only (no innerHTML, no eval), and styles are a
 * constructable stylesheet adopted by the shadow root, so a strict host CSP (even with Trusted
 * Types) only has to allow HOST in script-src and connect-src.
 */
(function () {
  "use strict";
  if (window.RagChat && window.RagChat.mounted) return;

  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-api-key]');
  if (!script) return;
  var data = script.dataset;
  var API = new URL(script.src, location.href).origin;

  var STRINGS = {
    ru: {
      title: "Вопросы по документам",
      greeting: "Здравствуйте! Задайте вопрос — я отвечу по документам и покажу источники.",
      openChat: "Открыть чат", closeChat: "Закрыть чат", close: "Закрыть",
      clear: "Новый диалог", question: "Ваш вопрос", placeholder: "Ваш вопрос…",
      send: "Отправить", stop: "Остановить", you: "Вы:", bot: "Ответ:",
      thinking: "Ищу ответ в документах", sources: "Источники", source: "Источник", page: "стр.",
      more: "Показать фрагмент целиком", less: "Свернуть фрагмент",
      refused: "В документах нет ответа", retry: "Повторить",
      footer: "Ответы составлены по документам — проверяйте источники.",
      e401: "Сервис не принял ключ виджета (401). Сообщите администратору сайта.",
      e403: "Этому сайту не разрешено обращаться к сервису (403). Сообщите администратору сайта.",
      e429: "Слишком много вопросов подряд. Подождите немного и повторите.", wait: "Можно повторить через {s} с.",
      e4xx: "Запрос не принят: ", e5xx: "Сервис временно недоступен. Повторите попытку чуть позже.",
      network: "Нет связи с сервисом. Проверьте подключение к сети и повторите.",
      interrupted: "Ответ прервался. Повторите попытку.", failed: "Не удалось подготовить ответ: ",
      stopped: "Остановлено.", noKey: "Виджет не настроен: в теге нет data-api-key."
    },
    en: {
      title: "Ask the documents",
      greeting: "Hello! Ask a question and I will answer from the documents, with sources.",
      openChat: "Open chat", closeChat: "Close chat", close: "Close",
      clear: "New conversation", question: "Your question", placeholder: "Your question…",
      send: "Send", stop: "Stop", you: "You:", bot: "Answer:",
      thinking: "Searching the documents", sources: "Sources", source: "Source", page: "p.",
      more: "Show the whole passage", less: "Collapse the passage",
      refused: "Not found in the documents", retry: "Retry",
      footer: "Answers are drawn from the documents — check the sources.",
      e401: "The service did not accept this widget's key (401). Please tell the site administrator.",
      e403: "This site is not allowed to use the service (403). Please tell the site administrator.",
      e429: "Too many questions in a short time. Wait a moment and retry.", wait: "You can retry in {s} s.",
      e4xx: "The request was rejected: ", e5xx: "The service is temporarily unavailable. Please retry shortly.",
      network: "Cannot reach the service. Check your network connection and retry.",
      interrupted: "The answer was interrupted. Please retry.", failed: "The answer could not be prepared: ",
      stopped: "Stopped.", noKey: "The widget is not configured: the tag has no data-api-key."
    }
  };
  var lang = (data.lang || document.documentElement.lang || "ru").slice(0, 2).toLowerCase();
  var T = STRINGS[lang] || STRINGS.ru;
  if (!STRINGS[lang]) lang = "ru";

  var cfg = {
    key: data.apiKey || "",
    title: data.title || T.title,
    greeting: data.greeting || T.greeting,
    left: data.position === "bottom-left",
    open: data.open === "true" || data.open === "",
    color: data.color || "",
    // Seconds without a byte from the service before a started answer counts as interrupted.
    timeout: Math.max(1, +data.timeout || 90)
  };
  var STORE = "ragchat:" + API + ":" + cfg.title;
  var MAX_KEPT = 40;
  var EXCERPT = 160;
  var uid = "ragchat-" + Math.random().toString(36).slice(2, 8);

  /* ---- tiny DOM helper: h("div", {class: "x", onclick: fn}, [children]) ---- */
  var SVG_NS = "http://www.w3.org/2000/svg";
  function h(tag, attrs, kids) {
    var el = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    });
    (kids || []).forEach(function (c) {
      if (c !== null && c !== undefined) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }
  function icon(d) {
    return h("svg:svg", { viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true", focusable: "false" },
      [h("svg:path", { d: d, fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round" })]);
  }
  var ICON_CHAT = "M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-5A8 8 0 1 1 21 12z";
  var ICON_X = "M6 6l12 12M18 6L6 18";
  var ICON_SEND = "M4 12l16-8-6 16-2.5-6.5L4 12z";
  var ICON_NEW = "M12 5v14M5 12h14";
  var ICON_STOP = "M7 7h10v10H7z";

  /* ---- styles ---- */
  var STYLES = [
    ":host{all:initial!important;position:fixed!important;z-index:2147483000!important;display:block!important;",
    "  bottom:0!important;right:0!important;width:0!important;height:0!important;visibility:visible!important;opacity:1!important;",
    "  --accent:#0b5cad;--on-accent:#fff;--ring:#0b5cad;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa}",
    "*,*::before,*::after{box-sizing:border-box}",
    ".root{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--fg);",
    "  text-align:left;letter-spacing:normal;text-transform:none;direction:ltr}",
    "button{font:inherit;color:inherit;cursor:pointer}",
    ":focus-visible{outline:3px solid #f0b400;outline-offset:2px}",
    "textarea:focus{outline:2px solid var(--ring);outline-offset:0;border-color:var(--ring)}",
    ".launcher{position:fixed;bottom:20px;right:20px;width:56px;height:56px;border-radius:50%;border:0;display:flex;",
    "  align-items:center;justify-content:center;background:var(--accent);color:var(--on-accent);",
    "  box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher svg{width:26px;height:26px}",
    ".left .launcher,.left .panel{right:auto;left:20px}",
    ".panel{position:fixed;bottom:88px;right:20px;width:384px;height:600px;max-height:calc(100vh - 108px);",
    "  display:flex;flex-direction:column;background:#fff;border:1px solid var(--line);border-radius:12px;",
    "  box-shadow:0 12px 40px rgba(0,0,0,.22);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:4px;padding:10px 8px 10px 16px;background:var(--accent);color:var(--on-accent)}",
    "h2{flex:1;margin:0;font-size:16px;font-weight:600;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".icon{width:36px;height:36px;display:flex;align-items:center;justify-content:center;border:0;border-radius:8px;",
    "  background:transparent;color:inherit}",
    ".icon:hover{background:rgba(127,127,127,.22)}",
    ".log{flex:1;overflow-y:auto;padding:14px 14px 6px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}",
    ".msg{max-width:92%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".user{align-self:flex-end;background:var(--accent);color:var(--on-accent);border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:var(--soft);border:1px solid #e3e7eb;border-bottom-left-radius:4px}",
    ".refused{background:#fff8e6;border-color:#e5c07b}",
    ".error{background:#ffebe9;border-color:#f5a3a3;color:#7d0a16}",
    ".tag{display:block;font-size:12px;font-weight:600;margin-bottom:2px;color:#6b4a00}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".thinking,.note{color:var(--muted);font-style:italic}",
    ".dots::after{content:'';display:inline-block;width:1.2em;text-align:left;animation:dots 1.2s steps(4) infinite}",
    "@keyframes dots{0%{content:''}25%{content:'.'}50%{content:'..'}75%{content:'...'}}",
    ".ref{font-size:11px;font-weight:600;vertical-align:super;line-height:1;padding:1px 4px;margin:0 1px;",
    "  border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--fg)}",
    ".cites{margin:8px 0 0;padding:8px 0 0;border-top:1px solid var(--line);white-space:normal}",
    ".cites h3{margin:0 0 6px;font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}",
    ".cites ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:6px}",
    ".cite{display:flex;gap:8px;background:#fff;border:1px solid #e3e7eb;border-radius:8px;padding:7px 9px}",
    ".num{flex:none;width:20px;height:20px;border-radius:50%;background:var(--accent);color:var(--on-accent);",
    "  font-size:11px;font-weight:700;display:flex;align-items:center;justify-content:center}",
    ".cite-body{min-width:0;flex:1}",
    ".cite-title{display:block;font-weight:600;font-size:13px;overflow-wrap:anywhere}",
    ".cite-page{font-weight:400;color:var(--muted);white-space:nowrap}",
    ".cite-text{display:block;font-size:13px;color:#3d444d;margin-top:2px;white-space:pre-wrap}",
    ".more{margin-top:4px;padding:2px 0;border:0;background:none;color:#0a4f94;text-decoration:underline;font-size:12px}",
    ".retry{display:inline-block;margin-top:8px;padding:5px 12px;border:1px solid #7d0a16;border-radius:6px;",
    "  background:#fff;color:#7d0a16;font-weight:600}",
    "form{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--line);background:#fff}",
    "textarea{flex:1;resize:none;min-height:40px;max-height:120px;padding:9px 11px;border:1px solid #8c959f;border-radius:8px;",
    "  font:inherit;color:var(--fg);background:#fff}",
    "textarea::placeholder{color:#6e7781}",
    ".send{width:40px;height:40px;flex:none;display:flex;align-items:center;justify-content:center;border:0;border-radius:8px;",
    "  background:var(--accent);color:var(--on-accent)}",
    ".send:disabled{opacity:.5;cursor:default}",
    ".foot{margin:0;padding:0 12px 8px;font-size:11px;color:var(--muted);background:#fff}",
    "@media (max-width:480px){.panel,.left .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0;border:0}",
    "  .open .launcher{display:none}.msg{max-width:100%}}",
    "@media (prefers-reduced-motion:reduce){.dots::after{animation:none;content:'...'}}"
  ].join("\n");

  /* ---- state ---- */
  var messages = load();
  var busy = null; // AbortController of the request in flight
  var busySince = 0; // when it started: a second click of a double-click is not a Stop
  var ui = {};

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function save() {
    try { sessionStorage.setItem(STORE, JSON.stringify(messages.slice(-MAX_KEPT))); } catch (e) { /* storage off */ }
  }
  function saveOpen(open) {
    try { sessionStorage.setItem(STORE + ":open", open ? "1" : "0"); } catch (e) { /* storage off */ }
  }

  /* ---- colours: pick readable text on the accent (WCAG contrast) ---- */
  function srgb(color) {
    // Any CSS colour (oklch(), color(display-p3 ...), names) as "r, g, b" in sRGB, via a canvas:
    // computed styles keep such colours in their own notation, whose numbers are not 0-255.
    try {
      var x = document.createElement("canvas").getContext("2d");
      x.fillStyle = "#000";
      x.fillStyle = color;
      x.fillRect(0, 0, 1, 1);
      var d = x.getImageData(0, 0, 1, 1).data;
      return d[0] + ", " + d[1] + ", " + d[2];
    } catch (e) { return null; }
  }
  function luminance(rgb) {
    var c = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(function (v) {
      v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function themeRule(probe) {
    if (!cfg.color || !(window.CSS && window.CSS.supports && window.CSS.supports("color", cfg.color))) return "";
    probe.style.color = cfg.color; // CSSOM property writes are allowed under a strict style-src
    var rgb = getComputedStyle(probe).color;
    probe.style.color = "";
    var onWhite = 1.05 / (luminance(srgb(rgb) || rgb) + 0.05); // contrast ratio against white
    var onAccent = onWhite >= 4.5 ? "#fff" : "#111";
    // Focus rings need 3:1 against the white panel (WCAG 2.2 non-text contrast).
    var ring = onWhite >= 3 ? rgb : "#1f2328";
    return ":host{--accent:" + rgb + ";--on-accent:" + onAccent + ";--ring:" + ring + "}";
  }
  function adoptStyles(shadow, css) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) { // browsers without constructable stylesheets
      shadow.appendChild(h("style", { text: css }));
    }
  }

  /* ---- rendering ---- */
  function answerNodes(text, numbers) {
    // "[2]" markers of listed sources become buttons that reveal and focus the cited passage.
    var out = [], re = /\[([1-9]\d?)\]/g, last = 0, m;
    while ((m = re.exec(text))) {
      var n = +m[1];
      if (numbers.indexOf(n) < 0) continue;
      out.push(text.slice(last, m.index));
      out.push(h("button", { type: "button", class: "ref", "data-n": n, "aria-label": T.source + " " + n,
        onclick: focusCitation, text: String(n) }));
      last = re.lastIndex;
    }
    out.push(text.slice(last));
    return out;
  }
  function focusCitation(ev) {
    var msg = ev.currentTarget.closest(".msg");
    var item = msg && msg.querySelector('.cite[data-n="' + ev.currentTarget.getAttribute("data-n") + '"]');
    if (!item) return;
    var more = item.querySelector(".more");
    if (more && more.getAttribute("aria-expanded") === "false") more.click();
    (more || item).focus();
  }
  function flat(text) { return String(text || "").replace(/\s+/g, " ").trim(); }
  function excerpt(text, answer) {
    // Start at the sentence the answer quotes, when it quotes one (the extractive backend does).
    text = flat(text);
    var probe = flat(answer).replace(/\[\d+\]/g, "").slice(0, 40).trim();
    var at = probe.length >= 20 ? text.indexOf(probe) : -1;
    var lead = at > 0 ? "…" : "";
    if (at > 0) text = text.slice(at);
    if (text.length <= EXCERPT) return lead + text;
    return lead + text.slice(0, EXCERPT).replace(/\s+\S*$/, "").replace(/[\s.,;:!?…-]+$/, "") + "…";
  }
  function citationList(cites, answer) {
    var items = cites.map(function (c, i) {
      var n = c.n || i + 1, full = String(c.text || "").replace(/\f/g, "\n"), short = excerpt(full, answer), textId = uid + "-c" + (Math.random() * 1e9 | 0);
      var body = h("bdi", { class: "cite-text", id: textId, text: short });
      // <bdi>: a title's right-to-left override stops at its end, not in the page label after it.
      var title = h("span", { class: "cite-title" }, [h("bdi", { text: c.title || c.doc_id || c.source || T.source + " " + n })]);
      // Paged sources (PDF) name the page the quoted text is on.
      if (c.page) title.append(" ", h("span", { class: "cite-page", text: "· " + T.page + "\u00a0" + c.page }));
      var kids = [title, body];
      if (short !== flat(full)) {
        kids.push(h("button", { type: "button", class: "more", "aria-expanded": "false", "aria-controls": textId,
          text: T.more, onclick: function (ev) {
            var open = ev.currentTarget.getAttribute("aria-expanded") !== "true";
            ev.currentTarget.setAttribute("aria-expanded", String(open));
            ev.currentTarget.textContent = open ? T.less : T.more;
            body.textContent = open ? full : short;
          } }));
      }
      return h("li", { class: "cite", "data-n": n, tabindex: "-1" },
        [h("span", { class: "num", "aria-hidden": "true", text: String(n) }),
          h("span", { class: "sr", text: T.source + " " + n + ": " }), h("span", { class: "cite-body" }, kids)]);
    });
    return h("div", { class: "cites" }, [h("h3", { text: T.sources }), h("ol", {}, items)]);
  }
  function renderMessage(m, el) {
    el = el || h("div", {});
    while (el.firstChild) el.removeChild(el.firstChild);
    if (m.role === "user") {
      el.className = "msg user";
      el.append(h("span", { class: "sr", text: T.you + " " }), m.text);
      return el;
    }
    el.className = "msg bot" + (m.refused ? " refused" : "") + (m.error ? " error" : "");
    el.appendChild(h("span", { class: "sr", text: T.bot + " " }));
    if (m.refused) el.appendChild(h("span", { class: "tag", text: T.refused }));
    if (m.error) {
      el.setAttribute("role", "alert");
      el.appendChild(document.createTextNode(m.error));
      if (m.retry) el.appendChild(h("div", {}, [h("button", { type: "button", class: "retry", text: T.retry,
        onclick: function () { retry(m); } })]));
      return el;
    }
    el.removeAttribute("role");
    if (!m.text && m.pending) {
      el.appendChild(h("span", { class: "thinking dots", text: T.thinking }));
      return el;
    }
    if (m.pending) {
      // While it streams, the answer is one text node that each piece is appended to (see ask()).
      el.__live = document.createTextNode(m.text || "");
      el.appendChild(el.__live);
      return el;
    }
    var cites = m.refused ? [] : (m.citations || []);
    answerNodes(m.text || "", cites.map(function (c, i) { return c.n || i + 1; }))
      .forEach(function (n) { el.append(n); });
    if (m.stopped) el.appendChild(h("span", { class: "note", text: " — " + T.stopped }));
    if (cites.length && !m.pending) el.appendChild(citationList(cites, m.text));
    return el;
  }
  function renderAll() {
    var log = ui.log;
    while (log.firstChild) log.removeChild(log.firstChild);
    if (!messages.length) log.appendChild(h("div", { class: "msg bot", text: cfg.greeting }));
    messages.forEach(function (m) { log.appendChild(renderMessage(m)); });
    scrollDown(true);
  }
  function scrollDown(force) {
    var log = ui.log;
    if (force || log.scrollHeight - log.scrollTop - log.clientHeight < 80) log.scrollTop = log.scrollHeight;
  }

  /* ---- talking to the service ---- */
  function errorText(status, body, retryAfter) {
    var msg = body && body.error && body.error.message;
    if (status === 401) return T.e401;
    if (status === 403) return T.e403;
    if (status === 429) return T.e429 + (/^\d+$/.test(retryAfter || "") ? " " + T.wait.replace("{s}", retryAfter) : "");
    if (status >= 400 && status < 500) return T.e4xx + (msg || status);
    return T.e5xx + " (" + status + ")";
  }
  function parseEvents(buffer, onEvent) {
    // SSE frames end with a blank line; returns the unfinished tail.
    var frames = buffer.split(/\r?\n\r?\n/);
    var tail = frames.pop();
    frames.forEach(function (frame) {
      var name = "message", lines = [];
      frame.split(/\r?\n/).forEach(function (line) {
        if (!line || line[0] === ":") return;
        var i = line.indexOf(":"), field = i < 0 ? line : line.slice(0, i);
        var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") lines.push(value);
      });
      if (!lines.length) return;
      var payload;
      try { payload = JSON.parse(lines.join("\n")); } catch (e) { return; }
      onEvent(name, payload);
    });
    return tail;
  }
  function ask(question) {
    var m = { role: "assistant", text: "", pending: true, question: question };
    messages.push(m);
    var el = renderMessage(m);
    el.setAttribute("aria-busy", "true");
    ui.log.appendChild(el);
    scrollDown(true);
    setBusy(new AbortController());
    var ctrl = busy, signal = busy.signal, finished = false, stalled = false, idle = 0, drawn = 0;

    // A long answer arrives in thousands of pieces: each is appended to the text on screen, and the
    // log scrolls at most every 50 ms (rebuilding and laying out the whole message once a piece
    // froze the page for seconds at a few thousand pieces).
    function scrollSoon() {
      if (drawn) return;
      drawn = setTimeout(function () { drawn = 0; scrollDown(false); }, 50);
    }
    function update() { renderMessage(m, el); scrollSoon(); }
    function arm() {
      clearTimeout(idle);
      idle = setTimeout(function () { stalled = true; ctrl.abort(); }, cfg.timeout * 1000);
    }
    arm();
    function fail(text, canRetry) {
      m.error = text; m.retry = canRetry; m.text = ""; m.citations = []; finished = true;
    }
    function onEvent(name, d) {
      if (name === "delta") {
        var piece = d.text || "";
        m.text += piece;
        if (el.__live && el.__live.parentNode === el) { el.__live.appendData(piece); scrollSoon(); return; }
      }
      else if (name === "citations") { m.citations = d.citations || []; m.refused = !!d.refused; }
      else if (name === "done") {
        m.text = d.answer != null ? d.answer : m.text; m.refused = !!d.refused;
        m.citations = d.citations || m.citations || []; finished = true;
      } else if (name === "error") { fail(T.failed + ((d.error && d.error.message) || ""), true); }
      update();
    }

    fetch(API + "/v1/ask", {
      method: "POST", mode: "cors", credentials: "omit", cache: "no-store", signal: signal,
      headers: { "Authorization": "Bearer " + cfg.key, "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ question: question, stream: true })
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return null; }).then(function (body) {
          fail(errorText(res.status, body, res.headers.get("Retry-After")), res.status !== 401 && res.status !== 403);
        });
      }
      var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
      return (function pump() {
        return reader.read().then(function (r) {
          arm();
          if (r.done) { parseEvents(buffer + decoder.decode() + "\n\n", onEvent); return; }
          buffer = parseEvents(buffer + decoder.decode(r.value, { stream: true }), onEvent);
          return finished ? reader.cancel() : pump();
        });
      })();
    }).catch(function (e) {
      if (stalled) { fail(m.text ? T.interrupted : T.network, true); return; }
      if (signal.aborted) {
        if (m.text) { m.stopped = true; finished = true; } else fail(T.stopped, true);
        return;
      }
      fail(m.text ? T.interrupted : T.network, true);
    }).then(function () {
      if (!finished && !m.error) fail(m.text ? T.interrupted : T.network, true);
      clearTimeout(idle);
      clearTimeout(drawn);
      delete m.pending;
      el.removeAttribute("aria-busy");
      renderMessage(m, el);
      // A long answer with its sources: show the question and the answer's beginning rather
      // than the last source.
      var log = ui.log, prev = el.previousElementSibling;
      var top = (prev && prev.classList.contains("user") ? prev : el).offsetTop - log.offsetTop - 8;
      if (el.offsetTop + el.offsetHeight - log.offsetTop - top > log.clientHeight) log.scrollTop = top;
      else scrollDown(true);
      save();
      setBusy(null);
    });
  }
  function retry(m) {
    if (busy) return;
    var i = messages.indexOf(m);
    if (i >= 0) messages.splice(i, 1);
    renderAll();
    ask(m.question);
    ui.input.focus();
  }
  function submit(ev) {
    if (ev) ev.preventDefault();
    if (busy) {
      // Only the Stop button stops an answer, and not as the second click of a double-click;
      // Enter while an answer streams keeps the next question in the box.
      if (ev && ev.type === "submit" && Date.now() - busySince > 500) busy.abort();
      return;
    }
    var q = ui.input.value.trim();
    if (!q) { ui.input.focus(); return; }
    if (!cfg.key) { messages.push({ role: "assistant", error: T.noKey }); renderAll(); return; }
    ui.input.value = "";
    autosize();
    if (!messages.length) ui.log.removeChild(ui.log.firstChild); // the greeting
    var m = { role: "user", text: q };
    messages.push(m);
    ui.log.appendChild(renderMessage(m));
    ask(q);
  }
  function autosize() {
    // CSSOM writes (not style attributes) are allowed under a strict style-src.
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
  }
  function setBusy(ctrl) {
    busy = ctrl;
    busySince = Date.now();
    var b = ui.send;
    b.replaceChild(icon(ctrl ? ICON_STOP : ICON_SEND), b.firstChild);
    b.setAttribute("aria-label", ctrl ? T.stop : T.send);
    b.title = ctrl ? T.stop : T.send;
  }

  /* ---- open / close ---- */
  function setOpen(open, focus) {
    ui.panel.hidden = !open;
    ui.root.classList.toggle("open", open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", open ? T.closeChat : T.openChat);
    ui.launcher.replaceChild(icon(open ? ICON_X : ICON_CHAT), ui.launcher.firstChild);
    saveOpen(open);
    if (open) { scrollDown(true); if (focus !== false) ui.input.focus(); }
    else if (focus !== false) ui.launcher.focus();
  }
  function clear() {
    if (busy) busy.abort();
    messages = [];
    save();
    renderAll();
    ui.input.focus();
  }

  function stopKey(ev) { ev.stopPropagation(); }

  function mount() {
    var host = document.createElement("rag-chat-widget");
    // Inline !important (via CSSOM, allowed under CSP) beats host rules such as `* {display:none !important}`.
    ["display:block", "position:fixed", "z-index:2147483000", "width:0", "height:0", "bottom:0", "right:0"]
      .forEach(function (d) { var p = d.split(":"); host.style.setProperty(p[0], p[1], "important"); });
    var shadow = host.attachShadow({ mode: "open" });
    var titleId = uid + "-title", panelId = uid + "-panel", inputId = uid + "-input";
    ui.launcher = h("button", { type: "button", class: "launcher", "aria-controls": panelId, "aria-expanded": "false",
      "aria-label": T.openChat, onclick: function () { setOpen(ui.panel.hidden); } }, [icon(ICON_CHAT)]);
    ui.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": titleId, tabindex: "0" });
    ui.input = h("textarea", { id: inputId, rows: 1, maxlength: 2000, placeholder: T.placeholder, autocomplete: "off",
      onkeydown: function (ev) { if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) submit(ev); },
      oninput: autosize });
    ui.send = h("button", { type: "submit", class: "send", "aria-label": T.send, title: T.send }, [icon(ICON_SEND)]);
    ui.panel = h("div", { class: "panel", id: panelId, role: "dialog", "aria-modal": "false", "aria-labelledby": titleId,
      hidden: true, onkeydown: function (ev) {
        // Keys typed here are the widget's: the page's shortcuts ("/", "s") must not see them. Out
        // of the shadow root they would look like keys pressed on <rag-chat-widget>, not in a field.
        ev.stopPropagation();
        if (ev.key === "Escape") setOpen(false);
      }, onkeyup: stopKey, onkeypress: stopKey }, [
      h("header", {}, [
        h("h2", { id: titleId, text: cfg.title }),
        h("button", { type: "button", class: "icon", "aria-label": T.clear, title: T.clear, onclick: clear }, [icon(ICON_NEW)]),
        h("button", { type: "button", class: "icon close", "aria-label": T.close, title: T.close,
          onclick: function () { setOpen(false); } }, [icon(ICON_X)])
      ]),
      ui.log,
      h("form", { onsubmit: submit }, [h("label", { class: "sr", for: inputId, text: T.question }), ui.input, ui.send]),
      h("p", { class: "foot", text: T.footer })
    ]);
    ui.root = h("div", { class: "root" + (cfg.left ? " left" : ""), lang: lang }, [ui.panel, ui.launcher]);
    shadow.appendChild(ui.root);
    document.body.appendChild(host);
    adoptStyles(shadow, STYLES + "\n" + themeRule(ui.root));
    renderAll();
    var wasOpen = null;
    try { wasOpen = sessionStorage.getItem(STORE + ":open"); } catch (e) { /* storage off */ }
    if (wasOpen === "1" || (wasOpen === null && cfg.open)) setOpen(true, false);
  }

  window.RagChat = {
    mounted: true,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    clear: function () { clear(); }
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
