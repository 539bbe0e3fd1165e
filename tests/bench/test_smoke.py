"""Every benchmark runs at tiny sizes (--quick) from a foreign folder and prints its summary table.

Only that it runs and reports is checked here, never how fast anything is: figures come from
`make bench` (see the README's Performance section).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.all import benchmarks

pytestmark = pytest.mark.slow  # every benchmark at its smallest size

SUMMARY_HEAD = "| measure | ours | baseline | ratio | target | met |"


def run_module(args: list[str], folder: Path, timeout_s: float = 240) -> str:
    """Run `python -m ...` in folder; return its output, failing with it on a bad exit."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def summary_rows(output: str, head: str = SUMMARY_HEAD) -> list[list[str]]:
    """Return the cells of the rows under the last table with this head."""
    lines = output.splitlines()
    start = len(lines) - 1 - lines[::-1].index(head)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_every_benchmark_is_found() -> None:
    assert set(benchmarks()) >= {
        "latency",
        "device_latency",
        "web_latency",
        "data_io",
        "sync_throughput",
        "ops_watchdog",
    }


@pytest.mark.parametrize("name", benchmarks())
def test_benchmark_prints_its_summary(name: str, tmp_path: Path) -> None:
    output = run_module([f"bench.{name}", "--quick"], tmp_path)
    assert f"## {name}: 3 rounds (--quick)" in output
    rows = summary_rows(output)
    assert rows, output
    for cells in rows:
        assert len(cells) == 6, cells
        measure, ours, baseline, ratio, target, met = cells
        assert measure and ours[0].isdigit(), cells
        assert met in {"met", "NOT met", "-"}, cells
        assert (met == "-") == (target == "(none set)"), cells
        assert (baseline == "-") == (ratio == "-"), cells
    # Its work folder was made under the current folder and removed afterwards.
    assert list(tmp_path.iterdir()) == []


def test_all_prints_one_summary_of_the_benchmarks_it_ran(tmp_path: Path) -> None:
    output = run_module(["bench.all", "--quick", "--only", "ops_watchdog", "data_io"], tmp_path)
    assert "# Summary: 2 benchmarks" in output
    rows = summary_rows(output, "| benchmark | " + SUMMARY_HEAD[2:])
    assert {r[0] for r in rows} == {"ops_watchdog", "data_io"}
    assert [r[1] for r in rows if r[0] == "ops_watchdog"] == [
        "watchdog hook, no ping due: p99",
        "watchdog hook, ping: p99",
    ]
    assert "FAILED" not in output
