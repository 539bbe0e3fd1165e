"""Scan-to-committed-result latency, idle memory and start-up time of the kiosk.

    .venv/bin/python -m bench.latency [--dir FOLDER] [--sessions 200] [--runs 5]

1. Grows a store (bench.grow: 10,000 patrons, 50,000 items, 500,000 past loans).
2. Calls `Kiosk.scan` in-process, through session, service and store, as the daemon does: a
   student card, then two books (checkouts); later each book scanned with no card (returns).
   Each scan is timed from the call to the returned feedback, which comes after the COMMIT.
3. Right after each timed scan, times the baseline: a bare `sqlite3` INSERT plus COMMIT of one
   small row with the same pragmas (WAL, synchronous=FULL) in a file in the same folder, so
   both see the same disk at the same moment.
4. Starts `kiosk run` on the grown store a few times: seconds from process start to the "ready"
   log line, and VmRSS once it sits idle.

The folder defaults to a new one under the current directory, not /tmp, because /tmp may be a
RAM disk where fsync costs nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.grow import card_code, grow, patron_id
from kiosk import config
from kiosk.app import open_store
from kiosk.circulation.clock import SystemClock
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk

WARM_UP = 10
IDLE_S = 2.0


def percentile(samples: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    rank = max(1, round(p / 100 * len(ordered)))
    return ordered[rank - 1]


class Baseline:
    """A bare sqlite3 INSERT plus COMMIT with the store's pragmas."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
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


def scan_latency(folder: Path, sessions: int) -> dict[str, list[float]]:
    """Time card, checkout and return scans on the grown store, each beside a baseline commit."""
    settings = config.from_dict(
        {"store": {"path": str(folder / "kiosk.db")}, "scanner": {"source": "none:"}},
        base_dir=folder,
    )
    store = open_store(settings, SystemClock())
    circulation = Circulation(store, settings.kiosk.timezone)
    kiosk = Kiosk(circulation, SystemClock())
    baseline = Baseline(folder / "baseline.db")
    patrons, books = _free_patrons_and_books(store, sessions + WARM_UP)
    times: dict[str, list[float]] = {"checkout": [], "return": [], "baseline": []}
    lent: list[tuple[bool, str]] = []
    try:
        for i, (patron, (first, second)) in enumerate(zip(patrons, books, strict=True)):
            warm = i < WARM_UP
            fb = kiosk.scan(card_code(patron))
            assert fb.kind == "session_started", fb
            for barcode in (first, second):
                seconds, fb = timed(partial(kiosk.scan, barcode))
                assert fb.kind == "ok" and fb.result and fb.result.action == "checkout", fb
                lent.append((warm, barcode))
                if not warm:
                    times["checkout"].append(seconds)
                    times["baseline"].append(baseline.once())
        kiosk.done()
        for warm, barcode in lent:
            seconds, fb = timed(partial(kiosk.scan, barcode))
            assert fb.kind == "ok" and fb.result and fb.result.action == "checkin", fb
            if not warm:
                times["return"].append(seconds)
                times["baseline"].append(baseline.once())
    finally:
        baseline.close()
        store.close()
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


def daemon_figures(folder: Path, runs: int) -> dict[str, list[float]]:
    """Start `kiosk run` on the grown store; return seconds to ready and idle VmRSS in MB."""
    cfg = folder / "config.toml"
    cfg.write_text(
        '[store]\npath = "kiosk.db"\n[scanner]\nsource = "fifo:scan.fifo"\n'
        '[indicator]\nkind = "console"\n[web]\nlisten = "127.0.0.1:18089"\n',
        encoding="utf-8",
    )
    figures: dict[str, list[float]] = {"ready_s": [], "rss_mb": []}
    for _ in range(runs):
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--config", str(cfg), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert proc.stderr is not None
        try:
            for raw in proc.stderr:
                if b"ready" in raw:
                    figures["ready_s"].append(time.monotonic() - start)
                    break
            else:
                raise RuntimeError(f"kiosk run ended without ready (exit {proc.wait()})")
            time.sleep(IDLE_S)
            figures["rss_mb"].append(_rss_mb(proc.pid))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    return figures


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.2f}"


def report(times: dict[str, list[float]], daemon: dict[str, list[float]], grown: dict) -> str:
    """Return the figures as a small Markdown table."""
    base99 = percentile(times["baseline"], 99)
    lines = [
        f"store: {grown['patrons']:,} patrons, {grown['items']:,} items, "
        f"{grown['loans']:,} past loans ({grown['open_loans']:,} open), grown in "
        f"{grown['seconds']} s",
        "",
        "| scan to committed result | n | p50 ms | p99 ms | p99 / baseline p99 |",
        "|---|---|---|---|---|",
    ]
    for name in ("checkout", "return", "baseline"):
        s = times[name]
        label = "baseline: sqlite3 INSERT + COMMIT" if name == "baseline" else name
        ratio = percentile(s, 99) / base99
        lines.append(
            f"| {label} | {len(s)} | {ms(percentile(s, 50))} | {ms(percentile(s, 99))} | "
            f"{ratio:.1f}x |"
        )
    lines += [
        "",
        "| daemon on the grown store | median | runs |",
        "|---|---|---|",
        f"| start-up to ready (s) | {statistics.median(daemon['ready_s']):.2f} | "
        f"{', '.join(f'{v:.2f}' for v in daemon['ready_s'])} |",
        f"| idle VmRSS (MB) | {statistics.median(daemon['rss_mb']):.1f} | "
        f"{', '.join(f'{v:.1f}' for v in daemon['rss_mb'])} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Grow a store, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="Folder for the store and baseline files.")
    parser.add_argument("--sessions", type=int, default=200, help="Student sessions (2 books).")
    parser.add_argument("--runs", type=int, default=5, help="Daemon start-ups to measure.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.dir or Path.cwd()) as tmp:
        folder = Path(tmp)
        grown = grow(folder / "kiosk.db")
        times = scan_latency(folder, args.sessions)
        daemon = daemon_figures(folder, args.runs)
        print(
            f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} cores, folder {args.dir or Path.cwd()}"
        )
        print(report(times, daemon, grown))


if __name__ == "__main__":
    main()
