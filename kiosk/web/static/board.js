// The idle screen's board: this month's most borrowed books, fetched now and every 5 minutes.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;
  const list = document.getElementById("board-books");
  function show(data) {
    list.textContent = "";
    for (const book of data.books || []) {
      const li = document.createElement("li");
      li.textContent = book.title;
      list.appendChild(li);
    }
    board.hidden = !list.children.length;
    document.dispatchEvent(new Event("boardshown"));  // the screen fits its lists again
  }
  function load() {
    fetch(board.dataset.url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { books: [] }))
      .then(show)
      .catch(() => {}); // offline or restarting: keep what is shown
  }
  load();
  setInterval(load, 5 * 60 * 1000);
})();
