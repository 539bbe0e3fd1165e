"""`python -m bench.docs LOG` puts one run's figures, and only them, into the README and docs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import docs

from .test_smoke import run_module

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def watchdog_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the output of a real `bench.all` run of the quickest benchmark, at full size."""
    folder = tmp_path_factory.mktemp("run")
    return run_module(["bench.all", "--only", "ops_watchdog"], folder)


@pytest.fixture()
def documents(tmp_path: Path) -> dict[str, Path]:
    """Return copies of the README and docs/performance.md to write into."""
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "docs" / "performance.md", tmp_path / "performance.md")
    return {"summary": tmp_path / "README.md", "benchmarks": tmp_path / "performance.md"}


def between(text: str, key: str) -> str:
    return text.split(f"<!-- bench:{key} -->")[1].split(f"<!-- /bench:{key} -->")[0]


def outside(text: str, key: str) -> tuple[str, str]:
    return text.split(f"<!-- bench:{key} -->")[0], text.split(f"<!-- /bench:{key} -->")[1]


def test_the_run_fills_the_summary_and_its_benchmarks_tables(
    watchdog_log: str, documents: dict[str, Path]
) -> None:
    readme_before = documents["summary"].read_text(encoding="utf-8")
    perf_before = documents["benchmarks"].read_text(encoding="utf-8")
    assert docs.publish(watchdog_log, documents) == ["summary", "ops_watchdog"]
    readme = documents["summary"].read_text(encoding="utf-8")
    perf = documents["benchmarks"].read_text(encoding="utf-8")
    summary = between(readme, "summary")
    assert "**Summary: 1 benchmarks in" in summary
    assert "| ops_watchdog | watchdog hook, ping: p99 |" in summary
    assert "- commit: " in summary and "- machine: " in summary
    table = between(perf, "ops_watchdog")
    assert "| measure | ours | baseline | ratio | target | met |" in table
    assert "[ops_watchdog] round" not in table  # progress lines are not figures
    # Nothing outside the markers moved, and the other benchmarks' places are as they were.
    assert outside(readme, "summary") == outside(readme_before, "summary")
    assert outside(perf, "ops_watchdog") == outside(perf_before, "ops_watchdog")
    assert between(perf, "latency") == between(perf_before, "latency")


def test_a_log_with_a_failed_benchmark_changes_nothing(
    watchdog_log: str, documents: dict[str, Path]
) -> None:
    before = {k: p.read_text(encoding="utf-8") for k, p in documents.items()}
    failed = watchdog_log + "FAILED web_latency: exit status 1 after 3 s\n"
    with pytest.raises(docs.LogError, match="FAILED web_latency"):
        docs.publish(failed, documents)
    assert {k: p.read_text(encoding="utf-8") for k, p in documents.items()} == before


def test_a_benchmark_without_its_place_in_the_docs_is_named(
    watchdog_log: str, documents: dict[str, Path]
) -> None:
    perf = documents["benchmarks"]
    text = perf.read_text(encoding="utf-8")
    perf.write_text(text.replace("<!-- bench:ops_watchdog -->", ""), encoding="utf-8")
    readme_before = documents["summary"].read_text(encoding="utf-8")
    with pytest.raises(docs.LogError, match="no place for 'ops_watchdog'"):
        docs.publish(watchdog_log, documents)
    assert documents["summary"].read_text(encoding="utf-8") == readme_before


def test_every_benchmark_has_its_place_in_the_docs() -> None:
    from bench.all import benchmarks

    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    missing = [n for n in benchmarks() if f"<!-- bench:{n} -->" not in text]
    assert missing == []
