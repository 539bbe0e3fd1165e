// The desk: keypad, running list (from the helper's session stream or the librarian's answers),
// undo, the "lending to" banner and class corners.
(function () {
  "use strict";
  const desk = document.querySelector("main.desk");
  if (!desk) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.body.classList.contains("show-en") ? "en" : "zh";
  const list = document.getElementById("results");
  const code = document.getElementById("code");
  const ICONS = { ok: "\u2714", error: "\u2716", warning: "!", undone: "\u21B6", "undo-line": "\u21B6" };
  const helper = desk.dataset.kind === "helper";

  // The running list outlives a search (the page reloads with the results): it is kept in
  // this tab's sessionStorage with the id of the last event shown, and cleared when the
  // helper's session ends. A new page's stream resumes after that id, so nothing is missed.
  const KEPT = "desk-running-list", LAST = "desk-last-event", TAB = "desk-tab";
  const kept = () => JSON.parse(sessionStorage.getItem(KEPT) || "[]");
  const keep = (lines) => sessionStorage.setItem(KEPT, JSON.stringify(lines.slice(-200)));
  if (!sessionStorage.getItem(TAB)) sessionStorage.setItem(TAB, Math.random().toString(36).slice(2));

  function draw(r) {
    const li = document.createElement("li");
    // An undone line and the undo itself both show the undo mark, never a success tick.
    const look = r.undone ? "undone" : r.undoes ? "undo-line" : r.kind;
    li.className = look;
    if (r.event) li.dataset.event = r.event;
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = ICONS[look] || "\u2022";
    const title = document.createElement("b");
    title.textContent = r.title || "";
    li.append(icon, title, " ", lang === "en" ? r.en : r.zh);
    if (r.undone) {
      const note = document.createElement("span");
      note.className = "undone-note";
      note.textContent = " \u2014 " + desk.dataset.undone;
      li.append(note);
    }
    return li;
  }
  function add(r, restoring) {
    if (!restoring) keep(kept().concat([r]));
    list.prepend(draw(r));
    document.getElementById("count").textContent = list.children.length;
    // An undo names the line it reverses: that line is shown undone, not as a success.
    if (r.undoes) markUndone(r.undoes);
  }
  function markUndone(event) {
    const lines = kept();
    lines.forEach((l) => { if (l.event === event) l.undone = true; });
    keep(lines);
    const old = list.querySelector('li[data-event="' + CSS.escape(event) + '"]');
    if (old) old.replaceWith(draw(lines.find((l) => l.event === event)));
  }
  kept().forEach((r) => add(r, true));

  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": token } })
      .then((r) => r.json()).then((answer) => {
        // A helper's page follows the session's stream, which already shows what succeeded.
        if (answer.result && !(helper && answer.ok)) add(answer.result);
        return answer;
      });
  }
  function send(value) {
    if (!value) return;
    const body = new FormData();
    body.append("code", value);
    post(document.getElementById("keypad").action, body);
  }
  document.getElementById("keypad").addEventListener("submit", (e) => {
    e.preventDefault();
    send(code.value.trim());
    code.value = "";
    code.focus();
  });
  document.querySelectorAll(".keys button").forEach((b) => b.addEventListener("click", () => {
    const k = b.dataset.key;
    code.value = k === "\u2190" ? code.value.slice(0, -1) : code.value + k;
    code.focus();
  }));
  document.getElementById("undo").addEventListener("submit", (e) => {
    e.preventDefault();
    post(e.target.action, new FormData());
  });
  // The page never holds a card code: the server types the chosen student's card for the helper.
  document.querySelectorAll(".lend-card").forEach((b) => b.addEventListener("click", () => {
    const body = new FormData();
    body.append("patron_id", b.dataset.patron);
    post(b.dataset.url, body);
  }));
  const stop = document.getElementById("stop-lending");
  if (stop) stop.addEventListener("click", () => post(stop.dataset.url, new FormData()));

  // Class corners: a helper opens a box (then every scan goes into it) and lends it; the
  // librarian types the barcodes. The list of books out per class comes with the page again.
  function corner(form, extra) {
    const body = new FormData(form);
    if (extra) body.set("action", extra);
    // form.action would be the input named "action": the address is the attribute.
    return post(form.getAttribute("action"), body).then((answer) => {
      // Packing: the scans' lines need the room, the form is done with.
      if (answer.ok && body.get("action") === "open") document.getElementById("corner").open = false;
      // The page comes again with the corners' list open, the new box in it.
      if (answer.ok && body.get("action") === "lend") location.assign(location.pathname + "?corner=1");
    });
  }
  for (const id of ["corner-open", "corner-lend", "box-lend"]) {
    const form = document.getElementById(id);
    if (form) form.addEventListener("submit", (e) => { e.preventDefault(); corner(form); });
  }
  const cancel = document.getElementById("box-cancel");
  if (cancel) cancel.addEventListener("click", () => corner(document.getElementById("box-lend"), "cancel").then(() => showMode({ mode: "desk" })));

  function showMode(st) {
    const banner = document.getElementById("banner");
    if (!banner) return;
    const text = document.getElementById("banner-text");
    const lending = st.mode === "lend_for" && st.lending;
    const box = st.mode === "box" && st.box;
    banner.hidden = !(lending || box);
    document.getElementById("stop-lending").hidden = !lending;
    document.getElementById("box-lend").hidden = !box;
    if (lending) text.textContent = desk.dataset.lending.replace("%s", st.lending);
    else if (box) text.textContent = desk.dataset.box.replace("%s", box.class_name).replace("%n", box.count);
  }

  if (helper) {
    // A helper's codes go through the kiosk session: its stream says what happened.
    let source = null, failures = 0;
    const follow = () => {
      const after = sessionStorage.getItem(LAST) || "";
      const url = desk.dataset.events + "?tab=" + encodeURIComponent(sessionStorage.getItem(TAB)) +
        "&after=" + encodeURIComponent(after);
      source = new EventSource(url);
      // body[data-stream=open] says the stream is connected: what happens from now on shows here.
      source.onopen = () => { document.body.dataset.stream = "open"; failures = 0; };
      source.onerror = () => {
        delete document.body.dataset.stream;
        if (source.readyState !== EventSource.CLOSED) return;  // it reconnects by itself
        // Refused (a restarting kiosk, or the helper's session ended meanwhile): try again,
        // and after a few tries load the page again, which says whether the desk is still open.
        failures += 1;
        setTimeout(failures > 3 ? () => location.reload() : follow, 1000);
      };
      source.onmessage = onState;
    };
    const onState = (e) => {
      const st = JSON.parse(e.data);
      if (e.lastEventId) sessionStorage.setItem(LAST, e.lastEventId);
      if (st.mode === "idle" && (st.event === "session_ended" || st.event === "state")) {
        // The helper's session is over: the desk closes and its list with it.
        sessionStorage.removeItem(KEPT);
        sessionStorage.removeItem(LAST);
        source.close();
        location.reload();
        return;
      }
      // Back after a long break (or a restart): what happened meanwhile is not all here.
      if (st.event === "state" && st.missed) add({ kind: "warning", title: "", zh: desk.dataset.missed, en: desk.dataset.missed });
      if (st.line) add(st.line);
      showMode(st);
    };
    // Leaving the page ends its stream at once, so it holds no place of the kiosk's server.
    window.addEventListener("pagehide", () => { if (source) source.close(); });
    follow();
  }
})();
