"""Scan-to-committed-result latency, idle memory and start-up time of the kiosk.

    .venv/bin/python -m bench.latency [--dir FOLDER] [--sessions 500] [--rounds 3] [--quick]

1. Grows a store (bench.grow: 10,000 patrons, 50,000 items, 500,000 past loans).
2. In each of the rounds (bench.harness: the figures are the median of the rounds' p50 and p99,
   with their spread), calls `Kiosk.scan` in-process, through session, service and store, as
   the daemon does (its hook for stocktakes, holds and reading badges, its background
   checkpointer, its start-up objects frozen for the garbage collector): a student card, then
   two books (checkouts); later each book scanned with no card (returns). 500 sessions a round
   give 1,000 checkouts, so a round's p99 is its 10th slowest scan, not its 2nd.
   Each scan is timed from the call to the returned feedback, which comes after the COMMIT.
3. Right after each timed scan, times the baseline: a bare `sqlite3` INSERT plus COMMIT of one
   small row with the same pragmas (WAL, synchronous=FULL) in a file in the same folder, so
   both see the same disk at the same moment.
4. Starts `kiosk run` on the grown store once a round: seconds from process start to the
   "ready" log line, and VmRSS once it sits idle. Its baseline, started right after it: a bare
   Python process that imports the daemon's code and says ready, the least any start-up costs.

The folder defaults to a new one under the current directory, not /tmp, because /tmp may be a
RAM disk where fsync costs nothing.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import harness
from bench.grow import card_code, patron_id
from kiosk import config
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import WAL_MAX_PAGES
from kiosk.daemon.app import freeze_start_up_objects, kiosk_hook, open_store

WARM_UP = 10
IDLE_S = 2.0


class Baseline:
    """A bare sqlite3 INSERT plus COMMIT with the store's pragmas."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        # The store's own auto-checkpoint too: with SQLite's default (1,000 pages) the bare
        # commit would fold and rewrite its WAL in place every few hundred commits (the cheaper
        # sync), while the store's WAL grows between its quiet-moment checkpoints.
        self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_MAX_PAGES}")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, code TEXT, at TEXT)"
        )
        self.n = 0

    def once(self) -> float:
        """Insert and commit one row; return the seconds it took."""
        self.n += 1
        start = time.perf_counter()
        self.conn.execute("BEGIN")
        self.conn.execute("INSERT INTO t (code, at) VALUES (?, ?)", [str(self.n), "now"])
        self.conn.execute("COMMIT")
        return time.perf_counter() - start

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Run an action; return its seconds and result."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def scan_latency(folder: Path, sessions: int, bench: harness.Bench) -> None:
    """Time checkouts and returns on the grown store in rounds, each beside a baseline commit."""
    settings = config.from_dict(
        {"store": {"path": str(folder / "kiosk.db")}, "scanner": {"source": "none:"}},
        base_dir=folder,
    )
    store = open_store(settings, SystemClock())
    store.start_checkpointer(settings.store.checkpoint_delay_s)  # as the daemon does
    circulation = Circulation(store, settings.kiosk.timezone)
    kiosk = Kiosk(circulation, SystemClock(), hook=kiosk_hook(circulation, settings))
    baseline = Baseline(folder / "baseline.db")
    per_round = sessions + WARM_UP
    patrons, books = _free_patrons_and_books(store, per_round * bench.n_rounds)
    freeze_start_up_objects()  # as the daemon does once it is ready
    try:
        for r in bench.rounds():
            pairs = zip(patrons[r * per_round :], books[r * per_round :], strict=False)
            times = one_round(kiosk, baseline, list(pairs)[:per_round])
            for name, seconds in times.items():
                bench.record(name, [t * 1000 for t in seconds], "ms")
    finally:
        baseline.close()
        store.close()


def one_round(
    kiosk: Kiosk, baseline: Baseline, sessions: list[tuple[int, tuple[str, str]]]
) -> dict[str, list[float]]:
    """Lend two books to each student, then take them all back; time each beside a baseline."""
    times: dict[str, list[float]] = {
        "checkout": [],
        "return": [],
        "baseline: sqlite3 INSERT + COMMIT": [],
    }
    base = times["baseline: sqlite3 INSERT + COMMIT"]
    lent: list[tuple[bool, str]] = []
    for i, (patron, (first, second)) in enumerate(sessions):
        warm = i < WARM_UP
        fb = kiosk.scan(card_code(patron))
        assert fb.kind == "session_started", fb
        for barcode in (first, second):
            seconds, fb = timed(partial(kiosk.scan, barcode))
            assert fb.kind == "ok" and fb.result and fb.result.action == "checkout", fb
            lent.append((warm, barcode))
            if not warm:
                times["checkout"].append(seconds)
                base.append(baseline.once())
    kiosk.done()
    for warm, barcode in lent:
        seconds, fb = timed(partial(kiosk.scan, barcode))
        assert fb.kind == "ok" and fb.result and fb.result.action == "checkin", fb
        if not warm:
            times["return"].append(seconds)
            base.append(baseline.once())
    return times


