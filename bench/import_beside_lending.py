"""Imports beside lending: scan answers and memory while 300,000 rows are imported.

`.venv/bin/python -m bench.import_beside_lending` (or `--quick`: 30,000 rows) sets up a school
(200 students, 200 books on the shelf) and a CSV of 300,000 new books, then scans at the kiosk
the way a lunch break does, a checkout and a return over and over through `Kiosk.scan` (session,
service, store, as the daemon runs them), and times every scan to its committed answer:

1. baseline: scans with no import running;
2. web import: the dashboard's import starts its worker process (`importers.worker`, at a lower
   priority) exactly as the daemon does; the scans go on beside it; this process's VmRSS is
   sampled every 50 ms, and the worker's own peak is read when it ends;
   for comparison, the same import run in a thread of this process (as the daemon did before);
3. command-line import: `kiosk import items` of another 300,000 rows in its own process (the
   daemon and the command line share the SQLite file);
4. command-line dry run of the first file, as the librarian checks a file before importing.

It prints the median and p99 of each phase beside the baseline of the same run, the import's
seconds and the peak memory over the process's memory before the import.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.latency import percentile
from kiosk import config
from kiosk.app import open_store
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.importers import import_file, worker
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

STUDENTS = 200
PAUSE_S = 0.01  # between scans: a busy desk, far busier than a real one


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def school(store: Store) -> None:
    with store.write() as db:
        for n in range(STUDENTS):
            row = {
                "id": f"S{n:04d}",
                "name": f"学生{n}",
                "role": "student",
                "grade": 4,
                "class_name": "四(1)班",
            }
            put_patron(db, row, [f"0E{n:08X}"], store.now())
            put_item(db, {"barcode": f"B{n:05d}", "title": f"书{n}"}, store.now())


def books_csv(path: Path, rows: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write("条码号,题名,责任者,ISBN,索书号\n")
        for n in range(rows):
            f.write(
                f"{prefix}{n:07d},书名{n},作者{n % 977},9787020002207,I287.{n % 100}/{n % 53}\n"
            )
    return path


class Desk:
    """Scan a card, a book (checkout), then the book again (return), round the school."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.n = 0

    def once(self) -> list[float]:
        """Do one checkout and one return; return the seconds of each to its answer."""
        i = self.n % STUDENTS
        self.n += 1
        fb = self.kiosk.scan(f"0E{i:08X}")
        assert fb.kind == "session_started", fb
        took = []
        for expect in ("checkout", "checkin"):
            if expect == "checkin":
                self.kiosk.done()
            start = time.perf_counter()
            fb = self.kiosk.scan(f"B{i:05d}")
            took.append(time.perf_counter() - start)
            assert fb.kind == "ok" and fb.result and fb.result.action == expect, fb
        return took


def scan_while(desk: Desk, running: threading.Event | None, count: int = 0) -> list[float]:
    """Scan until `running` clears (or `count` rounds); return each scan's seconds."""
    times: list[float] = []
    rounds = 0
    while (running is not None and running.is_set()) or (running is None and rounds < count):
        times += desk.once()
        rounds += 1
        time.sleep(PAUSE_S)
    return times


def web_import(
    store: Store, desk: Desk, path: Path, in_thread: bool
) -> tuple[list[float], float, float, float]:
    """Import as the dashboard does (or in a thread); return scan times, s, RSS before and peak."""
    running = threading.Event()
    running.set()
    before = rss_mb()
    peak = [before]
    took = [0.0]

    def run() -> None:
        start = time.perf_counter()
        if in_thread:
            report = import_file(store, "items", path, actor="bench")
            assert report.ok, report.errors[:3]
        else:
            job = {
                "store": str(store.path),
                "kiosk_id": store.kiosk_id,
                "kind": "items",
                "file": str(path),
                "actor": "bench",
                "lang": "en",
            }
            result = worker.follow(worker.start(job), lambda done, total: None)
            assert result["ok"], result
        took[0] = time.perf_counter() - start
        running.clear()

    def sample() -> None:
        while running.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    threads = [threading.Thread(target=run), threading.Thread(target=sample)]
    for t in threads:
        t.start()
    times = scan_while(desk, running)
    for t in threads:
        t.join()
    return times, took[0], before, peak[0]


def command_line(desk: Desk, cfg: Path, path: Path, *extra: str) -> tuple[list[float], float]:
    """Run `kiosk import items` in its own process beside the scans."""
    running = threading.Event()
    running.set()
    took = [0.0]

    def run() -> None:
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk",
                "--config",
                str(cfg),
                "import",
                "items",
                str(path),
                *extra,
            ],
            capture_output=True,
        )
        took[0] = time.perf_counter() - start
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        running.clear()

    thread = threading.Thread(target=run)
    thread.start()
    times = scan_while(desk, running)
    thread.join()
    return times, took[0]


def row(label: str, samples: list[float], base: list[float]) -> str:
    p50, p99 = percentile(samples, 50) * 1000, percentile(samples, 99) * 1000
    b50, b99 = percentile(base, 50) * 1000, percentile(base, 99) * 1000
    return (
        f"| {label} | {len(samples)} | {p50:.2f} | {p99:.2f} | {max(samples) * 1000:.1f} | "
        f"+{p50 - b50:.2f} / +{p99 - b99:.2f} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30,000 rows instead of 300,000")
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args(argv)
    rows = args.rows or (30_000 if args.quick else 300_000)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        cfg = folder / "config.toml"
        cfg.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
        settings = config.load(cfg)
        store = open_store(settings, SystemClock())
        school(store)
        desk = Desk(Kiosk(Circulation(store, settings.kiosk.timezone), SystemClock()))
        first = books_csv(folder / "books-1.csv", rows, "N")
        second = books_csv(folder / "books-2.csv", rows, "M")
        third = books_csv(folder / "books-3.csv", rows, "T")
        scan_while(desk, None, 20)  # warm up
        base = scan_while(desk, None, 300)
        web_times, web_s, before, peak = web_import(store, desk, first, in_thread=False)
        worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        thread_times, thread_s, thread_before, thread_peak = web_import(
            store, desk, third, in_thread=True
        )
        cli_times, cli_s = command_line(desk, cfg, second)
        dry_times, dry_s = command_line(desk, cfg, first, "--dry-run")
        after = scan_while(desk, None, 300)
        store.close()
    print(f"{rows:,} rows per import; scans every {PAUSE_S * 1000:.0f} ms between rounds")
    print("| scans (checkout, return) | n | p50 ms | p99 ms | max ms | beside baseline p50 / p99 |")
    print("|---|---|---|---|---|---|")
    print(row("baseline: no import", base, base))
    print(row(f"web import, worker process ({web_s:.1f} s)", web_times, base))
    print(row(f"for comparison: in a thread of the daemon ({thread_s:.1f} s)", thread_times, base))
    print(row(f"`kiosk import items` in its own process ({cli_s:.1f} s)", cli_times, base))
    print(row(f"`kiosk import items --dry-run` ({dry_s:.1f} s)", dry_times, base))
    print(row("baseline again, after the imports", after, base))
    print(
        f"daemon process memory (VmRSS): {before:.0f} MB before the web import, "
        f"peak {peak:.0f} MB during it (+{peak - before:.0f} MB); the worker's own peak "
        f"{worker_mb:.0f} MB; in a thread instead: +{thread_peak - thread_before:.0f} MB"
    )


if __name__ == "__main__":
    main()
