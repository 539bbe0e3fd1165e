"""A stocktake of the whole grown collection: every scan's answer, and the report's time.

    .venv/bin/python -m bench.stocktake [--quick] [--dir FOLDER] [--every 10]

1. Grows a store (bench.grow: 10,000 patrons, 50,000 items, 500,000 past loans; `--quick`
   1,000 / 5,000 / 20,000).
2. Starts a stocktake of the library and scans every book on the shelf (all but one in a
   hundred, which are "missing"), 50 books the records say are on loan and 100 unknown
   barcodes, through `Kiosk.scan` with the collection's hook, as the daemon does in stocktake
   mode. Each scan is timed from the call to
   the returned feedback, which comes after the COMMIT; the stocktake grows to its full size,
   so the last scans show whether a big stocktake slows a scan.
3. After every `--every`-th timed scan, times the baseline: a bare `sqlite3` INSERT plus COMMIT
   of one small row with the same pragmas (WAL, synchronous=FULL) in the same folder.
4. Meanwhile another thread computes the report again and again on its own connection, as the
   dashboard would while helpers scan: a report must never hold a scan up.
5. Times the finished stocktake's report (every barcode with its status) a few times.

Scans go as fast as the store allows rather than one a second: a scan a second would take 14
hours, and a faster pace only makes it harder. The folder defaults to a new one under the
current directory, not /tmp, because /tmp may be a RAM disk where fsync costs nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.grow import grow
from bench.latency import Baseline, percentile
from kiosk import config
from kiosk.app import open_store
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.collection import stocktake
from kiosk.circulation.collection.kiosk_hook import CollectionHook
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

FULL = {"patrons": 10_000, "items": 50_000, "loans": 500_000}
QUICK = {"patrons": 1_000, "items": 5_000, "loans": 20_000}
REPORT_ROUNDS = 5


def shelf(store: Store) -> list[str]:
    """Return the barcodes to scan: the shelf but one in a hundred (missing), 50 books on loan."""
    rows = store.query(
        "SELECT barcode, EXISTS (SELECT 1 FROM loans l WHERE l.item_barcode = i.barcode "
        "AND l.returned_at IS NULL) AS out FROM items i ORDER BY barcode"
    )
    on_shelf = [r["barcode"] for r in rows if not r["out"]]
    on_loan = [r["barcode"] for r in rows if r["out"]]
    return [b for n, b in enumerate(on_shelf) if n % 100 != 50] + on_loan[:50]


def run(folder: Path, sizes: dict[str, int], every: int) -> dict[str, Any]:
    """Grow, scan the whole shelf in stocktake mode, time the report; return the figures."""
    settings = config.from_dict(
        {"store": {"path": str(folder / "kiosk.db")}, "scanner": {"source": "none:"}},
        base_dir=folder,
    )
    store = open_store(settings, SystemClock())
    grown = grow(store, **sizes)
    circulation = Circulation(store, settings.kiosk.timezone)
    kiosk = Kiosk(circulation, SystemClock(), hook=CollectionHook(circulation))
    baseline = Baseline(folder / "baseline.db")
    codes = shelf(store) + [f"UNKNOWN-{n:04d}" for n in range(100)]
    assert stocktake.start(store, stocktake.Scope(location="library"), "bench").ok
    st = stocktake.running(store.reader)
    assert st is not None

    stop = threading.Event()
    reports = []

    def report_meanwhile() -> None:
        reader = Store.open(store.path, migrate=False, check="quick")
        try:
            while not stop.is_set():
                t = time.perf_counter()
                stocktake.report(reader.reader, st)
                reports.append(time.perf_counter() - t)
        finally:
            reader.close()

    side = threading.Thread(target=report_meanwhile, daemon=True)
    side.start()
    scans, base = [], []
    try:
        for n, code in enumerate(codes):
            t = time.perf_counter()
            fb = kiosk.scan(code)
            scans.append(time.perf_counter() - t)
            assert fb.reason.startswith("stocktake_"), fb
            if n % every == 0:
                base.append(baseline.once())
    finally:
        stop.set()
        side.join()
        baseline.close()
    report_s = []
    for _ in range(REPORT_ROUNDS):
        t = time.perf_counter()
        rows = stocktake.report(store.reader, st)
        report_s.append(time.perf_counter() - t)
    counts = stocktake.summary(rows)
    store.close()
    return {
        "grown": grown,
        "scans": scans,
        "baseline": base,
        "report_s": report_s,
        "reports_meanwhile": reports,
        "counts": counts,
    }


def show(figures: dict[str, Any]) -> None:
    """Print the figures: scans beside the baseline, the report, the counts."""
    ms = 1000.0

    def line(name: str, xs: list[float]) -> None:
        print(
            f"{name:<28} n={len(xs):>6}  median {statistics.median(xs) * ms:8.2f} ms  "
            f"p99 {percentile(xs, 99) * ms:8.2f} ms  max {max(xs) * ms:8.2f} ms"
        )

    print(f"grown store: {figures['grown']}")
    line("stocktake scan (answer)", figures["scans"])
    tail = figures["scans"][-max(1, len(figures["scans"]) // 10) :]
    line("  last tenth of the scans", tail)
    line("baseline: bare commit", figures["baseline"])
    ratio = percentile(figures["scans"], 99) / percentile(figures["baseline"], 99)
    print(f"scan p99 / baseline p99: {ratio:.2f} (goal: at most 3)")
    line("report (finished)", figures["report_s"])
    if figures["reports_meanwhile"]:
        line("report while scanning", figures["reports_meanwhile"])
    print(f"report counts: {figures['counts']}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.stocktake", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="A small store, for a quick look.")
    parser.add_argument("--dir", type=Path, help="Folder for the stores (default: a new one here).")
    parser.add_argument("--every", type=int, default=10, help="Baseline after every Nth scan.")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-stocktake-", dir=Path.cwd()))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"folder: {folder}")
    show(run(folder, QUICK if args.quick else FULL, args.every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