def _free_patrons_and_books(store: Any, count: int) -> tuple[list[int], list[tuple[str, str]]]:
    """Pick students who may borrow two books now, and pairs of books on the shelf."""
    free = store.query(
        "SELECT id FROM patrons WHERE role = 'student' AND grade >= 3 AND id NOT IN "
        "(SELECT patron_id FROM loans WHERE returned_at IS NULL) ORDER BY id LIMIT ?",
        [count],
    )
    numbers = [int(r["id"][1:]) for r in free]
    assert [patron_id(n) for n in numbers] == [r["id"] for r in free]
    shelf = store.query(
        "SELECT barcode FROM items WHERE status = 'available' ORDER BY barcode DESC LIMIT ?",
        [2 * count],
    )
    barcodes = [r["barcode"] for r in shelf]
    assert len(numbers) == count and len(barcodes) == 2 * count
    return numbers, list(zip(barcodes[::2], barcodes[1::2], strict=True))


READY = (
    "import sys, time, kiosk.daemon.app, kiosk.cli; print('ready', file=sys.stderr, flush=True); "
    "time.sleep(600)"
)


def daemon_figures(folder: Path, bench: harness.Bench) -> None:
    """Each round, start `kiosk run` on the grown store and a bare Python process beside it."""
    cfg = folder / "config.toml"
    cfg.write_text(
        '[store]\npath = "kiosk.db"\n[scanner]\nsource = "fifo:scan.fifo"\n'
        '[indicator]\nkind = "console"\n[web]\nlisten = "127.0.0.1:0"\n',
        encoding="utf-8",
    )
    daemon = [sys.executable, "-m", "kiosk", "--config", str(cfg), "run"]
    bare = [sys.executable, "-c", READY]
    for _ in bench.rounds():
        for name, cmd in (("kiosk run", daemon), ("baseline: Python imports the code", bare)):
            ready_s, rss = start_and_idle(cmd, name, bench.quick)
            bench.record(f"start-up to ready: {name}", ready_s, "s")
            bench.record(f"idle VmRSS: {name}", rss, "MB")


def start_and_idle(cmd: list[str], name: str, quick: bool) -> tuple[float, float]:
    """Start a process; return seconds to its ready line and its VmRSS after idling."""
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        harness.wait_for_line(proc.stderr, b"ready", f"`{name}` to log ready", 120)
        ready_s = time.monotonic() - start
        time.sleep(0.2 if quick else IDLE_S)
        rss = _rss_mb(proc.pid) if proc.poll() is None else float("nan")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise harness.Timeout(f"`{name}` did not stop within 30 s of SIGTERM") from None
    return ready_s, rss


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main(argv: list[str] | None = None) -> None:
    """Grow a store, measure in rounds, print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--sessions", type=int, help="student sessions (2 books) per round: 500")
    args = ap.parse_args(argv)
    sessions = args.sessions or harness.size(args, 500, 5)
    with harness.workdir(args, "latency") as folder:
        grown = harness.grown_store(folder / "kiosk.db", args)
        bench = harness.Bench("latency", args)
        scan_latency(folder, sessions, bench)
        daemon_figures(folder, bench)
    base = "baseline: sqlite3 INSERT + COMMIT"
    # The p50's 3x is the first wave's target; the p99s' 1.5x is the one command handler's aim
    # (issue 20): a scan's tail no worse than half again the bare commit's.
    for stat, most in (("p50", 3.0), ("p99", 1.5)):
        bench.compare(
            f"scan to committed result, checkout: {stat}",
            "checkout",
            base,
            stat,
            harness.ratio_at_most(most),
        )
    bench.compare(
        "scan to committed result, return: p99", "return", base, "p99", harness.ratio_at_most(1.5)
    )
    bare = "baseline: Python imports the code"
    bench.compare(
        "daemon start-up to ready, grown store",
        "start-up to ready: kiosk run",
        f"start-up to ready: {bare}",
        "p50",
    )
    bench.compare(
        "daemon idle memory (VmRSS)",
        "idle VmRSS: kiosk run",
        f"idle VmRSS: {bare}",
        "p50",
        harness.at_most(60, "MB"),
    )
    bench.note(
        f"store: {grown['patrons']:,} patrons, {grown['items']:,} items, {grown['loans']:,} past "
        f"loans ({grown['open_loans']:,} open), grown in {grown['seconds']} s; {sessions} "
        f"sessions of 2 books per round after {WARM_UP} not counted, through the daemon's hook "
        "(stocktake, holds, reading badges)"
    )
    bench.report()


if __name__ == "__main__":
    main()
