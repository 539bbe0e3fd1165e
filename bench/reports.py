"""Server time of every report and dashboard list page, on a grown store beside a small school.

    .venv/bin/python -m bench.reports [--quick] [--requests 10] [--dir FOLDER]

The grown store is bench.grow's (10,000 patrons, 50,000 items, 500,000 past loans with their
events; `--quick`: a tenth of that), with 1,000 of its books added this month so that the
new-books bulletin has something to show. The small school is `kiosk demo`'s (18 classes, about
700 students, 8,000 books, a term of loans), made in the same run. Each page is fetched logged in
through the Flask app in-process (routing, queries, templates; no network), twice to warm up,
then `--requests` times; the table gives the median and p99 of each beside the same page on the
small school. Target: every page under 200 ms on the grown store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.grow import grow
from bench.latency import percentile
from kiosk import config
from kiosk.app import open_store
from kiosk.circulation.demo import make_demo
from kiosk.circulation.stats import forget
from kiosk.circulation.stats.student import class_names
from kiosk.web import create_app
from kiosk.web.security import parse_networks

PASSWORD = "benchmark password"
TARGET_MS = 200.0
PAGES = [
    "/admin/reports/?period=month",
    "/admin/reports/?period=term",
    "/admin/reports/?period=year",
    "/admin/reports/print?period=term",
    "/admin/reports/rankings?period=term",
    "/admin/reports/books?period=month",
    "/admin/reports/books?period=term",
    "/admin/reports/rankings/print?period=month",
    "/admin/reports/new-books?period=month",
    "/admin/reports/non-borrowers?period=month",
    "/admin/reports/overdue",
    "/admin/reports/overdue/print",
    "/admin/reports/notices?level=1",
    "/admin/reports/student/{student}",
    "/admin/reports/class?class={class_name}",
    "/admin/reports/export/classes.xlsx?period=term",
    "/admin/reports/export/overdue.csv",
    "/board.json",
    "/admin/patrons",
    "/admin/patrons?page=20",
    "/admin/patrons?q=wxm",
    "/admin/patrons?q=12",
    "/admin/items?page=100",
    "/admin/items?q=图书 12",
    "/admin/events",
    "/admin/rules",
]


def settings_for(folder: Path) -> config.Settings:
    """Return settings for a store in `folder`, no devices, no web server."""
    return config.from_dict(
        {
            "store": {"path": "kiosk.db"},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
            "web": {"enabled": False},
        },
        base_dir=folder,
    )


def grown_school(folder: Path, quick: bool) -> tuple[config.Settings, dict[str, Any]]:
    """Grow a store; date 1,000 of its books this month (the grown ones are two years old)."""
    settings = settings_for(folder)
    store = open_store(settings)
    if store.value("SELECT count(*) FROM patrons"):  # grown by an earlier run in --dir
        store.close()
        return settings, {"reused": str(folder)}
    scale = 10 if quick else 1
    figures = grow(store, 10_000 // scale, 50_000 // scale, 500_000 // scale)
    with store.write() as db:
        db.execute(
            "UPDATE items SET added_at = ? WHERE rowid > (SELECT max(rowid) - 1000 FROM items)",
            [store.now()],
        )
    store.db.conn.execute("ANALYZE")
    store.close()
    return settings, figures


def page_times(settings: config.Settings, requests: int) -> dict[str, list[float]]:
    """Return server ms per page, logged in, in-process."""
    store = open_store(settings)
    app = create_app(store=store, settings=settings, networks=parse_networks(["127.0.0.0/8"]))
    client = app.test_client()
    client.get("/admin/setup", follow_redirects=True)  # or the login page: either has a token
    with client.session_transaction() as s:
        token = s["csrf"]
    form = {"csrf_token": token, "user": "bench", "password": PASSWORD, "again": PASSWORD}
    client.post("/admin/setup", data=form)
    client.post("/admin/login", data=form)
    names = {
        "student": store.value("SELECT id FROM patrons WHERE role = 'student' ORDER BY id"),
        "class_name": class_names(store)[0],
    }
    times: dict[str, list[float]] = {}
    for path in PAGES:
        url = path.format(**names)
        for i in range(requests + 2):
            forget()  # cold: as after a scan, which changes the store
            t = time.perf_counter()
            r = client.get(url)
            took = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, (url, r.status_code)
            if i >= 2:
                times.setdefault(path, []).append(took)
    store.close()
    return times


def main(argv: list[str] | None = None) -> None:
    """Time every page on both schools and print a Markdown table for the README."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, help="work folder, kept (default: a temporary one)")
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="a tenth of the grown store, 3 requests")
    args = ap.parse_args(argv)
    requests = 3 if args.quick else args.requests
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        small_settings, _ = make_demo(
            folder / "small", today=dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        )
        (folder / "grown").mkdir(parents=True, exist_ok=True)
        grown_settings, figures = grown_school(folder / "grown", args.quick)
        print(f"grown store: {figures}")
        base = page_times(small_settings, requests)
        big = page_times(grown_settings, requests)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print("\n| page | grown p50 ms | grown p99 ms | small school p50 ms | small p99 ms |")
    print("|---|---|---|---|---|")
    for path in PAGES:
        b, s = big[path], base[path]
        flag = "" if percentile(b, 50) < TARGET_MS else " **over 200 ms**"
        print(
            f"| `{path}` | {percentile(b, 50):.1f}{flag} | {percentile(b, 99):.1f} "
            f"| {percentile(s, 50):.1f} | {percentile(s, 99):.1f} |"
        )
    slowest = max(PAGES, key=lambda p: percentile(big[p], 50))
    print(f"\nslowest on the grown store: {slowest}, p50 {percentile(big[slowest], 50):.1f} ms")


if __name__ == "__main__":
    main()
