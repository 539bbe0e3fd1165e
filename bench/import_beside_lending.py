"""Imports beside lending: scan answers and memory while 300,000 rows are imported.

`.venv/bin/python -m bench.import_beside_lending` (or `--quick`: 5,000 rows) sets up a school
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

Rounds (bench.harness) of 1-3 (the command-line dry run and the thread only in the first round):
p50 and p99 of the scans beside the baseline scans of the same round, the daemon's memory growth.
Targets (issue 10): scans within 100 ms of the baseline; the daemon's memory within 100 MB.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import harness
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.importers import import_file, worker
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store

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
        took = []  # seconds
        for expect in ("checkout", "checkin"):
            if expect == "checkin":
                self.kiosk.done()
            start = time.perf_counter()
            fb = self.kiosk.scan(f"B{i:05d}")
            took.append(time.perf_counter() - start)
            assert fb.kind == "ok" and fb.result and fb.result.action == expect, fb
        return took


def scan_while(desk: Desk, running: threading.Event | None, count: int = 0) -> list[float]:
    """Scan until `running` clears (or `count` rounds); return each scan's milliseconds."""
    times: list[float] = []
    rounds = 0
    while (running is not None and running.is_set()) or (running is None and rounds < count):
        times += [seconds * 1000 for seconds in desk.once()]
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


def within(ms: float) -> harness.Target:
    """Target: ours no more than `ms` above its baseline (the same scans without an import)."""
    return harness.Target(
        f"≤ baseline + {ms:g} ms",
        lambda ours, ratio: ratio is not None and ours - ours / ratio <= ms,
    )


def main(argv: list[str] | None = None) -> None:
    """Scan beside imports in rounds; print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--rows", type=int, help="rows per import (default 300,000; --quick 5,000)")
    args = ap.parse_args(argv)
    rows = args.rows or harness.size(args, 300_000, 5_000)
    bench = harness.Bench("import_beside_lending", args)
    with harness.workdir(args, "import_beside_lending") as folder:
        cfg = folder / "config.toml"
        cfg.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
        settings = config.load(cfg)
        store = open_store(settings, SystemClock())
        store.start_checkpointer(settings.store.checkpoint_delay_s)  # as the daemon does
        school(store)
        desk = Desk(Kiosk(Circulation(store, settings.kiosk.timezone), SystemClock()))
        scan_while(desk, None, 20)  # warm up
        took: dict[str, list[float]] = {}
        for r in bench.rounds():
            web_file = books_csv(folder / "web.csv", rows, f"W{r}")
            cli_file = books_csv(folder / "cli.csv", rows, f"C{r}")
            times = scan_while(desk, None, 150)
            bench.record("baseline: scans, no import", times)
            bench.record("baseline: slowest scan", max(times))
            times, seconds, before, peak = web_import(store, desk, web_file, in_thread=False)
            bench.record("scans beside the web import (worker process)", times)
            bench.record("slowest scan beside the web import", max(times))
            bench.record("daemon memory growth during the web import", peak - before, "MB")
            took.setdefault("web import (worker process)", []).append(seconds)
            times, seconds = command_line(desk, cfg, cli_file)
            bench.record("scans beside `kiosk import items`", times)
            bench.record("slowest scan beside `kiosk import items`", max(times))
            took.setdefault("`kiosk import items`", []).append(seconds)
            if r == 0:  # once: how it was, and the dry run
                times, seconds = command_line(desk, cfg, web_file, "--dry-run")
                bench.record("scans beside `kiosk import items --dry-run` (round 1)", times)
                took.setdefault("dry run", []).append(seconds)
                thread_file = books_csv(folder / "thread.csv", rows, "T")
                times, seconds, before, peak = web_import(store, desk, thread_file, in_thread=True)
                bench.record("before: scans beside an import in a thread of the daemon", times)
                bench.record(
                    "before: daemon memory growth, import in a thread", peak - before, "MB"
                )
                took.setdefault("import in a thread", []).append(seconds)
            for path in folder.glob("*.csv"):
                path.unlink()
        worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        store.close()
    base = "baseline: scans, no import"
    for measure in (
        "scans beside the web import (worker process)",
        "scans beside `kiosk import items`",
    ):
        bench.compare(f"{measure}: p50", measure, base, "p50", within(100))
        bench.compare(f"{measure}: p99", measure, base, "p99", within(100))
    for measure in (
        "slowest scan beside the web import",
        "slowest scan beside `kiosk import items`",
    ):
        bench.compare(measure, measure, "baseline: slowest scan", "p50", within(100))
    bench.compare(
        "daemon memory growth during the web import",
        "daemon memory growth during the web import",
        None,
        "p50",
        harness.at_most(100, "MB"),
    )
    for measure in (
        "scans beside `kiosk import items --dry-run` (round 1)",
        "before: scans beside an import in a thread of the daemon",
    ):
        bench.compare(f"{measure}: p99", measure, None, "p99")
    seconds = ", ".join(f"{k} {statistics.median(v):.0f} s" for k, v in took.items())
    bench.note(f"{rows:,} new books per import (CSV); import took (median): {seconds}")
    bench.note(
        f"scans: a card, a checkout, a return, {PAUSE_S * 1000:.0f} ms apart, through Kiosk.scan; "
        f"largest peak memory of a child (worker or command line): {worker_mb:.0f} MB"
    )
    bench.report()


if __name__ == "__main__":
    main()
