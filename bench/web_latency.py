"""Web figures: commit-to-browser time of a result, and server time of the dashboard's pages.

    .venv/bin/python -m bench.web_latency [--scans 100] [--requests 20] [--rounds 3] [--quick]

1. Commit to SSE event in the browser. A real daemon (FIFO scan source, waitress on loopback)
   and a real headless Chromium showing the touchscreen page. A teacher card, then N books
   written to the FIFO one at a time; each checkout's feedback is stamped (wall clock, ms) by
   the session listener right after the COMMIT, and the page stamps its arrival
   (performance.timeOrigin + now()). Baseline, in the same page and run, between the scans: a
   fetch() round trip of a small static file from the same server, the floor of any update
   that a page would have to ask for. Each round (bench.harness) sends 100 books; then the
   session ends and the same books are returned with no card (idle returns: the answer shows
   on the idle screen), each again beside a fetch.
2. Server time of the dashboard's pages on a store grown by bench.grow (10,000 patrons, 50,000
   items, 500,000 past loans with their events), logged in, through the Flask app in-process
   (routing, queries, templates; no network). Baseline, request by request: a static file
   through the same app (the floor of any answer); the same pages on the small school of part 1
   are timed beside them too.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from bench import harness
from kiosk import config
from kiosk.circulation.records import put_item, put_patron
from kiosk.daemon.app import Daemon, open_store
from kiosk.web import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WARM_UP = 10
TEACHER_CARD = "0FBE0C0001"
PAGES = [
    "/admin/",
    # Overdue loans: the report a librarian now opens (/admin/overdue leads there), paged; the
    # print view still has every overdue loan of the school, a page per class.
    "/admin/reports/overdue",
    "/admin/reports/overdue/print",
    "/admin/events",
    "/admin/events?page=50",
    "/admin/patrons?q=学生12",
    "/api/v1/status",
]
PASSWORD = "benchmark password"
STATIC = "/static/screen.css"


def settings_for(folder: Path, **web: Any) -> config.Settings:
    """Return settings for a kiosk in `folder`: FIFO scans, no indicator, generous limits."""
    return config.from_dict(
        {
            "kiosk": {"session_timeout_s": 600.0},
            "store": {"path": "kiosk.db"},
            "scanner": {"source": f"fifo:{folder / 'scans'}"},
            "indicator": {"kind": "none"},
            "web": {"listen": "127.0.0.1:0", **web},
            "rules": {"max_loans": {"teacher": 100000}, "block_when_overdue": False},
        },
        base_dir=folder,
    )


def small_school(settings: config.Settings, books: int) -> None:
    """Put one teacher and `books` books in the store."""
    store = open_store(settings)
    with store.write() as db:
        put_patron(
            db,
            {"id": "T1", "name": "陈老师", "role": "teacher", "class_name": "三(2)班"},
            [TEACHER_CARD],
            store.now(),
        )
        for n in range(books):
            put_item(db, {"barcode": f"978700{n:07d}", "title": f"书 {n}"}, store.now())
    store.close()


def wait_js(page: Any, expression: str, timeout_s: float = 10.0) -> None:
    """Wait until a JavaScript expression is true (page.evaluate: the page's CSP forbids eval)."""
    harness.wait_for(
        lambda: page.evaluate(expression), f"the page to see {expression}", timeout_s, 0.002
    )


def sse_latency(folder: Path, scans: int, bench: harness.Bench) -> None:
    """Each round, time commit-to-browser of `scans` checkouts, each beside a fetch round trip."""
    from playwright.sync_api import sync_playwright

    os.mkfifo(folder / "scans")
    settings = settings_for(folder)
    warm_up = min(WARM_UP, scans)
    small_school(settings, warm_up + scans * bench.n_rounds)
    daemon = Daemon(settings)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    try:
        harness.wait_for(lambda: daemon.web._server, "the daemon's web server to start", 30, 0.05)
        fifo = harness.open_fifo_writer(folder / "scans", "the daemon's scan source")
        with sync_playwright() as p, fifo:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1024, "height": 600})
            page.goto(daemon.web.url + "/")
            wait_js(page, "window.kioskEvents.length >= 1")
            seen = [1]

            def send(code: str) -> dict[str, Any]:
                fifo.write(code + "\n")
                fifo.flush()
                seen[0] += 1
                wait_js(page, f"window.kioskEvents.length >= {seen[0]}")
                return page.evaluate("window.kioskEvents[window.kioskEvents.length - 1]")  # type: ignore[no-any-return]

            def checkout(n: int) -> tuple[float, float]:
                got = send(f"978700{n:07d}")
                assert got["event"] == "ok", got
                return got["at"] - got["published_ms"], fetch_ms()

            def fetch_ms() -> float:
                return page.evaluate(  # type: ignore[no-any-return] = page.evaluate(
                    "async () => { const t = performance.now();"
                    " await (await fetch('/static/screen.css', {cache: 'no-store'})).text();"
                    " return performance.now() - t; }"
                )

            send(TEACHER_CARD)
            for n in range(warm_up):
                checkout(n)
            book = warm_up
            for _ in bench.rounds():
                sse, fetch = [], []
                first = book
                for _ in range(scans):
                    a, b = checkout(book)
                    book += 1
                    sse.append(a)
                    fetch.append(b)
                bench.record("SSE event in Chromium after the COMMIT", sse)
                bench.record("baseline: fetch() of a static file", fetch)
                daemon.kiosk.done()  # the Done button: the books now come back with no card
                seen[0] += 1
                wait_js(page, f"window.kioskEvents.length >= {seen[0]}")
                returns, fetch = [], []
                for n in range(first, book):
                    got = send(f"978700{n:07d}")
                    assert got["event"] == "ok", got
                    returns.append(got["at"] - got["published_ms"])
                    fetch.append(fetch_ms())
                bench.record("idle return: SSE event in Chromium after the COMMIT", returns)
                bench.record("baseline: fetch() of a static file, beside the returns", fetch)
                send(TEACHER_CARD)
            browser.close()
    finally:
        stop.set()
        thread.join(10)


