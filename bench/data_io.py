"""CSV export, CSV import and the demo school: time and memory, beside bare-SQLite baselines.

`.venv/bin/python -m bench.data_io` grows a store to 500,000 loans (bench.grow), then measures:

- export of all loans through `write_csv` (joins, cards, local times) against a baseline that
  writes the bare loans table with `csv.writer`; rows per second and the peak of Python memory
  (tracemalloc) while exporting, which stays flat because rows stream from the cursor;
- import of 10,000 patrons from a GB18030 CSV (validation, card checks, put_patron, one
  transaction) against a baseline `executemany` of the same rows into the same tables;
- building the demo school (median of 3).
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.grow import grow
from kiosk.circulation.demo import make_demo
from kiosk.circulation.export import write_csv
from kiosk.circulation.importers import import_csv
from kiosk.circulation.store import Store


class Sink:
    """A text stream that only counts what is written to it."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kw)
    return time.perf_counter() - started, result


def bare_export(store: Store) -> int:
    writer = csv.writer(Sink())
    n = 0
    for row in store.reader.execute("SELECT * FROM loans ORDER BY checked_out_at, id"):
        writer.writerow(row)
        n += 1
    return n


def bench_export(folder: Path) -> None:
    store = Store.open(folder / "grown.db")
    print("grown:", grow(store))
    base_s, n = timed(bare_export, store)
    ours_s, m = timed(write_csv, store, "loans", Sink())
    assert n == m
    tracemalloc.start()
    write_csv(store, "loans", Sink())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.close()
    print(
        f"export {n} loans: write_csv {ours_s:.1f} s ({n / ours_s:,.0f} rows/s), "
        f"baseline bare table {base_s:.1f} s ({n / base_s:,.0f} rows/s); "
        f"peak Python memory while exporting {peak / 1e6:.1f} MB"
    )


def bench_import(folder: Path, count: int = 10_000) -> None:
    path = folder / "patrons.csv"
    lines = ["学号,姓名,班级,年级,身份,卡号"]
    for n in range(count):
        g, c = n % 6 + 1, n % 3 + 1
        lines.append(f"B{n:05d},学生{n},{'一二三四五六'[g - 1]}({c})班,{g},学生,0D{n:08X}|B{n:05d}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    store = Store.open(folder / "import.db")
    dry_s, report = timed(import_csv, store, "patrons", path, dry_run=True)
    ours_s, report = timed(import_csv, store, "patrons", path)
    assert report.inserted == count, report.errors[:3]
    again_s, report = timed(import_csv, store, "patrons", path)
    assert report.unchanged == count
    store.close()

    base = Store.open(folder / "baseline.db")
    rows = [(f"B{n:05d}", f"学生{n}", "student", n % 6 + 1, "一(1)班", "t") for n in range(count)]
    card_rows = [(f"0D{n:08X}", f"B{n:05d}", "t") for n in range(count)]
    card_rows += [(f"B{n:05d}", f"B{n:05d}", "t") for n in range(count)]

    def bare() -> None:
        with base.write() as db:
            db.conn.executemany(
                "INSERT INTO patrons (id, name, role, grade, class_name, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.conn.executemany(
                "INSERT INTO cards (code, patron_id, created_at) VALUES (?, ?, ?)", card_rows
            )

    base_s, _ = timed(bare)
    base.close()
    print(
        f"import {count} patrons (GB18030, 2 cards each): {ours_s:.2f} s, "
        f"dry run {dry_s:.2f} s, re-import unchanged {again_s:.2f} s; "
        f"baseline bare executemany {base_s:.2f} s"
    )


def bench_demo(folder: Path) -> None:
    runs = []
    for i in range(3):
        seconds, _ = timed(make_demo, folder / f"demo{i}", 2026)
        runs.append(seconds)
    print(f"demo school build: median {statistics.median(runs):.2f} s of {len(runs)} runs")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_demo(folder)
        bench_import(folder)
        if "--no-export" not in sys.argv:
            bench_export(folder)


if __name__ == "__main__":
    main()
