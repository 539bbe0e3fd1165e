// The touchscreen: render the session state pushed by the kiosk over Server-Sent Events.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const ICONS = { ok: "\u2714", error: "\u2716", warning: "!", session_started: "\u263A", session_ended: "\u263A" };
  let deadline = null;
  window.kioskEvents = [];  // arrival times, read by the latency benchmark

  function both(pair) {
    const frag = document.createDocumentFragment();
    for (const [lang, text] of [["zh-CN", pair.zh], ["en", pair.en]]) {
      const s = document.createElement("span");
      s.lang = lang;
      s.textContent = text;
      frag.appendChild(s);
    }
    return frag;
  }
  function word(key, value) {
    const src = document.querySelector('#words [data-key="' + key + '"]');
    const node = src.cloneNode(true);
    if (value !== undefined) node.querySelectorAll("span").forEach((s) => { s.textContent = s.textContent.replace("%s", value); });
    node.removeAttribute("data-key");
    return node;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function renderIdle(idle) {
    const ranking = $("ranking"), books = $("new-books");
    clear(ranking); clear(books);
    $("ranking-box").hidden = !(idle && idle.ranking && idle.ranking.length);
    for (const row of (idle && idle.ranking) || []) {
      const li = document.createElement("li");
      li.textContent = row["class"] + " \u00B7 " + row.loans;
      ranking.appendChild(li);
    }
    for (const title of (idle && idle.new_books) || []) {
      const li = document.createElement("li");
      li.textContent = title;
      books.appendChild(li);
    }
  }

  function renderSession(st) {
    $("open-desk").hidden = !(st.mode === "desk" || st.mode === "lend_for");
    $("mode-title").textContent = "";
    if (st.mode_title) $("mode-title").appendChild(both(st.mode_title));
    $("patron-name").textContent = st.patron ? st.patron.name : "";
    $("patron-class").textContent = st.patron ? st.patron["class"] : "";
    const last = $("last");
    if (st.last && st.last.kind !== "session_ended") {
      last.hidden = false;
      last.className = "last " + st.last.kind;
      $("last-icon").textContent = ICONS[st.last.kind] || "";
      $("last-title").textContent = st.last.title || "";
      clear($("last-message"));
      $("last-message").appendChild(both(st.last));
    } else if (!st.last) {
      last.hidden = true;
    }
    const results = $("results");
    clear(results);
    for (const r of st.results || []) {
      const li = document.createElement("li");
      li.className = r.kind;
      const icon = document.createElement("span");
      icon.className = "icon";
      icon.textContent = ICONS[r.kind] || "";
      const title = document.createElement("b");
      title.textContent = r.title;
      const msg = document.createElement("span");
      msg.className = "msg";
      msg.appendChild(both(r));
      li.append(icon, title, msg);
      results.appendChild(li);
    }
    const loans = $("loans");
    clear(loans);
    $("loans-box").hidden = !(st.mode === "patron" || st.mode === "lend_for");
    for (const l of st.loans || []) {
      const li = document.createElement("li");
      if (l.overdue) li.className = "overdue";
      const t = document.createElement("b");
      t.textContent = l.title;
      li.append(t, " ", l.overdue ? word("overdue") : word("due", l.due));
      loans.appendChild(li);
    }
    if (!(st.loans || []).length) loans.appendChild(Object.assign(document.createElement("li"), { className: "none" })).appendChild(word("none"));
  }

  function render(st) {
    if (st.event === "status") { $("offline").hidden = !st.offline; return; }
    $("offline").hidden = !st.offline;
    $("unavailable").hidden = st.available !== false;
    const idle = st.mode === "idle";
    document.body.dataset.mode = st.mode;
    $("idle").hidden = !idle;
    $("session").hidden = idle;
    if (idle) {
      // The session ended: nothing of the last student may stay on the screen.
      clear($("results")); clear($("loans"));
      $("patron-name").textContent = ""; $("patron-class").textContent = "";
      $("last").hidden = true;
      deadline = null;
      renderIdle(st.idle);
    } else {
      renderSession(st);
      deadline = st.seconds_left === null ? null : Date.now() + st.seconds_left * 1000;
    }
    tick();
  }

  function tick() {
    if (deadline === null) { $("countdown").textContent = ""; return; }
    $("countdown").textContent = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  }
  setInterval(tick, 250);

  $("lang").addEventListener("click", () => {
    document.body.classList.toggle("show-en");
    document.body.classList.toggle("show-zh");
  });
  $("done").addEventListener("click", () => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    fetch("done", { method: "POST", headers: { "X-CSRF-Token": token }, credentials: "same-origin" });
  });

  render(JSON.parse($("initial-state").textContent));
  function onState(e) {
    const st = JSON.parse(e.data);
    window.kioskEvents.push({ at: performance.timeOrigin + performance.now(), published_ms: st.published_ms, event: st.event });
    render(st);
  }
  function connect() {
    const source = new EventSource("events");
    source.onmessage = onState;
    source.addEventListener("status", onState);
    // EventSource retries a dropped stream itself, but gives up on an error answer (a
    // restarting kiosk, too many pages): then start again a little later.
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    };
  }
  connect();
})();
