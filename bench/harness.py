"""What every benchmark shares: rounds beside a baseline, robust figures, deadlines, one table.

A benchmark in bench/ is `python -m bench.<name>` with no arguments, from any folder:

    args = harness.parser(__doc__).parse_args(argv)      # --quick, --rounds, --dir
    with harness.workdir(args, "latency") as folder:      # absolute; removed unless --dir
        bench = harness.Bench("latency", args)
        for _ in bench.rounds():                          # at least 3, ours and baseline inside
            bench.record("checkout", ms_list, "ms")       # samples of this round
            bench.record("baseline", base_ms_list, "ms")
        bench.compare("checkout p99", "checkout", "baseline", "p99", harness.ratio_at_most(3))
        bench.report()                                    # its tables, and the summary rows

Each round's samples give that round's p50 and p99; the figures are the median over the rounds
with their spread (lowest and highest round), so one disk outlier in one round cannot move them.
The ratio is the median of the rounds' ratios: ours and its baseline ran side by side, so a
machine that slows down in one round slows both. `report()` also appends the summary rows as JSON
lines to $BENCH_SUMMARY, from which `python -m bench.all` prints one table for all benchmarks.
`grown_store(path, args)` puts a store of school-district size there (grown once per `make bench`).

Every wait has a deadline and fails saying what it waited for: `wait_for`, `open_fifo_writer`,
`wait_for_line`, `wait_listening`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import platform
import queue
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

MIN_ROUNDS = 3
T = TypeVar("T")


class Timeout(RuntimeError):
    """A wait ran past its deadline; the message says what was awaited."""


# --- command line and folders ----------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """Return an argument parser with the options every benchmark has."""
    ap = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0] if doc else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes: seconds, to check it runs (make test)"
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=MIN_ROUNDS,
        help=f"rounds, each ours then its baseline (at least {MIN_ROUNDS})",
    )
    ap.add_argument(
        "--dir",
        type=Path,
        help="work folder, kept afterwards (default: a new one under the current folder, removed)",
    )
    return ap


def size(args: argparse.Namespace, full: T, quick: T) -> T:
    """Return the full size, or the tiny one with --quick."""
    return quick if getattr(args, "quick", False) else full


@contextlib.contextmanager
def workdir(args: argparse.Namespace, name: str) -> Iterator[Path]:
    """Yield an absolute, existing work folder: --dir (kept) or a new one here (removed).

    The default lives under the current folder, not /tmp, because /tmp may be a RAM disk
    where fsync costs nothing, and the benchmarks measure durable commits.
    """
    if threading.current_thread() is threading.main_thread():
        # Stopped past its deadline (bench.all sends SIGTERM): run the `finally`s, which stop
        # the processes it started and remove this folder.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    given = getattr(args, "dir", None)
    if given is not None:
        folder = Path(given).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    here = Path.cwd().resolve()
    parent = here if os.access(here, os.W_OK) else Path(tempfile.gettempdir()).resolve()
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=parent)).resolve()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


QUICK_GROWTH = {"patrons": 300, "items": 2000, "loans": 5000}


def grown_store(path: Path, args: argparse.Namespace, **sizes: int) -> dict[str, Any]:
    """Put a store grown by bench.grow at `path` (tiny with --quick); return its figures.

    Under `bench.all` ($BENCH_CACHE set) each size is grown once and copied for every benchmark
    that asks: growing 500,000 loans takes half a minute or more, a copy a second or two.
    """
    from bench.grow import grow

    sizes = {**QUICK_GROWTH, **sizes} if getattr(args, "quick", False) else sizes
    cache = os.environ.get("BENCH_CACHE")
    if not cache:
        return grow(path, **sizes)
    key = "-".join(f"{k}{v}" for k, v in sorted(sizes.items())) or "default"
    cached = Path(cache).resolve() / f"grown-{key}.db"
    figures_file = cached.with_suffix(".json")
    if not figures_file.exists():
        part = cached.with_name(cached.name + ".part")
        part.unlink(missing_ok=True)
        figures = grow(part, **sizes)
        part.rename(cached)
        figures_file.write_text(json.dumps(figures), encoding="utf-8")
    shutil.copyfile(cached, path)
    return dict(json.loads(figures_file.read_text(encoding="utf-8")))


# --- waits with deadlines --------------------------------------------------------------------


def wait_for(
    condition: Callable[[], T], what: str, timeout_s: float = 10.0, poll_s: float = 0.001
) -> T:
    """Poll until condition() is truthy and return it; past the deadline raise Timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Timeout(f"gave up after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)


def open_fifo_writer(path: Path, what: str, timeout_s: float = 10.0) -> IO[str]:
    """Open a FIFO for writing once a reader has it open; raise Timeout if none comes.

    A plain open(path, "w") blocks forever when nobody reads the pipe (wrong path, daemon
    not started); O_NONBLOCK fails with ENXIO instead, so the wait can have a deadline.
    """

    def attempt() -> int | None:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno in (errno.ENXIO, errno.ENOENT):
                return None
            raise

    fd = wait_for(attempt, f"{what} to open the FIFO {path} for reading", timeout_s, 0.01)
    assert fd is not None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8")


def wait_for_line(stream: IO[bytes], needle: bytes, what: str, timeout_s: float = 30.0) -> bytes:
    """Read lines from a stream until one contains needle; raise Timeout naming `what`.

    The reading happens in a thread, so a process that goes quiet cannot block the caller;
    the thread keeps draining the stream afterwards so the process never fills its pipe.
    """
    found: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        seen = False
        for line in stream:
            if not seen and needle in line:
                seen = True
                found.put(line)
        if not seen:
            found.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        line = found.get(timeout=timeout_s)
    except queue.Empty:
        raise Timeout(f"gave up after {timeout_s:g} s waiting for {what}") from None
    if line is None:
        raise Timeout(f"the stream ended before {what}")
    return line


def wait_listening(url: str, what: str, timeout_s: float = 30.0) -> None:
    """Wait until an HTTP server answers at url; raise Timeout naming `what`."""
    import requests

    def answers() -> bool:
        try:
            requests.get(url, timeout=1)
            return True
        except requests.RequestException:
            return False

    wait_for(answers, f"{what} to answer at {url}", timeout_s, 0.05)


# --- figures ---------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    rank = max(1, round(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Figure:
    """A median over rounds with its spread (lowest and highest round)."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Figure:
        """Return the median and spread of per-round values."""
        return cls(statistics.median(values), min(values), max(values))

    def text(self, unit: str = "") -> str:
        """Return '1.23 (1.01-1.50) ms': the median, then the spread."""
        tail = f" {unit}" if unit else ""
        if len({number(self.low), number(self.high)}) == 1:
            return f"{number(self.median)}{tail}"
        return f"{number(self.median)} ({number(self.low)}-{number(self.high)}){tail}"


def number(value: float) -> str:
    """Format a figure with three significant digits (whole numbers from 100, with commas)."""
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:#.3g}"


@dataclass
class Target:
    """What a summary row must meet, and how it reads."""

    text: str
    check: Callable[[float, float | None], bool] | None = None  # (ours, ratio) -> met


def ratio_at_most(limit: float) -> Target:
    """Target: ours within `limit` times its baseline."""
    return Target(f"≤ {limit:g}x baseline", lambda _, ratio: ratio is not None and ratio <= limit)


def at_most(limit: float, unit: str) -> Target:
    """Target: ours no more than an absolute limit."""
    return Target(f"≤ {limit:,g} {unit}", lambda ours, ratio: ours <= limit)


def at_least(limit: float, unit: str) -> Target:
    """Target: ours at least an absolute limit (a rate)."""
    return Target(f"≥ {limit:,g} {unit}", lambda ours, ratio: ours >= limit)


NO_TARGET = Target("(none set)")


@dataclass
class Row:
    """One line of the summary table: measure, ours, baseline, ratio, target, met."""

    bench: str
    measure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None

    def cells(self) -> list[str]:
        """Return the row's cells as printed."""
        met = "-" if self.met is None else ("met" if self.met else "NOT met")
        return [self.measure, self.ours, self.baseline, self.ratio, self.target, met]


SUMMARY_HEAD = ["measure", "ours", "baseline", "ratio", "target", "met"]


def table(head: list[str], rows: list[list[str]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


@dataclass
class Series:
    """One measure's samples, kept per round."""

    unit: str
    rounds: list[list[float]] = field(default_factory=list)

    def per_round(self, stat: str) -> list[float]:
        """Return one value per round: p50, p99, mean or total of its samples."""
        pick: dict[str, Callable[[list[float]], float]] = {
            "p50": lambda s: percentile(s, 50),
            "p99": lambda s: percentile(s, 99),
            "mean": statistics.fmean,
            "total": sum,
        }
        return [pick[stat](s) for s in self.rounds if s]


class Bench:
    """Rounds of one benchmark, their samples, and the rows it reports."""

    def __init__(self, name: str, args: argparse.Namespace | None = None) -> None:
        self.name = name
        self.n_rounds = max(MIN_ROUNDS, getattr(args, "rounds", MIN_ROUNDS) or MIN_ROUNDS)
        self.quick = bool(getattr(args, "quick", False))
        self.series: dict[str, Series] = {}
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.round = -1
        self.started = time.monotonic()
        self.load_before = os.getloadavg()

    def rounds(self) -> Iterator[int]:
        """Yield round numbers from 0; each round measures ours and its baseline."""
        for r in range(self.n_rounds):
            self.round = r
            print(f"[{self.name}] round {r + 1} of {self.n_rounds}", file=sys.stderr, flush=True)
            yield r

    def record(self, measure: str, samples: float | list[float], unit: str = "ms") -> None:
        """Add samples (or one value, e.g. a rate) of a measure to the current round."""
        values = [samples] if isinstance(samples, int | float) else list(samples)
        s = self.series.setdefault(measure, Series(unit))
        r = max(self.round, 0)
        while len(s.rounds) <= r:
            s.rounds.append([])
        s.rounds[r].extend(values)

    def figure(self, measure: str, stat: str = "p50") -> Figure:
        """Return the median over rounds of one statistic of a measure, with its spread."""
        return Figure.of(self.series[measure].per_round(stat))

    def compare(
        self,
        label: str,
        measure: str,
        baseline: str | None,
        stat: str = "p99",
        target: Target = NO_TARGET,
    ) -> Row:
        """Add a summary row: a statistic of ours beside the same of its baseline."""
        ours = self.series[measure]
        ours_r = ours.per_round(stat)
        ratio_fig: Figure | None = None
        base_text = "-"
        if baseline is not None:
            base = self.series[baseline]
            base_r = base.per_round(stat)
            ratio_fig = Figure.of(
                [o / b if b else float("inf") for o, b in zip(ours_r, base_r, strict=True)]
            )
            base_text = Figure.of(base_r).text(base.unit)
        fig = Figure.of(ours_r)
        met = None
        if target.check is not None:
            met = target.check(fig.median, ratio_fig.median if ratio_fig else None)
        row = Row(
            self.name,
            label,
            fig.text(ours.unit),
            base_text,
            f"{ratio_fig.text()}x" if ratio_fig else "-",
            target.text,
            met,
        )
        self.rows.append(row)
        return row

    def note(self, text: str) -> None:
        """Add a line printed under the tables (what was measured, sizes, counts)."""
        self.notes.append(text)

    def detail(self) -> str:
        """Return the table of every measure: n, p50 and p99 as median (spread) of the rounds."""
        rows = []
        for name, s in self.series.items():
            sizes = [len(r) for r in s.rounds if r]
            p50 = Figure.of(s.per_round("p50")).text()
            p99 = Figure.of(s.per_round("p99")).text() if max(sizes) > 1 else "(one value a round)"
            rows.append([name, s.unit, str(int(statistics.median(sizes))), p50, p99])
        head = ["measure", "unit", "n per round", "p50: median (spread)", "p99: median (spread)"]
        return table(head, rows)

    def report(self) -> None:
        """Print the tables and notes; append the summary rows to $BENCH_SUMMARY."""
        took = time.monotonic() - self.started
        print(f"\n## {self.name}: {self.n_rounds} rounds{' (--quick)' if self.quick else ''}")
        print(machine(self.load_before))
        print()
        print(self.detail())
        for line in self.notes:
            print(f"- {line}")
        print()
        print(table(SUMMARY_HEAD, [r.cells() for r in self.rows]))
        print(f"\n{self.name} took {took:.0f} s", flush=True)
        out = os.environ.get("BENCH_SUMMARY")
        if out:
            with open(out, "a", encoding="utf-8") as f:
                for r in self.rows:
                    f.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")


def machine(load_before: tuple[float, float, float] | None = None) -> str:
    """Return one line on the machine: CPU, cores, load averages, Python and SQLite."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    before = f"{load_before[0]:.1f} at start, " if load_before else ""
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, load average {before}{load[0]:.1f} now "
        f"(1 min); Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
