(minChars) => {
  // The touchscreen's layout checks (tests/web/layout.py runs this with page.evaluate).
  const out = [];
  const shown = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const name = (el) => el.id ? "#" + el.id : el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const path = (el) => { const p = []; for (let e = el; e && e !== document.body && p.length < 3; e = e.parentElement) p.unshift(name(e)); return p.join(" > "); };
  const clipBox = (el, r) => {
    // What is left of a box once every ancestor that clips its overflow, and the screen, cut it.
    let box = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    for (let a = el; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX === "visible" && cs.overflowY === "visible") continue;
      const c = a.getBoundingClientRect();
      box = { left: Math.max(box.left, c.left), top: Math.max(box.top, c.top),
              right: Math.min(box.right, c.right), bottom: Math.min(box.bottom, c.bottom) };
    }
    return { left: Math.max(box.left, 0), top: Math.max(box.top, 0),
             right: Math.min(box.right, innerWidth), bottom: Math.min(box.bottom, innerHeight) };
  };
  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth || doc.scrollHeight > innerHeight) out.push(`the page scrolls: ${doc.scrollWidth}x${doc.scrollHeight}`);
  // Every piece of visible text, as the boxes of its lines, cut to what can be seen.
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest("script, style, #words") || !shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      // Glyphs fill less than the line's box: a line's box may touch the next line's.
      const inset = r.height * 0.15;
      const b = clipBox(el, { left: r.left, right: r.right, top: r.top + inset, bottom: r.bottom - inset });
      if (b.right - b.left >= 1 && b.bottom - b.top >= 1) boxes.push({ node: n, el, b });
    }
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const p = boxes[i], q = boxes[j];
      if (p.node === q.node) continue;
      const w = Math.min(p.b.right, q.b.right) - Math.max(p.b.left, q.b.left);
      const h = Math.min(p.b.bottom, q.b.bottom) - Math.max(p.b.top, q.b.top);
      if (w > 1 && h > 1) out.push(`text over text: "${p.node.textContent.trim().slice(0, 30)}" (${path(p.el)}) and "${q.node.textContent.trim().slice(0, 30)}" (${path(q.el)})`);
    }
  }
  // Titles cut with an ellipsis keep at least minChars characters.
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el) || getComputedStyle(el).textOverflow !== "ellipsis" || el.scrollWidth <= el.clientWidth + 1) continue;
    const text = el.textContent, box = el.getBoundingClientRect();
    const right = box.right - parseFloat(getComputedStyle(el).fontSize);  // the ellipsis' room
    const range = document.createRange();
    let seen = 0, at = 0;
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      for (let k = 0; k < t.textContent.length; k++, at++) {
        range.setStart(t, k); range.setEnd(t, k + 1);
        const r = range.getBoundingClientRect();
        if (r.width && r.right <= right + 0.5) seen++;
      }
    }
    if ([...text].length >= minChars && seen < minChars) out.push(`cut to ${seen} characters: "${text.slice(0, 30)}" (${path(el)})`);
  }
  // What a child must read or touch is whole: headings, messages, the countdown, buttons.
  const must = "h1, h2, .message, .msg, #countdown, button, a, .patron-name, .hint, .counting-flag";
  for (const el of document.querySelectorAll(must)) {
    if (!shown(el) || el.closest(".columns ul, .find-results")) continue;  // a list's rows scroll in their box
    const r = el.getBoundingClientRect(), b = clipBox(el, r);
    if (r.width && (b.left > r.left + 1 || b.top > r.top + 1 || b.right < r.right - 1 || b.bottom < r.bottom - 1)) out.push(`cut off: ${path(el)} "${el.textContent.trim().slice(0, 30)}"`);
  }
  const h1 = [...document.querySelectorAll("h1")].filter(shown);
  if (h1.length !== 1) out.push(`${h1.length} visible h1: ${h1.map((h) => h.textContent.trim()).join(" | ")}`);
  return out;
}
