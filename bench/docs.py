"""Put the figures of one `make bench` run into the README and docs/performance.md.

    make bench 2>&1 | tee bench.log
    .venv/bin/python -m bench.docs bench.log

The README's Performance section holds the run's summary between `<!-- bench:summary -->` and
`<!-- /bench:summary -->`; docs/performance.md holds each benchmark's own tables between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->`. Everything between the markers is replaced,
nothing outside them is touched, so every figure in those places comes from the one run named
in the summary. A log with a failed benchmark, or a benchmark whose place is missing, changes
nothing and says why.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"summary": ROOT / "README.md", "benchmarks": ROOT / "docs" / "performance.md"}
SUMMARY_START = "# Summary: "
BLOCK_START = re.compile(r"^## (\w+): (\d+) rounds$")
KEPT = ("|", "- ", "machine: ")  # a benchmark's tables and notes; not its progress or log lines


class LogError(ValueError):
    """The log is not a whole, successful `make bench` run."""


def summary(log: str) -> str:
    """Return the run's summary: its header lines and the table of every benchmark."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(SUMMARY_START)]
    if not starts:
        raise LogError(f"no line starting with {SUMMARY_START!r}: the run did not finish")
    body = lines[starts[-1] :]
    failed = [line for line in body if line.startswith("FAILED ")]
    if failed:
        raise LogError("the run had failures: " + "; ".join(failed))
    if "(--quick" in body[0]:
        raise LogError("a --quick run has no figures to publish")
    first_row = next(i for i, line in enumerate(body) if line.startswith("|"))
    table = []
    for line in body[first_row:]:
        if not line.startswith("|"):
            break
        table.append(line)
    facts, legend = [], []
    for line in body[1:first_row]:
        if line.startswith("ours and baseline") or legend:
            legend.append(line.strip())
        elif line.strip():
            facts.append(f"- {line.strip()}")
    title = f"**{body[0].removeprefix('# ')}**"
    return "\n".join([title, "", *facts, "", " ".join(x for x in legend if x), "", *table])


def blocks(log: str) -> dict[str, str]:
    """Return each benchmark's own tables and notes, by name."""
    found: dict[str, str] = {}
    name: str | None = None
    kept: list[str] = []
    for line in log.splitlines():
        start = BLOCK_START.match(line)
        if start:
            name, kept = start.group(1), []
            continue
        if name is None:
            continue
        if line.startswith(f"{name} took ") or line.startswith("$ python -m bench."):
            found[name] = "\n".join(kept).strip()
            name = None
        elif line.startswith(KEPT) or (not line.strip() and kept and kept[-1].strip()):
            kept.append(line)
    return found


def fill(text: str, key: str, content: str, where: Path) -> str:
    """Replace what stands between the key's markers."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise LogError(f"{where}: no place for {key!r} (one {start} ... {end} pair)")
    before, rest = text.split(start)
    _, after = rest.split(end)
    return f"{before}{start}\n{content}\n{end}{after}"


def publish(log: str, targets: dict[str, Path] = TARGETS) -> list[str]:
    """Write the run's figures into the documents; return the names filled."""
    readme = targets["summary"]
    perf = targets["benchmarks"]
    new_readme = fill(readme.read_text(encoding="utf-8"), "summary", summary(log), readme)
    perf_text = perf.read_text(encoding="utf-8")
    found = blocks(log)
    if not found:
        raise LogError("no benchmark's tables in the log")
    for name, content in sorted(found.items()):
        perf_text = fill(perf_text, name, content, perf)
    # Written only once everything has been found, so a bad log changes nothing.
    readme.write_text(new_readme, encoding="utf-8")
    perf.write_text(perf_text, encoding="utf-8")
    return ["summary", *sorted(found)]


def main(argv: list[str] | None = None) -> int:
    """Read the log named on the command line and fill the documents."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("log", type=Path, help="the output of `make bench`")
    args = ap.parse_args(argv)
    try:
        filled = publish(args.log.read_text(encoding="utf-8", errors="replace"))
    except (OSError, LogError) as e:
        print(f"bench.docs: {e}; nothing changed", file=sys.stderr)
        return 1
    print("filled: " + ", ".join(filled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
