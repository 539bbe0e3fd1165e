"""Run every benchmark in bench/, one after another, and print one summary table at the end.

    .venv/bin/python -m bench.all [--quick] [--only NAME ...] [--timeout-s 900]

Every module bench/<name>.py with a `main` (not the harness, the grower or this runner) runs
as `python -m bench.<name>` in its own process, with no arguments (or --quick), a deadline,
$BENCH_SUMMARY pointing at a file where its harness appends its summary rows, and $BENCH_CACHE
at a folder where the grown store is kept for the next benchmark that needs it. A benchmark
that fails or runs past its deadline is named at the end and the exit status is 1; the others
still run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import harness

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "harness", "grow", "all", "docs"}
BUDGET_MIN = 20  # the whole `make bench`, on the 2-core development machine


class LoadSampler:
    """Sample the 1-minute load average in the background, to say how busy the machine was."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.samples = [os.getloadavg()[0]]
        self.pytests = [pytest_runs()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.samples.append(os.getloadavg()[0])
            self.pytests.append(pytest_runs())

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(1)

    def text(self) -> str:
        """Return the samples' median and range."""
        s = self.samples
        return (
            f"load average (1 min) during the run: median {statistics.median(s):.1f}, "
            f"from {min(s):.1f} to {max(s):.1f} ({len(s)} samples, one per 10 s; "
            f"{os.cpu_count()} cores); pytest processes (the team's test runs) at the same time: "
            f"{statistics.median(self.pytests):.0f} (median), up to {max(self.pytests)}"
        )


def pytest_runs() -> int:
    """Return how many pytest processes run on the machine (the team's test suites)."""
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"pytest") for a in args[:2]) or args[1:3] == [b"-m", b"pytest"]:
            count += 1
    return count


def disk(folder: Path) -> str:
    """Return the device and filesystem type the folder is on."""
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, mount, fstype = line.split()[:3]
        if str(folder).startswith(mount) and len(mount) >= len(best[0]):
            best = (mount, dev, fstype)
    return f"{best[2]} on {best[1]}"


def commit() -> str:
    """Return the checkout's commit (and whether it has changes), or why it is not known."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(HERE), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    try:
        head = git("log", "-1", "--format=%h %cs")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def benchmarks() -> list[str]:
    """Return the names of the benchmark modules in bench/, sorted."""
    names = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
            names.append(path.stem)
    return names


def run(name: str, quick: bool, summary: Path, timeout_s: float) -> str | None:
    """Run one benchmark, its output passing through; return why it failed, or None."""
    cmd = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
    print(f"\n$ {' '.join(['python', *cmd[1:]])}", flush=True)
    env = {
        **os.environ,
        "BENCH_SUMMARY": str(summary),
        "BENCH_CACHE": str(summary.parent),
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    # A session of its own, so that a benchmark past its deadline is stopped with everything it
    # started (a hub, a sink, Chromium), not only its own process.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        code = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return f"{name}: still running after {timeout_s:g} s, stopped"
    if code:
        return f"{name}: exit status {code} after {time.monotonic() - started:.0f} s"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the summary table; return 1 if any failed."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (the smoke run)")
    ap.add_argument("--only", nargs="*", help="run only these benchmarks")
    ap.add_argument("--timeout-s", type=float, default=900, help="deadline per benchmark")
    args = ap.parse_args(argv)
    names = args.only or benchmarks()
    started = time.monotonic()
    load_before = os.getloadavg()
    loads = LoadSampler()
    failures = []
    # Under the current folder like the benchmarks' own: the grown store is copied from here.
    with tempfile.TemporaryDirectory(prefix="bench-all-", dir=Path.cwd()) as tmp:
        summary = Path(tmp) / "rows.jsonl"
        summary.touch()
        durations = []
        for name in names:
            t0 = time.monotonic()
            failure = run(name, args.quick, summary, args.timeout_s)
            durations.append(f"{name} {time.monotonic() - t0:.0f} s")
            if failure:
                failures.append(failure)
        rows = [
            harness.Row(**json.loads(line))
            for line in summary.read_text(encoding="utf-8").splitlines()
        ]
    took = time.monotonic() - started
    loads.stop()
    print(f"\n# Summary: {len(names)} benchmarks in {took / 60:.1f} min", end="")
    if args.quick:
        print(" (--quick: sizes too small for figures)")
    else:
        over = took > BUDGET_MIN * 60
        print(f" (budget {BUDGET_MIN} min on 2 cores: {'OVER' if over else 'within'})")
    print(f"commit: {commit()}")
    print("time per benchmark: " + ", ".join(durations))
    print(harness.machine(load_before))
    print(loads.text())
    print(f"work folders under {Path.cwd()} ({disk(Path.cwd().resolve())})")
    print("ours and baseline: median of the rounds (lowest-highest round); ratio: median of the")
    print("rounds' ours/baseline (lowest-highest)\n")
    cells = [[r.bench, *r.cells()] for r in rows]
    print(harness.table(["benchmark", *harness.SUMMARY_HEAD], cells))
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
