"""Server time of every report and dashboard list page, on a grown store beside a small school.

    .venv/bin/python -m bench.reports [--quick] [--rounds 3] [--requests 5] [--dir FOLDER]

The grown store is bench.grow's (10,000 patrons, 50,000 items, 500,000 past loans with their
events; `--quick`: a tenth of that), with 1,000 of its books added this month so that the
new-books bulletin has something to show. The small school is `kiosk demo`'s (18 classes, about
700 students, 8,000 books, a term of loans), made in the same run. Each page is fetched logged in
through the Flask app in-process (routing, queries, templates; no network), once to warm up,
then `--requests` times per round, in rounds (bench.harness); the table gives the median and p99
of each beside the same page on the small school. Target: every page under 200 ms on the grown
store. Then, on the same grown store, a child's session screen with and without their reading
strip (the progress lookup) and the badge check (bench/reading.py's `session_reading`; target:
the progress lookup's p99 under 10 ms).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import harness, reading
from bench.grow import grow
from kiosk import config
from kiosk.circulation.demo import make_demo
from kiosk.circulation.stats import forget
from kiosk.circulation.stats.student import class_names
from kiosk.daemon.app import open_store
from kiosk.web import create_app
from kiosk.web.security import parse_networks

PASSWORD = "benchmark password"
TARGET_MS = 200.0
PAGES = [
    "/admin/reports/?period=month",
    "/admin/reports/?period=term",
    "/admin/reports/?period=year",
    "/admin/reports/?period=range&from={year_ago}&to={today}",
    "/admin/reports/print?period=term",
    "/admin/reports/rankings?period=term",
    "/admin/reports/books?period=month",
    "/admin/reports/books?period=term",
    "/admin/reports/books?period=range&from={year_ago}&to={today}",
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


def logged_in(settings: config.Settings) -> tuple[Any, Any]:
    """Return the store and a logged-in test client of the app on it."""
    store = open_store(settings)
    app = create_app(store=store, settings=settings, networks=parse_networks(["127.0.0.0/8"]))
    client = app.test_client()
    # The setup page, or the login page when the store has a password: either has a token.
    page = client.get("/admin/setup", follow_redirects=True).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": token, "user": "bench", "password": PASSWORD, "again": PASSWORD}
    client.post("/admin/setup", data=form)
    login = client.get("/admin/login").get_data(as_text=True)
    form["csrf_token"] = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/admin/login", data=form)
    return store, client


def urls(store: Any) -> dict[str, str]:
    """Return each page's address on this store (a student and a class of its own)."""
    names = {
        "student": store.value("SELECT id FROM patrons WHERE role = 'student' ORDER BY id"),
        "class_name": class_names(store)[0],
        # The last 365 days: a whole school year of loans (the "year" above is this one so far).
        "today": dt.date.today().isoformat(),
        "year_ago": (dt.date.today() - dt.timedelta(days=365)).isoformat(),
    }
    return {path: path.format(**names) for path in PAGES}


def get_ms(client: Any, url: str) -> float:
    """Fetch a page cold (as after a scan, which changes the store); return server ms."""
    forget()
    t = time.perf_counter()
    r = client.get(url)
    took = (time.perf_counter() - t) * 1000
    assert r.status_code == 200, (url, r.status_code)
    return took


def page_times(
    grown: config.Settings, small: config.Settings, requests: int, bench: harness.Bench
) -> None:
    """Each round, time every page on the grown store beside the same page on the small school."""
    big_store, big = logged_in(grown)
    small_store, little = logged_in(small)
    big_urls, small_urls = urls(big_store), urls(small_store)
    try:
        for _ in bench.rounds():
            for path in PAGES:
                get_ms(big, big_urls[path])  # warm-up: templates, the page cache, the catalogue
                get_ms(little, small_urls[path])
                grown_ms, small_ms = [], []
                for _ in range(requests):
                    grown_ms.append(get_ms(big, big_urls[path]))
                    small_ms.append(get_ms(little, small_urls[path]))
                bench.record(f"`{path}`, grown store", grown_ms)
                bench.record(f"`{path}`, small school", small_ms)
    finally:
        big_store.close()
        small_store.close()


def main(argv: list[str] | None = None) -> None:
    """Time every page on both schools in rounds and print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--requests", type=int, help="requests per page per round: 5")
    args = ap.parse_args(argv)
    requests = args.requests or harness.size(args, 5, 2)
    bench = harness.Bench("reports", args)
    with harness.workdir(args, "reports") as folder:
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        small, _ = make_demo(folder / "small", today=today)
        (folder / "grown").mkdir(parents=True, exist_ok=True)
        grown, figures = grown_school(folder / "grown", args.quick)
        page_times(grown, small, requests, bench)
        # The child's own reading on the session screen, on the same grown store (issue 25).
        store = open_store(grown)
        try:
            reading.session_reading(store, bench, harness.size(args, 300, 30))
        finally:
            store.close()
    for path in PAGES:
        bench.compare(
            f"`{path}` on the grown store: p50",
            f"`{path}`, grown store",
            f"`{path}`, small school",
            "p50",
            harness.at_most(TARGET_MS, "ms"),
        )
    bench.note(
        f"{requests} requests per page per round after one not counted, logged in, in-process, "
        "each cold (the period's cached loans dropped, as a scan at the kiosk does; the roll "
        f"and the catalogue stay in memory, as through a school day); grown store: {figures}; "
        "small school: `kiosk demo` (18 classes, about 700 students, 8,000 books)"
    )
    bench.report()


if __name__ == "__main__":
    main()
