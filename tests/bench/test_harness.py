"""The benchmark harness: rounds, medians with spreads, summary rows, and waits that give up."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bench import harness


def test_figures_are_the_median_of_the_rounds_with_their_spread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "rows.jsonl"
    monkeypatch.setenv("BENCH_SUMMARY", str(summary))
    bench = harness.Bench("demo", harness.parser("demo").parse_args([]))
    rounds = [
        ([1.0] * 99 + [50.0], [1.0] * 100),
        ([2.0] * 100, [1.0] * 100),
        ([3.0] * 100, [2.0] * 100),
    ]
    for r in bench.rounds():
        ours, base = rounds[r]
        bench.record("scan", ours)
        bench.record("baseline", base)
    assert bench.figure("scan", "p50") == harness.Figure(2.0, 1.0, 3.0)
    assert bench.figure("scan", "p99") == harness.Figure(2.0, 1.0, 3.0)
    row = bench.compare("scan p99", "scan", "baseline", "p99", harness.ratio_at_most(1.6))
    assert row.cells() == [
        "scan p99",
        "2.00 (1.00-3.00) ms",
        "1.00 (1.00-2.00) ms",
        "1.50 (1.00-2.00)x",
        "≤ 1.6x baseline",
        "met",
    ]
    bench.report()
    printed = capsys.readouterr().out
    assert "| scan | ms | 100 | 2.00 (1.00-3.00) | 2.00 (1.00-3.00) |" in printed
    assert json.loads(summary.read_text(encoding="utf-8"))["ratio"] == "1.50 (1.00-2.00)x"


def test_a_rate_target_and_a_missing_baseline() -> None:
    bench = harness.Bench("rates")
    for r in bench.rounds():
        bench.record("drain", 1000.0 * (r + 1), "events/s")
    row = bench.compare("drain", "drain", None, "p50", harness.at_least(2500, "events/s"))
    assert row.cells() == [
        "drain",
        "2,000 (1,000-3,000) events/s",
        "-",
        "-",
        "≥ 2,500 events/s",
        "NOT met",
    ]


def test_fewer_than_three_rounds_are_not_allowed() -> None:
    args = harness.parser("x").parse_args(["--rounds", "1"])
    assert harness.Bench("x", args).n_rounds == 3


def test_wait_for_says_what_it_waited_for() -> None:
    with pytest.raises(harness.Timeout, match="waiting for the hub to answer"):
        harness.wait_for(lambda: False, "the hub to answer", timeout_s=0.05)
    assert harness.wait_for(lambda: 7, "a number") == 7


def test_a_fifo_nobody_reads_times_out_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "scans"
    os.mkfifo(fifo)
    with pytest.raises(harness.Timeout, match=f"the daemon to open the FIFO {fifo}"):
        harness.open_fifo_writer(fifo, "the daemon", timeout_s=0.1)
    # With a reader it opens and writes.
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with harness.open_fifo_writer(fifo, "the reader") as f:
        f.write("9787020002207\n")
    reader.join(5)
    assert got == [b"9787020002207\n"]


def test_wait_for_line_gives_up_on_a_silent_stream() -> None:
    r, w = os.pipe()
    with os.fdopen(r, "rb") as stream, os.fdopen(w, "wb") as writer:
        writer.write(b"starting\n")
        writer.flush()
        with pytest.raises(harness.Timeout, match="`kiosk run` to log ready"):
            harness.wait_for_line(stream, b"ready", "`kiosk run` to log ready", timeout_s=0.1)


def test_the_work_folder_is_absolute_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with harness.workdir(harness.parser("x").parse_args([]), "web") as folder:
        assert folder.is_absolute() and folder.parent == tmp_path.resolve()
    assert not folder.exists()
    kept = harness.parser("x").parse_args(["--dir", "keep/here"])
    with harness.workdir(kept, "web") as folder:
        assert folder == (tmp_path / "keep" / "here").resolve()
    assert folder.is_dir()
