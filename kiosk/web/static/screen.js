// The touchscreen: render the session state pushed by the kiosk over Server-Sent Events.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const ICONS = { ok: "\u2714", error: "\u2716", warning: "!", fault: "!", session_started: "\u263A", session_ended: "\u263A" };
  // The stream sends something at least every 10 s (a keep-alive when quiet): after this much
  // silence, or this long after the connection broke, the kiosk is taken to be down.
  const SILENCE_MS = 15000, BROKEN_MS = 2000;
  // A language chosen on the idle screen goes back to the school's first one after this long.
  const IDLE_LANGUAGE_MS = 12000;
  const firstLang = document.body.dataset.first || "zh";
  let deadline = null, answerUntil = null, mode = "idle", langChosenAt = null, counting = false;
  let lastMessage = Date.now(), brokenSince = null, down = false, source = null;
  window.kioskEvents = [];  // arrival times, read by the latency benchmark

  function both(pair) {
    const frag = document.createDocumentFragment();
    for (const [lang, text] of [["zh-CN", pair.zh], ["en", pair.en]]) {
      const s = document.createElement("span");
      s.lang = lang;
      withDates(s, text || "");
      frag.appendChild(s);
    }
    return frag;
  }
  // A date in a message never breaks across lines (browsers break after its hyphens).
  function withDates(el, text) {
    let at = 0;
    for (const m of text.matchAll(/\d{4}-\d{2}-\d{2}/g)) {
      el.append(text.slice(at, m.index));
      const d = document.createElement("span");
      d.className = "date";
      d.textContent = m[0];
      el.appendChild(d);
      at = m.index + m[0].length;
    }
    el.append(text.slice(at));
  }
  function word(key, value) {
    const src = document.querySelector('#words [data-key="' + key + '"]');
    const node = src.cloneNode(true);
    if (value !== undefined) node.querySelectorAll("span").forEach((s) => { s.textContent = s.textContent.replace("%s", value); });
    node.removeAttribute("data-key");
    return node;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function setLanguage(lang) {
    document.body.classList.toggle("show-en", lang === "en");
    document.body.classList.toggle("show-zh", lang !== "en");
    fitLists();  // headings wrap differently in the other language
  }

  function showResult(prefix, last) {
    const box = $(prefix);
    box.hidden = false;
    box.className = "last " + last.kind + (prefix === "answer" ? " answer" : "");
    $(prefix + "-icon").textContent = ICONS[last.kind] || "";
    $(prefix + "-title").textContent = last.title || "";
    $(prefix + "-title").hidden = !last.title;
    clear($(prefix + "-message"));
    $(prefix + "-message").appendChild(both(last));
  }

  function renderIdle(st) {
    const idle = st.idle;
    const ranking = $("ranking"), books = $("new-books");
    clear(ranking); clear(books);
    const classes = (idle && idle.ranking) || [];
    $("ranking-box").hidden = !classes.length;
    const most = Math.max(...classes.map((row) => row.loans), 0.1);
    for (const row of classes) {
      // In a child's words: a bar, and "0.8 books each" (loans per student this month).
      const li = document.createElement("li");
      const name = Object.assign(document.createElement("span"), { className: "cls", textContent: row["class"] });
      const bar = Object.assign(document.createElement("span"), { className: "bar" });
      const fill = document.createElement("i");
      fill.style.width = Math.round((100 * row.loans) / most) + "%";
      bar.appendChild(fill);
      const n = Object.assign(document.createElement("span"), { className: "n" });
      n.appendChild(word("each", Number(row.loans).toFixed(1)));
      li.append(name, bar, n);
      ranking.appendChild(li);
    }
    for (const title of (idle && idle.new_books) || []) {
      const li = document.createElement("li");
      li.textContent = title;
      books.appendChild(li);
    }
    $("new-books-box").hidden = !books.children.length;
    // An answer with no session (a return, a refused card) stays a few seconds, then goes.
    if (st.last && st.last.kind !== "session_ended" && st.show_s) {
      showResult("answer", st.last);
      answerUntil = Date.now() + st.show_s * 1000;
    } else if (st.event !== "state") {
      answerUntil = null;
    }
    showAnswer();
  }
  function showAnswer() {
    const on = answerUntil !== null && Date.now() < answerUntil;
    $("answer").hidden = !on;
    $("answer-next").hidden = !on;
    $("tap").hidden = on || counting;
    $("counting").hidden = on || !counting;
    $("idle-lists").hidden = counting;
    if (!on) answerUntil = null;
    fitLists();
  }
  // Show only the rows that fit whole in their box: fewer things, never one drawn over another.
  function fitLists() {
    for (const list of document.querySelectorAll(".idle-lists ol, .idle-lists ul")) {
      for (const li of list.children) li.hidden = false;
      const bottom = list.parentElement.getBoundingClientRect().bottom;
      for (const li of list.children) li.hidden = li.getBoundingClientRect().bottom > bottom + 0.5;
    }
  }
  window.addEventListener("resize", fitLists);
  document.addEventListener("boardshown", fitLists);

  function renderSession(st) {
    $("open-desk").hidden = !(st.mode === "desk" || st.mode === "lend_for" || st.mode === "box");
    $("mode-title").textContent = "";
    if (st.mode_title) $("mode-title").appendChild(both(st.mode_title));
    $("patron-name").textContent = st.patron ? st.patron.name : "";
    $("patron-class").textContent = st.patron ? st.patron["class"] : "";
    if (st.last && st.last.kind !== "session_ended") showResult("last", st.last);
    else if (!st.last) $("last").hidden = true;
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
    // How many there are, so that a child with more than fit knows to scroll the list.
    $("loans-count").textContent = (st.loans || []).length ? "\u00B7 " + st.loans.length : "";
    for (const l of st.loans || []) {
      const li = document.createElement("li");
      if (l.overdue) li.className = "overdue";
      const t = document.createElement("b");
      t.textContent = l.title;
      const due = document.createElement("span");
      due.className = "due";
      if (l.kind) {  // a magazine is due sooner: the child sees which kind of book it is
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.appendChild(both(l.kind));
        due.append(kind, " \u00B7 ");
      }
      due.appendChild(l.drifting ? word("drifting") : l.overdue ? word("overdue") : word("due", l.due));
      if (l.drifting) li.className = "drifting";
      li.append(t, due);
      if (l.renewable) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "renew";
        b.dataset.code = l.code;
        b.appendChild(word("renew"));
        li.appendChild(b);
      }
      loans.appendChild(li);
    }
    if (!(st.loans || []).length) loans.appendChild(Object.assign(document.createElement("li"), { className: "none" })).appendChild(word("none"));
  }

  // -- find a book: letters on the screen, titles as they are typed ---------------------------
  let finding = false, query = "", asked = 0, touchedAt = 0;
  const MAX_QUERY = 40, TOUCH_EVERY_MS = 5000;
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // A word from #words with its placeholders filled in ({"%s": 2, "%d": "2026-11-16"}).
  function fill(key, values) {
    const node = document.querySelector('#words [data-key="' + key + '"]').cloneNode(true);
    node.removeAttribute("data-key");
    node.querySelectorAll("span").forEach((s) => {
      let text = s.textContent;
      for (const [k, v] of Object.entries(values)) text = text.replace(k, v);
      s.textContent = "";
      withDates(s, text);
    });
    return node;
  }
  function openFind() {
    finding = true; query = "";
    document.body.classList.add("is-finding");
    $("find").hidden = false; $("find-tap").hidden = true;
    showFound({ titles: [], more: false }, false);
    search(null);  // nothing typed: the shelves to browse (and a touch at the kiosk)
  }
  function closeFind() {
    if (!finding) return;
    finding = false; query = ""; asked++;
    document.body.classList.remove("is-finding");
    $("find").hidden = true; $("find-tap").hidden = true;
    clear($("find-results")); clear($("find-q"));
    fitLists();  // the idle boards were out of sight: the screen may have changed meanwhile
  }
  function touch(now) {
    if (!now && Date.now() - touchedAt < TOUCH_EVERY_MS) return;
    touchedAt = Date.now();
    post("find/touch");
  }
  function label(item) {
    const pair = { zh: (item.letter ? item.letter + " " : "") + item.zh, en: (item.letter ? item.letter + " " : "") + item.en };
    return both(pair);
  }
  function showQuery(browsing) {
    clear($("find-q"));
    if (browsing) $("find-q").appendChild(label(browsing));
    else $("find-q").textContent = query;
    $("find-placeholder").hidden = !!(query || browsing);
  }
  // Ask for what was typed, or for a shelf to browse; only the last question's answer shows.
  async function search(browsing) {
    showQuery(browsing);
    const mine = ++asked;
    touchedAt = Date.now();  // every search counts as a touch at the kiosk
    const url = browsing ? "find.json?browse=" + encodeURIComponent(browsing.key) : "find.json?q=" + encodeURIComponent(query);
    const r = await fetch(url, { credentials: "same-origin" });
    if (!r.ok) return;
    const found = await r.json();
    if (mine === asked && finding) showFound(found, !!(query.trim() || browsing));
  }
  function shelfLine(t) {
    const div = el("div", "shelf");
    const label = fill("shelf", {});
    for (const [lang, key, colon] of [["zh-CN", "zh", "："], ["en", "en", ": "]]) {
      const parts = [];
      if (t.shelf) parts.push(t.shelf.letter + " " + t.shelf[key]);
      if (t.call_number) parts.push(t.call_number);
      const span = el("span", "", label.querySelector('[lang="' + lang + '"]').textContent + colon + parts.join(" · "));
      span.lang = lang;
      div.appendChild(span);
    }
    return div;
  }
  // The shelf's place: its name, and the library map drawn small with its box filled in.
  function placeLine(p) {
    const div = fill("place", { "%s": p.name });
    div.className = "place";
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "map");
    svg.setAttribute("viewBox", "0 0 " + p.cols + " " + p.rows);
    svg.setAttribute("width", p.cols * 14);
    svg.setAttribute("height", p.rows * 14);
    svg.setAttribute("aria-hidden", "true");
    for (const [r, c] of p.boxes) {
      const box = document.createElementNS(NS, "rect");
      box.setAttribute("x", c + 0.1); box.setAttribute("y", r + 0.1);
      box.setAttribute("width", 0.8); box.setAttribute("height", 0.8);
      if (r === p.row && c === p.col) box.setAttribute("class", "here");
      svg.appendChild(box);
    }
    div.appendChild(svg);
    return div;
  }
  function showFound(found, searched) {
    const list = $("find-results");
    clear(list);
    for (const item of found.browse || []) {
      const li = el("li", "chip");
      const b = el("button", "browse");
      b.type = "button";
      b.appendChild(label(item));
      b.addEventListener("click", () => { query = ""; search(item); });
      li.appendChild(b);
      list.appendChild(li);
    }
    list.classList.toggle("chips", !!(found.browse && found.browse.length));
    for (const t of found.titles) {
      const li = el("li");
      if (t.cover) {
        // The cover the librarian photographed; the title beside it says what it is.
        const img = el("img", "cover");
        img.src = t.cover;
        img.alt = "";
        li.classList.add("has-cover");
        li.appendChild(img);
      }
      li.appendChild(el("b", "t", t.title));
      if (t.author) li.appendChild(el("span", "au", t.author));
      const where = el("div", "where");
      const add = (node, className) => { node.className = className; where.appendChild(node); };
      if (t.on_shelf) add(fill("on_shelf", { "%s": t.on_shelf }), "on-shelf");
      if (t.on_loan) add(fill("on_loan", { "%s": t.on_loan, "%d": t.back_by }), "out");
      if (t.corners.length) add(fill("corner", { "%s": t.corners.join("、") }), "corner");
      if (t.kept) add(fill("kept", { "%s": t.kept }), "out");
      if (t.drifting) add(fill("drifting_n", { "%s": t.drifting }), "out");
      li.appendChild(where);
      if (t.shelf || t.call_number) li.appendChild(shelfLine(t));
      if (t.place) li.appendChild(placeLine(t.place));
      if (t.can_want) {
        const b = el("button", "want");
        b.type = "button";
        b.dataset.key = t.key;
        b.appendChild(fill("want", {}));
        li.appendChild(b);
      }
      list.appendChild(li);
    }
    list.scrollTop = 0;
    $("find-none").hidden = !(searched && !found.titles.length);
    $("find-more").hidden = !found.more;
  }
  $("find-open").addEventListener("click", openFind);
  $("find-close").addEventListener("click", closeFind);
  $("keyboard").addEventListener("click", (e) => {
    const k = e.target.closest("button.key");
    if (!k) return;
    if (k.dataset.key === "del") query = query.slice(0, -1);
    else if (query.length < MAX_QUERY) query += k.dataset.key;
    search(null);
  });
  $("find-results").addEventListener("scroll", () => touch(false));
  $("find-results").addEventListener("click", async (e) => {
    const b = e.target.closest("button.want");
    if (!b || b.disabled) return;
    b.disabled = true;  // one touch, one hold
    const r = await post("find/want", { key: b.dataset.key });
    if (!r.ok) { b.disabled = false; return; }
    const answer = await r.json();
    // Idle: the next card is whose hold it is. In a session the answer comes with the
    // session's stream, which closes the search and shows it.
    if (answer.tap_card && finding) $("find-tap").hidden = false;
  });

  // The student's own reading this term: only in their own session, cleared with everything else.
  function renderReading(st) {
    const r = st.mode === "patron" ? st.reading : null;
    $("reading").hidden = !r;
    for (const id of ["reading-read", "reading-list", "reading-suggest"]) clear($(id));
    if (!r) return;
    $("reading-read").appendChild(both(r.read));
    if (r.list) $("reading-list").appendChild(both(r.list));
    for (const s of r.suggest) {
      const book = Object.assign(document.createElement("span"), { className: "book" });
      book.appendChild(Object.assign(document.createElement("b"), { textContent: s.title, title: s.title }));
      if (s.shelf) book.appendChild(Object.assign(document.createElement("span"), { className: "shelf" })).appendChild(both(s.shelf));
      $("reading-suggest").appendChild(book);
    }
    $("reading-suggest-line").hidden = !r.suggest.length;
  }

  // A badge the child just earned: shown with the answer that earned it, in their own session,
  // and gone with the next state (the kiosk sends it once).
  function renderBadges(st) {
    const list = st.mode === "patron" && st.badges ? st.badges : [];
    $("badge").hidden = !list.length;
    clear($("badge-list"));
    for (const b of list) {
      const one = Object.assign(document.createElement("span"), { className: "one" });
      one.dataset.badge = b.badge;
      one.appendChild(both(b));
      $("badge-list").appendChild(one);
    }
  }

  function render(st) {
    if (st.event === "status") { $("offline").hidden = !st.offline; return; }
    // Anything that happens at the kiosk (a card, a book, the search's time out) closes the
    // search: the queue comes first.
    if (st.event !== "state") closeFind();
    $("offline").hidden = !st.offline;
    $("unavailable").hidden = st.available !== false;
    const idle = st.mode === "idle";
    // The next child starts in the school's language: a session that ends or is replaced by
    // another card takes the last child's choice with it.
    if ((idle && mode !== "idle") || (st.event === "session_started" && mode !== "idle")) {
      setLanguage(firstLang); langChosenAt = null;
    }
    mode = st.mode;
    counting = !!st.counting;
    document.body.dataset.mode = st.mode;
    document.body.classList.toggle("is-counting", counting);
    $("idle").hidden = !idle;
    $("session").hidden = idle;
    renderReading(st);
    renderBadges(st);
    if (idle) {
      // The session ended: nothing of the last student may stay on the screen.
      clear($("results")); clear($("loans")); $("loans-count").textContent = "";
      $("patron-name").textContent = ""; $("patron-class").textContent = "";
      $("last").hidden = true;
      deadline = null;
      renderIdle(st);
    } else {
      answerUntil = null;
      renderSession(st);
      deadline = st.seconds_left === null ? null : Date.now() + st.seconds_left * 1000;
    }
    tick();
  }

  function setDown(on) {
    if (on === down) return;
    down = on;
    document.body.classList.toggle("is-down", on);
    $("down").hidden = !on;
    if (on) {
      // Nothing of the last child stays behind a dead kiosk, and no button pretends to work.
      $("idle").hidden = true; $("session").hidden = true;
      clear($("results")); clear($("loans")); $("last").hidden = true; renderReading({}); renderBadges({});
      deadline = null; mode = "idle"; setLanguage(firstLang); closeFind();
      counting = false; document.body.classList.remove("is-counting");
    }
  }

  function tick() {
    const now = Date.now();
    if (brokenSince !== null && now - brokenSince > BROKEN_MS) setDown(true);
    if (now - lastMessage > SILENCE_MS && source) {
      // A stream that went quiet without closing (a hung kiosk, a dropped network): start anew.
      setDown(true);
      source.close();
      connect();
    }
    if (answerUntil !== null) showAnswer();
    if (langChosenAt !== null && mode === "idle" && !finding && now - langChosenAt > IDLE_LANGUAGE_MS) {
      setLanguage(firstLang); langChosenAt = null;
    }
    if (deadline === null) { $("countdown").textContent = ""; return; }
    $("countdown").textContent = Math.max(0, Math.ceil((deadline - now) / 1000));
  }
  setInterval(tick, 250);

  function post(path, body) {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
  }
  $("lang").addEventListener("click", () => {
    setLanguage(document.body.classList.contains("show-en") ? "zh" : "en");
    langChosenAt = Date.now();
  });
  $("done").addEventListener("click", () => { post("done"); });
  $("loans").addEventListener("click", (e) => {
    const b = e.target.closest("button.renew");
    if (!b || b.disabled) return;
    b.disabled = true;  // one touch, one renewal: the new list comes back with the answer
    post("renew", { code: b.dataset.code });
  });

  render(JSON.parse($("initial-state").textContent));
  function onState(e) {
    const st = JSON.parse(e.data);
    lastMessage = Date.now(); brokenSince = null;
    window.kioskEvents.push({ at: performance.timeOrigin + performance.now(), published_ms: st.published_ms, event: st.event });
    if (down && st.event === "status") return;  // wait for the whole state before showing it
    setDown(false);
    render(st);
  }
  function connect() {
    lastMessage = Date.now();
    const es = new EventSource("events");
    source = es;
    es.onmessage = onState;
    es.addEventListener("status", onState);
    es.onopen = () => { brokenSince = null; };
    // EventSource retries a dropped stream itself, but gives up on an error answer (a
    // restarting kiosk, too many pages): then start again a little later.
    es.onerror = () => {
      if (brokenSince === null) brokenSince = Date.now();
      if (es.readyState === EventSource.CLOSED && source === es) setTimeout(() => { if (source === es) connect(); }, 3000);
    };
  }
  connect();
})();
