// The desk: keypad, running list (from the kiosk session's stream or the librarian's answers), undo.
(function () {
  "use strict";
  const desk = document.querySelector("main.desk");
  if (!desk) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.body.classList.contains("show-en") ? "en" : "zh";
  const list = document.getElementById("results");
  const code = document.getElementById("code");
  const ICONS = { ok: "\u2714", error: "\u2716", warning: "!" };

  // The running list outlives a search (the page reloads with the results): it is kept in
  // this tab's sessionStorage, and cleared when the helper's session ends.
  const KEPT = "desk-running-list";
  const kept = () => JSON.parse(sessionStorage.getItem(KEPT) || "[]");
  function add(r, restoring) {
    if (!restoring) sessionStorage.setItem(KEPT, JSON.stringify(kept().concat([r]).slice(-200)));
    const li = document.createElement("li");
    li.className = r.kind;
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.textContent = ICONS[r.kind] || "\u2022";
    const title = document.createElement("b");
    title.textContent = r.title || "";
    li.append(icon, title, " ", lang === "en" ? r.en : r.zh);
    list.prepend(li);
    document.getElementById("count").textContent = list.children.length;
  }
  kept().forEach((r) => add(r, true));
  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": token } })
      .then((r) => r.json()).then((answer) => {
        // A helper's page follows the session's stream, which already shows what succeeded.
        if (answer.result && !(desk.dataset.kind === "helper" && answer.ok)) add(answer.result);
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

  if (desk.dataset.kind === "helper") {
    // A helper's codes go through the kiosk session: its stream says what happened.
    const follow = () => {
      const source = new EventSource("/events");
      // body[data-stream=open] says the stream is connected: what happens from now on shows here.
      source.onopen = () => { document.body.dataset.stream = "open"; };
      source.onerror = () => {
        delete document.body.dataset.stream;
        if (source.readyState === EventSource.CLOSED) setTimeout(follow, 3000);
      };
      source.onmessage = onState;
    };
    const onState = (e) => {
      const st = JSON.parse(e.data);
      if (st.mode === "idle" && st.event === "session_ended") {
        sessionStorage.removeItem(KEPT);
        location.reload();
        return;
      }
      if (st.last && st.event !== "state") add(st.last);
      const who = document.getElementById("operator");
      if (st.patron && who) who.dataset.lendingFor = st.patron.name;
    };
    follow();
  }
})();
