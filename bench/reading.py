"""A student's own reading on the session screen (docs/reading.md), on the grown store.

    .venv/bin/python -m bench.reading [--quick] [--rounds 3] [--dir FOLDER]

The grown store is bench.grow's (10,000 patrons, 50,000 items, 500,000 past loans; `--quick`: a
tenth), with a recommended list of 20 titles for each grade. Each round, for 300 students (30
with --quick) picked at random: what the session screen reads without the reading strip (the
rules and the student's open loans, as `screen._loans`), and the same with the progress lookup
(`progress.progress`: their loans this term, their grade list's titles read, two on the shelf)
after it. Target: the progress lookup's p99 under 10 ms.

The badge check at the card tap (`badges.award`, docs/reading.md "Badges"), for the same
students: their first tap of the run (it may earn badges: a write) and the next one (nothing new
to earn: one read, the common case). Target: the next tap's check p99 under 10 ms.
"""

from __future__ import annotations

import random
import time

from bench import harness
from bench.grow import item_barcode
from kiosk.circulation.reading import badges, lists, progress
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store

WITHOUT, WITH, LOOKUP = (
    "baseline: session screen's reads without the reading strip",
    "session screen's reads with the reading strip",
    "progress lookup alone",
)
EARNING, CHECK = (
    "badge check at a child's first tap of the run (may earn: a write)",
    "badge check at the next tap (nothing new: the common case)",
)
TITLES = 20


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    args = harness.parser(__doc__).parse_args(argv)
    students = harness.size(args, 300, 30)
    with harness.workdir(args, "reading") as folder:
        figures = harness.grown_store(folder / "kiosk.db", args)
        store = Store.open(folder / "kiosk.db")
        bench = harness.Bench("reading", args)
        session_reading(store, bench, students, figures.get("loans"))
        bench.report()
        store.close()
    return 0


def session_reading(
    store: Store, bench: harness.Bench, students: int, loans: int | None = None
) -> None:
    """Time, in the bench's rounds, a session's reads with and without the reading strip and
    the badge check, on a grown store (bench.reports runs it too, on its own grown store)."""
    items = store.value("SELECT count(*) FROM items")
    rng = random.Random(25)
    for grade in range(1, 7):
        made = lists.save_list(store, lists.ListForm(f"{grade}年级", grade, "", 10), 6, "b")
        for n in rng.sample(range(1, items + 1), TITLES):
            assert lists.add_title(store, made.events[0].data["list"], item_barcode(n), "b").ok
    pupils = [
        r["id"]
        for r in store.query("SELECT id, grade FROM patrons WHERE role = 'student'")
        if r["id"].startswith("P")
    ]
    c = Circulation(store)
    today = c.local_date(store.now())
    since = progress.term_start(c.rules().term_start, today)

    def screen(pid: str, with_strip: bool) -> tuple[float, float]:
        start = time.perf_counter()
        patron = c.patron(pid)
        assert patron is not None
        c.rules().limits(patron)
        c.loans_of(pid)
        middle = time.perf_counter()
        if with_strip:
            mine = progress.progress(store.reader, pid, patron.grade, since)
            assert mine["list"] is not None
        end = time.perf_counter()
        return (end - start) * 1000, (end - middle) * 1000

    rules = badges.Rules()
    grades = {r["id"]: r["grade"] for r in store.query("SELECT id, grade FROM patrons")}
    earned = 0

    def badge_check(pid: str) -> float:
        nonlocal earned
        start = time.perf_counter()
        earned += len(badges.award(store, pid, grades[pid], since, rules))
        return (time.perf_counter() - start) * 1000

    for _ in bench.rounds():
        without, with_strip, lookup, earning, check = [], [], [], [], []
        for pid in rng.sample(pupils, students):
            without.append(screen(pid, False)[0])
            whole, alone = screen(pid, True)
            with_strip.append(whole)
            lookup.append(alone)
            earning.append(badge_check(pid))
            check.append(badge_check(pid))
        bench.record(WITHOUT, without)
        bench.record(WITH, with_strip)
        bench.record(LOOKUP, lookup)
        bench.record(EARNING, earning)
        bench.record(CHECK, check)
    loans = loans or store.value("SELECT count(*) FROM loans")
    bench.note(
        f"reading strip: {loans:,} loans, {items:,} items; {students} students a round; lists "
        f"of {TITLES} titles per grade; this term from {since}"
    )
    bench.compare("session screen with the strip, p99", WITH, WITHOUT, "p99")
    bench.compare("progress lookup p99", LOOKUP, None, "p99", harness.at_most(10, "ms"))
    bench.note(f"badges earned in the run: {earned}")
    bench.compare("badge check at the next tap, p99", CHECK, None, "p99",
                  harness.at_most(10, "ms"))  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
