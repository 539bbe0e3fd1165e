"""CSV export, CSV import and the demo school: time and memory, beside bare-SQLite baselines.

    .venv/bin/python -m bench.data_io [--no-export] [--rounds 3] [--quick] [--dir FOLDER]

It grows a store to 500,000 loans (bench.grow), then measures, each once a round (bench.harness):

- export of all loans through `write_csv` (joins, cards, local times) against a baseline that
  writes the bare loans table with `csv.writer`; rows per second and the peak of Python memory
  (tracemalloc) while exporting, which stays flat because rows stream from the cursor;
- import of 10,000 patrons from a GB18030 CSV (validation, card checks, put_patron, one
  transaction) against a baseline `executemany` of the same rows into the same tables;
- building the demo school (no baseline: nothing bare builds the same).
"""

from __future__ import annotations

import csv
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import harness
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


def bench_export(folder: Path, bench: harness.Bench, sizes: dict[str, int]) -> None:
    """Export every loan of a grown store each round, beside the bare table through csv.writer."""
    store = Store.open(folder / "grown.db")
    grown = grow(store, **sizes)
    n = 0
    for _ in bench.rounds():
        ours_s, n = timed(write_csv, store, "loans", Sink())
        base_s, m = timed(bare_export, store)
        assert n == m, (n, m)
        bench.record("export loans: write_csv", n / ours_s, "rows/s")
        bench.record("baseline: bare loans table through csv.writer", n / base_s, "rows/s")
    tracemalloc.start()
    write_csv(store, "loans", Sink())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    bench.record("export loans: peak Python memory", peak / 1e6, "MB")
    store.close()
    bench.note(
        f"export: {n:,} loans of a store grown to {grown['patrons']:,} patrons and "
        f"{grown['items']:,} items; peak memory measured once, with tracemalloc"
    )


def patrons_file(folder: Path, count: int) -> Path:
    """Write a GB18030 CSV of `count` students with two cards each; return its path."""
    path = folder / "patrons.csv"
    lines = ["学号,姓名,班级,年级,身份,卡号"]
    for n in range(count):
        g, c = n % 6 + 1, n % 3 + 1
        lines.append(f"B{n:05d},学生{n},{'一二三四五六'[g - 1]}({c})班,{g},学生,0D{n:08X}|B{n:05d}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path


def bench_import(folder: Path, bench: harness.Bench, count: int) -> None:
    """Each round: dry run, import and re-import into a new store, then the bare rows."""
    path = patrons_file(folder, count)
    rows = [(f"B{n:05d}", f"学生{n}", "student", n % 6 + 1, "一(1)班", "t") for n in range(count)]
    card_rows = [(f"0D{n:08X}", f"B{n:05d}", "t") for n in range(count)]
    card_rows += [(f"B{n:05d}", f"B{n:05d}", "t") for n in range(count)]
    for r in bench.rounds():
        store = Store.open(folder / f"import{r}.db")
        dry_s, report = timed(import_csv, store, "patrons", path, dry_run=True)
        ours_s, report = timed(import_csv, store, "patrons", path)
        assert report.inserted == count, report.errors[:3]
        again_s, report = timed(import_csv, store, "patrons", path)
        assert report.unchanged == count
        store.close()
        base = Store.open(folder / f"baseline{r}.db")

        def bare(db_store: Store = base) -> None:
            with db_store.write() as db:
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
        bench.record("import patrons", ours_s, "s")
        bench.record("import patrons, dry run", dry_s, "s")
        bench.record("import patrons again, unchanged", again_s, "s")
        bench.record("baseline: bare executemany of the same rows, one COMMIT", base_s, "s")
    bench.note(f"import: {count:,} patrons from a GB18030 CSV, 2 cards each, into a new store")


def bench_demo(folder: Path, bench: harness.Bench) -> None:
    """Build the demo school once a round."""
    for r in bench.rounds():
        seconds, _ = timed(make_demo, folder / f"demo{r}", 2026)
        bench.record("build the demo school", seconds, "s")


def main(argv: list[str] | None = None) -> None:
    """Measure the demo, the import and the export in rounds; print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--no-export", action="store_true", help="skip the export (no grown store)")
    args = ap.parse_args(argv)
    bench = harness.Bench("data_io", args)
    count = harness.size(args, 10_000, 200)
    sizes = harness.size(args, {}, {"patrons": 300, "items": 2000, "loans": 5000})
    with harness.workdir(args, "data-io") as folder:
        bench_demo(folder, bench)
        bench_import(folder, bench, count)
        if not args.no_export:
            bench_export(folder, bench, sizes)
    bench.compare("build the demo school", "build the demo school", None, "p50")
    base = "baseline: bare executemany of the same rows, one COMMIT"
    for measure in ("import patrons", "import patrons, dry run", "import patrons again, unchanged"):
        bench.compare(f"{measure} ({count:,})", measure, base, "p50")
    if not args.no_export:
        bench.compare(
            "export loans (rate)",
            "export loans: write_csv",
            "baseline: bare loans table through csv.writer",
            "p50",
        )
        bench.compare(
            "export loans: peak Python memory",
            "export loans: peak Python memory",
            None,
            "p50",
        )
    bench.report()


if __name__ == "__main__":
    main()
