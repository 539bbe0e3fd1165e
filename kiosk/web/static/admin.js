// The dashboard: refresh "today" when the kiosk commits, follow an import's progress.
(function () {
  "use strict";
  const today = document.getElementById("today");
  function follow() {
    const live = new EventSource(today.dataset.live);
    live.onopen = () => { document.getElementById("live").hidden = false; };
    live.onmessage = () => {
      fetch(today.dataset.url, { credentials: "same-origin" })
        .then((r) => r.text()).then((html) => { today.innerHTML = html; });
    };
    live.onerror = () => {
      document.getElementById("live").hidden = true;
      if (live.readyState === EventSource.CLOSED) setTimeout(follow, 5000);
    };
  }
  if (today && window.EventSource) follow();
  // A name field lists the patrons it finds as it is typed; the number picked goes with the name.
  for (const input of document.querySelectorAll("input[data-patrons]")) {
    const list = document.getElementById(input.getAttribute("list"));
    let asked = "";
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const q = input.value.trim();
        if (!q || q === asked || /\([^()]+\)$/.test(q)) return;
        asked = q;
        fetch(input.dataset.patrons + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then((r) => r.json()).then((found) => {
            if (asked !== q) return;
            list.replaceChildren(...found.map((p) => { const o = document.createElement("option"); o.value = p.label; return o; }));
          });
      }, 150);
    });
  }
  // A button or form with data-confirm asks first, in words that say what happens; {field}
  // in the words is the value typed in that field of the form (a barcode, say).
  document.addEventListener("submit", (e) => {
    const form = e.target;
    const words = (e.submitter && e.submitter.dataset.confirm) || form.dataset.confirm;
    if (!words) return;
    const text = words.replace(/\{(\w+)\}/g, (m, name) => (form.elements[name] ? form.elements[name].value : m));
    if (!window.confirm(text)) e.preventDefault();
  });
  const job = document.getElementById("import");
  if (job) {
    const bar = document.getElementById("import-bar");
    const poll = () => fetch(job.dataset.url, { credentials: "same-origin" }).then((r) => r.json()).then((st) => {
      if (st.total) { bar.max = st.total; bar.value = st.done; }
      document.getElementById("import-count").textContent = st.total ? st.done + " / " + st.total : (st.done ? String(st.done) : "");
      if (!st.finished) { setTimeout(poll, 300); return; }
      bar.max = 1; bar.value = 1;
      const summary = document.getElementById("import-summary");
      summary.hidden = false;
      summary.textContent = st.summary;
      if (!st.ok && !st.rejected) summary.classList.add("error");
      if (st.records) for (const th of job.querySelectorAll(".unit")) th.textContent = th.dataset.record;
      if (st.warnings && st.warnings.length) {
        const table = document.getElementById("import-warnings");
        table.hidden = false;
        for (const w of st.warnings) {
          const tr = table.insertRow();
          for (const v of [w.row, w.column, w.reason]) tr.insertCell().textContent = v;
        }
      }
      if (st.errors && st.errors.length) {
        const table = document.getElementById("import-errors");
        table.hidden = false;
        document.getElementById("import-nothing").hidden = Boolean(st.rejected);
        document.getElementById("import-good").hidden = !st.can_keep_going;
        document.getElementById("import-rejects").hidden = !st.rejected;
        for (const e of st.errors) {
          const tr = table.insertRow();
          for (const v of [e.row, e.column, e.reason]) tr.insertCell().textContent = v;
        }
      }
    });
    poll();
  }
})();
