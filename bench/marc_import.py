"""MARC import: 50,000 CNMARC records through `kiosk import items`, beside a bare pymarc read.

`.venv/bin/python -m bench.marc_import` (or `--quick`: 2,000 records) writes an ISO 2709 file of
CNMARC records in GBK as a Chinese supplier sends them (200$a title, 200$f author, 010$a ISBN,
690$a class, 905$b barcodes, one copy in four records has a second copy), then, each in a fresh
process so that its peak memory is its own:

- baseline: a bare `pymarc.MARCReader` read of the same file (GBK decoding, every field);
- import: `kiosk import items FILE` into a new store (read, check every row, write, event).

Then the same for a real-shaped file (issue 22): MARC 21 in UTF-8 as a library program exports
it, where one record in five has no ISBN, one in ten a title of 300 to 500 characters, one in
eight two ISBNs, and each record one to three copies in Koha's 952 (barcode, call number).

In rounds (bench.harness): the seconds and peak resident memory (ru_maxrss, from wait4) of each.
Targets (issue 14): under 60 s and under 150 MB for 50,000 records.

`--before DIR` (a copy of an earlier commit's tree: `git archive d97830f | tar -x -C DIR`), once
or more, also runs that code's `kiosk import items` of each file in each round (PYTHONPATH=DIR,
same Python and packages; a file that code refuses is left out), beside this code's. The
real-shaped import is compared with the first one's CNMARC import (issue 22: at most 1.5x the
CNMARC import of d97830f, the commit before issue 22, in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymarc import Field, Indicators, Leader, Record, Subfield

from bench import harness

TITLES = [
    "小王子",
    "草房子",
    "西游记",
    "窗边的小豆豆",
    "夏洛的网",
    "城南旧事",
    "稻草人",
    "青铜葵花",
]


def gbk(text: str) -> str:
    """Return text as pymarc writes non-UTF-8 records: its GBK bytes, one char each."""
    return text.encode("gbk").decode("latin-1")


def write_file(path: Path, count: int) -> int:
    """Write `count` CNMARC records; return how many copies (items) they hold."""
    copies = 0
    with path.open("wb") as f:
        for n in range(count):
            record = Record(leader="     nam0 22        450 ")
            record.to_unicode = False  # keep leader/09 blank: not UTF-8
            record.add_field(Field(tag="001", data=f"CN{n:08d}"))
            barcodes = [f"G{n:07d}"] + ([f"H{n:07d}"] if n % 4 == 0 else [])
            copies += len(barcodes)
            title = f"{TITLES[n % len(TITLES)]}（第{n}册）"
            fields = [
                ("010", [("a", "9787020002207"), ("d", "CNY25.00")]),
                ("200", [("a", gbk(title)), ("f", gbk(f"作者{n % 997}著"))]),
                ("210", [("a", gbk("北京")), ("c", gbk("人民文学出版社")), ("d", "2020")]),
                ("690", [("a", f"I287.{n % 10}"), ("v", "5")]),
                ("701", [("a", gbk(f"作者{n % 997}"))]),
                (
                    "905",
                    [
                        ("a", "SCH"),
                        *(("b", b) for b in barcodes),
                        ("d", f"I287.{n % 10}"),
                        ("e", f"Z{n % 500}"),
                    ],
                ),
            ]
            for tag, subs in fields:
                sub = [Subfield(c, v) for c, v in subs]
                record.add_field(Field(tag=tag, indicators=Indicators("1", " "), subfields=sub))
            f.write(record.as_marc())
    return copies


WORDS = [
    "the",
    "of",
    "little",
    "garden",
    "a",
    "story",
    "river",
    "school",
    "moon",
    "fox",
    "and",
    "with",
    "winter",
    "house",
]


def write_real_shaped(path: Path, count: int) -> int:
    """Write `count` MARC 21 records as a library exports them; return how many copies."""
    copies = 0
    with path.open("wb") as f:
        for n in range(count):
            record = Record(force_utf8=True)
            record.leader = Leader(str(record.leader)[:9] + "a" + str(record.leader)[10:])
            record.add_field(Field(tag="001", data=f"ocm{n:08d}"))
            if n % 5:  # one record in five has no ISBN (old, donated, school-made books)
                isbns = ["9780596000851"] + (["0596002815"] if n % 8 == 0 else [])
                for isbn in isbns:
                    sub = [Subfield("a", isbn + " (pbk.)")]
                    record.add_field(
                        Field(tag="020", indicators=Indicators(" ", " "), subfields=sub)
                    )
            words = 60 if n % 10 == 0 else 4  # one in ten: a title of several hundred characters
            title = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(words)).capitalize()
            author = f"Writer, Number{n % 997}"
            fields = [
                ("100", [("a", author + ",")]),
                ("245", [("a", title + " :"), ("b", f"volume {n} /"), ("c", "by someone.")]),
                ("260", [("a", "London :"), ("b", "Books,"), ("c", "2020.")]),
            ]
            for tag, subs in fields:
                sub = [Subfield(c, v) for c, v in subs]
                record.add_field(Field(tag=tag, indicators=Indicators("1", "0"), subfields=sub))
            for c in range(1 + n % 3):  # one to three copies
                sub = [
                    Subfield("a", "MAIN"),
                    Subfield("o", f"FIC W{n % 97}"),
                    Subfield("p", f"R{n:07d}{c}"),
                ]
                record.add_field(Field(tag="952", indicators=Indicators(" ", " "), subfields=sub))
                copies += 1
            f.write(record.as_marc())
    return copies


def bare_read(path: str) -> None:
    """Read every record with pymarc alone, decoding GBK or UTF-8 (the baseline)."""
    from pymarc import MARCReader

    n = 0
    utf8 = path.endswith(".mrc")
    with open(path, "rb") as f:
        for record in MARCReader(f, file_encoding="utf-8" if utf8 else "gb18030"):
            assert record is not None and record["245" if utf8 else "200"]["a"]
            n += 1
    print(json.dumps({"records": n}))


def measured(
    args: list[str], code: Path | None = None, may_fail: bool = False
) -> tuple[float, float, str]:
    """Run a command in a fresh process; return its seconds, its own peak RSS in MB, its output.

    `code`: a folder whose `kiosk` package runs instead of this one (run there: `-m` looks in
    the current folder first). `may_fail`: a failed command returns its output with -1 seconds
    instead of stopping the benchmark.
    """
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=code
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own usage, not all children's
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        if may_fail and proc.returncode != 0:
            return -1.0, 0.0, out.strip()
        assert proc.returncode == 0, err.read()[-2000:]
    return seconds, usage.ru_maxrss / 1024, out.strip()


def main(argv: list[str] | None = None) -> None:
    """Import the file in rounds beside a bare pymarc read; print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--bare", help=argparse.SUPPRESS)
    ap.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        help="a copy of an earlier commit's tree, whose imports run beside (may be repeated)",
    )
    args = ap.parse_args(argv)
    befores = [d.resolve() for d in args.before]
    refused: set[tuple[Path, Path]] = set()  # (code, file) an earlier version does not import
    if args.bare:
        bare_read(args.bare)
        return
    count = harness.size(args, 50_000, 2_000)
    bench = harness.Bench("marc_import", args)
    with harness.workdir(args, "marc_import") as folder:
        path = folder / "supplier.iso"
        copies = write_file(path, count)
        real = folder / "library.mrc"
        real_copies = write_real_shaped(real, count)
        said = real_said = ""
        for r in bench.rounds():
            for label, file in (("", path), (" (real-shaped)", real)):
                cfg = folder / f"config{r}{file.suffix}.toml"
                cfg.write_text(
                    f'[store]\npath = "kiosk{r}{file.suffix}.db"\n[scanner]\nsource = "none:"\n'
                )
                bare_s, bare_mb, _ = measured(
                    [sys.executable, "-m", "bench.marc_import", "--bare", str(file)]
                )
                command = ["-m", "kiosk", "--config", str(cfg), "import", "items", str(file)]
                ours_s, ours_mb, out = measured([sys.executable, *command])
                if label:
                    real_said = out
                else:
                    said = out
                bench.record("kiosk import items" + label, ours_s, "s")
                bench.record("baseline: bare pymarc read" + label, bare_s, "s")
                bench.record("kiosk import items, peak memory" + label, ours_mb, "MB")
                bench.record("baseline: bare pymarc read, peak memory" + label, bare_mb, "MB")
                for code in befores:
                    if (code, file) in refused:
                        continue
                    cfg = folder / f"config{r}{file.suffix}.{code.name}.toml"
                    cfg.write_text(
                        f'[store]\npath = "kiosk{r}{file.suffix}.{code.name}.db"\n'
                        '[scanner]\nsource = "none:"\n'
                    )
                    command = ["-m", "kiosk", "--config", str(cfg), "import", "items", str(file)]
                    then_s, _, _ = measured([sys.executable, *command], code, may_fail=True)
                    if then_s < 0:
                        refused.add((code, file))
                    else:
                        bench.record(f"kiosk import items{label}, {code.name}", then_s, "s")
        size = path.stat().st_size / 1e6
        real_size = real.stat().st_size / 1e6
    bench.compare(
        f"import {count:,} MARC records",
        "kiosk import items",
        "baseline: bare pymarc read",
        "p50",
        harness.at_most(60, "s"),
    )
    bench.compare(
        "peak memory of the import",
        "kiosk import items, peak memory",
        "baseline: bare pymarc read, peak memory",
        "p50",
        harness.at_most(150, "MB"),
    )
    bench.compare(
        f"import {count:,} real-shaped MARC 21 records",
        "kiosk import items (real-shaped)",
        "baseline: bare pymarc read (real-shaped)",
        "p50",
        harness.at_most(60, "s"),
    )
    bench.compare(
        "peak memory of the real-shaped import",
        "kiosk import items, peak memory (real-shaped)",
        "baseline: bare pymarc read, peak memory (real-shaped)",
        "p50",
        harness.at_most(150, "MB"),
    )
    for n, code in enumerate(befores):
        if n == 0 and (code, path) not in refused:
            bench.compare(
                f"real-shaped import against the CNMARC import of {code.name}",
                "kiosk import items (real-shaped)",
                f"kiosk import items, {code.name}",
                "p50",
                harness.ratio_at_most(1.5),
            )
        for label, file in (("", path), (" (real-shaped)", real)):
            if (code, file) not in refused:
                bench.compare(
                    f"import{label}: this code against {code.name}",
                    "kiosk import items" + label,
                    f"kiosk import items{label}, {code.name}",
                    "p50",
                )
    for code, file in sorted(refused):
        bench.note(f"{code.name} refuses {file.name} (records without ISBN, long titles)")
    bench.note(
        f"{count:,} CNMARC records in GBK ({size:.1f} MB), {copies:,} copies; each run in a fresh "
        "process (peak memory: its ru_maxrss), the import into a new store"
    )
    bench.note(
        f"real-shaped: {count:,} MARC 21 records in UTF-8 ({real_size:.1f} MB), {real_copies:,} "
        "copies in 952; 20% without ISBN, 10% with titles of 300-500 characters"
    )
    bench.note(f"the import said: {said}")
    bench.note(f"the real-shaped import said: {real_said}")
    bench.report()


if __name__ == "__main__":
    main()