def logged_in(settings: config.Settings) -> tuple[Daemon, Any]:
    """Return a daemon (not running) and a test client logged in to its dashboard."""
    daemon = Daemon(settings)
    app = create_app(store=daemon.store, settings=settings, daemon=daemon)
    client = app.test_client()
    form = {"csrf_token": _token(client, "/admin/setup"), "user": "bench"}
    form.update(password=PASSWORD, again=PASSWORD)
    client.post("/admin/setup", data=form)
    client.post("/admin/login", data={**form, "csrf_token": _token(client, "/admin/login")})
    return daemon, client


def _token(client: Any, path: str) -> str:
    """Return the CSRF token of the form on a page."""
    html = client.get(path).get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def get_ms(client: Any, path: str) -> float:
    """Return the server ms of one GET through the app, which must answer 200."""
    t = time.perf_counter()
    r = client.get(path)
    took = (time.perf_counter() - t) * 1000
    assert r.status_code == 200, (path, r.status_code)
    return took


def page_times(
    grown: config.Settings, small: config.Settings, requests: int, bench: harness.Bench
) -> None:
    """Each round, time every page on the grown store beside a static file and the small school."""
    big_daemon, big = logged_in(grown)
    small_daemon, little = logged_in(small)
    try:
        for _ in bench.rounds():
            for path in PAGES:
                for _ in range(2):  # warm-up: templates, the page cache
                    get_ms(big, path)
                    get_ms(little, path)
                times: dict[str, list[float]] = {"grown": [], "small": [], "static": []}
                for _ in range(requests):
                    times["grown"].append(get_ms(big, path))
                    times["static"].append(get_ms(big, STATIC))
                    times["small"].append(get_ms(little, path))
                bench.record(f"`{path}`, grown store", times["grown"])
                bench.record(f"`{path}`, small school", times["small"])
                bench.record("baseline: static file through the same app", times["static"])
    finally:
        big_daemon.store.close()
        small_daemon.store.close()


def main(argv: list[str] | None = None) -> None:
    """Run both measurements in rounds and print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--scans", type=int, help="checkouts per round: 100")
    ap.add_argument("--requests", type=int, help="requests per page per round: 20")
    args = ap.parse_args(argv)
    scans = args.scans or harness.size(args, 100, 3)
    requests = args.requests or harness.size(args, 20, 2)
    bench = harness.Bench("web_latency", args)
    with harness.workdir(args, "web") as folder:
        small, grown = folder / "small", folder / "grown"
        small.mkdir(parents=True, exist_ok=True)
        grown.mkdir(parents=True, exist_ok=True)
        sse_latency(small, scans, bench)
        grown_settings = settings_for(grown, enabled=False)
        figures = harness.grown_store(grown / "kiosk.db", args)
        page_times(grown_settings, settings_for(small, enabled=False), requests, bench)
    bench.compare(
        "commit to screen (SSE in Chromium): p99",
        "SSE event in Chromium after the COMMIT",
        "baseline: fetch() of a static file",
        "p99",
        harness.at_most(100, "ms"),
    )
    bench.compare(
        "idle return to screen (SSE in Chromium): p99",
        "idle return: SSE event in Chromium after the COMMIT",
        "baseline: fetch() of a static file, beside the returns",
        "p99",
        harness.at_most(100, "ms"),
    )
    for path in PAGES:
        bench.compare(
            f"`{path}` on the grown store: p50",
            f"`{path}`, grown store",
            "baseline: static file through the same app",
            "p50",
            harness.at_most(100, "ms"),
        )
    bench.note(
        f"{scans} checkouts per round after {min(WARM_UP, scans)} not counted; pages: "
        f"{requests} requests each per round after 2 not counted, logged in, in-process; "
        f"grown store: "
        f"{figures['patrons']:,} patrons, {figures['items']:,} items, {figures['loans']:,} loans, "
        f"{figures['events']:,} events"
    )
    bench.report()


if __name__ == "__main__":
    main()
