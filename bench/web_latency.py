"""Web figures: commit-to-browser time of a result, and server time of the dashboard's pages.

    .venv/bin/python -m bench.web_latency [--dir FOLDER] [--scans 300] [--requests 20]

1. Commit to SSE event in the browser. A real daemon (FIFO scan source, waitress on loopback)
   and a real headless Chromium showing the touchscreen page. A teacher card, then N books
   written to the FIFO one at a time; each checkout's feedback is stamped (wall clock, ms) by
   the session listener right after the COMMIT, and the page stamps its arrival
   (performance.timeOrigin + now()). Baseline, in the same page and run, between the scans: a
   fetch() round trip of a small static file from the same server, the floor of any update
   that a page would have to ask for.
2. Server time of the dashboard's pages on a store grown by bench.grow (10,000 patrons, 50,000
   items, 500,000 past loans with their events), logged in, through the Flask app in-process
   (routing, queries, templates; no network). Baseline: the same pages on the small school of
   part 1, in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.grow import grow
from bench.latency import percentile
from kiosk import config
from kiosk.app import Daemon, open_store
from kiosk.circulation.records import put_item, put_patron
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
    "/admin/overdue",
    "/admin/overdue/print",
    "/admin/events",
    "/admin/patrons?q=学生12",
    "/api/v1/status",
]
PASSWORD = "benchmark password"


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


def sse_latency(folder: Path, scans: int) -> dict[str, list[float]]:
    """Return commit-to-browser and fetch round-trip times in ms."""
    from playwright.sync_api import sync_playwright

    os.mkfifo(folder / "scans")
    settings = settings_for(folder)
    small_school(settings, scans + WARM_UP)
    daemon = Daemon(settings)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    harness.wait_for(lambda: daemon.web._server, "the daemon's web server to start", 30, 0.05)
    sse, fetch = [], []
    fifo = harness.open_fifo_writer(folder / "scans", "the daemon's scan source")
    with sync_playwright() as p, fifo:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 600})
        page.goto(daemon.web.url + "/")
        wait_js(page, "window.kioskEvents.length >= 1")

        def send(code: str, count: int) -> dict[str, Any]:
            fifo.write(code + "\n")
            fifo.flush()
            wait_js(page, f"window.kioskEvents.length >= {count}")
            return page.evaluate("window.kioskEvents[window.kioskEvents.length - 1]")  # type: ignore[no-any-return]

        send(TEACHER_CARD, 2)
        for n in range(scans + WARM_UP):
            got = send(f"978700{n:07d}", n + 3)
            assert got["event"] == "ok", got
            round_trip = page.evaluate(
                "async () => { const t = performance.now();"
                " await (await fetch('/static/screen.css', {cache: 'no-store'})).text();"
                " return performance.now() - t; }"
            )
            if n >= WARM_UP:
                sse.append(got["at"] - got["published_ms"])
                fetch.append(round_trip)
        browser.close()
    stop.set()
    thread.join(10)
    return {"sse": sse, "fetch": fetch}


def page_times(settings: config.Settings, requests: int) -> dict[str, list[float]]:
    """Return server ms per page, logged in, in-process."""
    daemon = Daemon(settings)
    app = create_app(store=daemon.store, settings=settings, daemon=daemon)
    client = app.test_client()
    client.get("/admin/setup")
    with client.session_transaction() as s:
        token = s["csrf"]
    form = {"csrf_token": token, "user": "bench", "password": PASSWORD, "again": PASSWORD}
    client.post("/admin/setup", data=form)
    client.post("/admin/login", data=form)
    times: dict[str, list[float]] = {}
    for path in PAGES:
        for i in range(requests + 2):
            t = time.perf_counter()
            r = client.get(path)
            took = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, (path, r.status_code)
            if i >= 2:
                times.setdefault(path, []).append(took)
    daemon.store.close()
    return times


def row(label: str, samples: list[float], base: list[float] | None = None) -> str:
    """Return one Markdown table row: n, p50, p99 and the ratio to the baseline's p50."""
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    ratio = f"{p50 / percentile(base, 50):.1f}x" if base else "1.0x"
    return f"| {label} | {len(samples)} | {p50:.1f} | {p99:.1f} | {ratio} |"


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print Markdown tables for the README."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, help="work folder, kept (default: a new one here, removed)")
    ap.add_argument("--scans", type=int, default=300)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args(argv)
    # Absolute: the FIFO's path goes into settings whose base folder is this one again.
    folder = (args.dir or Path(tempfile.mkdtemp(prefix="bench-web-", dir="."))).resolve()
    small, grown = folder / "small", folder / "grown"
    small.mkdir(parents=True, exist_ok=True)
    grown.mkdir(parents=True, exist_ok=True)

    live = sse_latency(small, args.scans)
    print("\n| commit to browser | n | p50 ms | p99 ms | p50 / baseline |")
    print("|---|---|---|---|---|")
    print(row("SSE event in Chromium after COMMIT", live["sse"], live["fetch"]))
    print(row("baseline: fetch() of a static file", live["fetch"]))

    grown_settings = settings_for(grown, enabled=False)
    store = open_store(grown_settings)
    figures = grow(store)
    store.close()
    print(f"\ngrown store: {figures}")
    big = page_times(grown_settings, args.requests)
    base = page_times(settings_for(small, enabled=False), args.requests)
    print("\n| server time, grown store | n | p50 ms | p99 ms | p50 / same page, small school |")
    print("|---|---|---|---|---|")
    for path in PAGES:
        print(row(f"`{path}`", big[path], base[path]))
    print("\n| baseline: same page, small school | n | p50 ms | p99 ms | |")
    print("|---|---|---|---|---|")
    for path in PAGES:
        print(row(f"`{path}`", base[path]))
    heaviest = max(PAGES, key=lambda p: statistics.median(big[p]))
    print(f"\nheaviest page: {heaviest}, p50 {percentile(big[heaviest], 50):.1f} ms (target < 100)")
    if args.dir is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
