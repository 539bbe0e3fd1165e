"""A stocktake of the whole grown collection: every scan's answer, and the report's time.

    .venv/bin/python -m bench.stocktake [--quick] [--rounds 3] [--dir FOLDER]

1. Grows a store (bench.grow: 10,000 patrons, 50,000 items, 500,000 past loans).
2. Starts a stocktake of the library and scans, through `Kiosk.scan` with the collection's hook
   as the daemon does in stocktake mode, every book on the shelf but one in a hundred (those are
   "missing"), 50 books the records say are on loan and 100 unknown barcodes. The scans are
   split over the rounds in order, so the last round scans into a nearly full stocktake: a big
   stocktake must not slow a scan. Each scan is timed from the call to the returned feedback,
   which comes after the COMMIT.
3. After every tenth scan, the baseline: a bare `sqlite3` INSERT plus COMMIT of one small row
   with the same pragmas (WAL, synchronous=FULL) in the same folder, at the same moment.
4. Meanwhile another thread computes the report again and again on its own connection, as the
   dashboard would while helpers scan: a report must never hold a scan up.
5. At the end of each round, with the other thread paused, times the report (every barcode with
   its status) of a finished stocktake of the same codes, made before the rounds, beside its
   baseline: reading every item's row (barcode, title, call number, location, status) into
   Python, the least any report on the whole collection does.

Scans go as fast as the store allows rather than one a second: a scan a second would take 14
hours, and a faster pace only makes it harder for the scan.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.grow import grow
from bench.latency import Baseline
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.collection import stocktake
from kiosk.circulation.collection.kiosk_hook import CollectionHook
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store, fetch
from kiosk.daemon.app import open_store

QUICK = {"patrons": 300, "items": 2000, "loans": 5000}
BASELINE_EVERY = 10
REPORT_TIMES = 3
SCAN, BASE = "stocktake scan, answer after commit", "baseline: sqlite3 INSERT + COMMIT"
REPORT, MEANWHILE = "report of a finished stocktake", "report while scanning (so far)"
READ = "baseline: read every item row"
BARE_READ = "SELECT barcode, title, call_number, location, status FROM items"


def codes_to_scan(store: Store) -> list[str]:
    """Return the barcodes to scan: the shelf but one in a hundred, 50 on loan, 100 unknown."""
    rows = store.query(
        "SELECT barcode, EXISTS (SELECT 1 FROM loans l WHERE l.item_barcode = i.barcode "
        "AND l.returned_at IS NULL) AS out FROM items i ORDER BY barcode"
    )
    on_shelf = [r["barcode"] for r in rows if not r["out"]]
    on_loan = [r["barcode"] for r in rows if r["out"]]
    unknown = [f"UNKNOWN-{n:04d}" for n in range(100)]
    return [b for n, b in enumerate(on_shelf) if n % 100 != 50] + on_loan[:50] + unknown


class Reports:
    """Compute the report again and again on a connection of its own, until stopped."""

    def __init__(self, path: Path, st: dict[str, Any]) -> None:
        self.path, self.st = path, st
        self.times: list[float] = []
        self.stop = threading.Event()
        self.turn = threading.Lock()  # held by the thread while it computes a report
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        store = Store.open(self.path, migrate=False, check="quick")
        try:
            while not self.stop.is_set():
                with self.turn:
                    start = time.perf_counter()
                    stocktake.report(store.reader, self.st)
                    self.times.append((time.perf_counter() - start) * 1000)
                time.sleep(0.001)  # let a paused() caller take the turn
        finally:
            store.close()

    def paused(self) -> threading.Lock:
        """Return the lock that keeps the thread from starting another report while held."""
        return self.turn

    def take(self) -> list[float]:
        """Return the times since the last call."""
        taken, self.times = self.times, []
        return taken


def finished_stocktake(store: Store, codes: list[str]) -> dict[str, Any]:
    """Make a finished stocktake with every code scanned (one transaction), for the report."""
    assert stocktake.start(store, stocktake.Scope(location="library"), "bench").ok
    with store.write():  # each scan joins this one transaction: setup, not measured
        for code in codes:
            assert stocktake.scan(store, code, "bench").outcome.ok
    st = stocktake.running(store.reader)
    assert st is not None and stocktake.set_status(store, "finished", "bench").ok
    return st


def run(folder: Path, bench: harness.Bench) -> dict[str, int]:
    """Scan the shelf in rounds in stocktake mode; record scans, baselines and reports."""
    settings = config.from_dict(
        {"store": {"path": str(folder / "kiosk.db")}, "scanner": {"source": "none:"}},
        base_dir=folder,
    )
    store = open_store(settings, SystemClock())
    circulation = Circulation(store, settings.kiosk.timezone)
    kiosk = Kiosk(circulation, SystemClock(), hook=CollectionHook(circulation))
    baseline = Baseline(folder / "baseline.db")
    codes = codes_to_scan(store)
    finished = finished_stocktake(store, codes)
    assert stocktake.start(store, stocktake.Scope(location="library"), "bench").ok
    st = stocktake.running(store.reader)
    assert st is not None
    reports = Reports(store.path, st)
    reports.thread.start()
    per_round = -(-len(codes) // bench.n_rounds)
    try:
        for r in bench.rounds():
            scans, base = [], []
            for n, code in enumerate(codes[r * per_round : (r + 1) * per_round]):
                start = time.perf_counter()
                fb = kiosk.scan(code)
                scans.append((time.perf_counter() - start) * 1000)
                assert fb.reason.startswith("stocktake_"), fb
                if n % BASELINE_EVERY == 0:
                    base.append(baseline.once() * 1000)
            bench.record(SCAN, scans, "ms")
            bench.record(BASE, base, "ms")
            bench.record(MEANWHILE, reports.take(), "ms")
            with reports.paused():  # the finished report alone, as the dashboard asks for it
                for _ in range(REPORT_TIMES):
                    start = time.perf_counter()
                    rows = stocktake.report(store.reader, finished)
                    bench.record(REPORT, (time.perf_counter() - start) * 1000, "ms")
                    start = time.perf_counter()
                    fetch(store.reader, BARE_READ)
                    bench.record(READ, (time.perf_counter() - start) * 1000, "ms")
    finally:
        reports.stop.set()
        reports.thread.join()
        baseline.close()
        store.close()
    return stocktake.summary(rows)


def main(argv: list[str] | None = None) -> None:
    """Grow a store, run the stocktake in rounds, print the tables."""
    args = harness.parser(__doc__).parse_args(argv)
    sizes = harness.size(args, {}, QUICK)
    with harness.workdir(args, "stocktake") as folder:
        grown = grow(folder / "kiosk.db", **sizes)
        bench = harness.Bench("stocktake", args)
        counts = run(folder, bench)
    for stat in ("p50", "p99"):
        bench.compare(f"stocktake scan: {stat}", SCAN, BASE, stat, harness.ratio_at_most(3))
    bench.compare("stocktake report, finished", REPORT, READ, "p50", harness.at_most(1000, "ms"))
    bench.compare("report while helpers scan", MEANWHILE, None, "p50")
    bench.note(
        f"store: {grown['patrons']:,} patrons, {grown['items']:,} items, {grown['loans']:,} past "
        f"loans, grown in {grown['seconds']} s; one stocktake scanned over the rounds; "
        f"report counts at the end: {counts}"
    )
    bench.report()


if __name__ == "__main__":
    main()
