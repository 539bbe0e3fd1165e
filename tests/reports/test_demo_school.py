"""The reports on the demo school agree with the same figures counted by hand from the tables."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.circulation.clock import FakeClock, parse_stamp
from kiosk.circulation.demo import make_demo
from kiosk.circulation.stats import current_term, rankings, reading
from kiosk.circulation.stats import overdue as chase
from kiosk.circulation.store import Store

TODAY = dt.date(2026, 11, 20)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    settings, _ = make_demo(tmp_path_factory.mktemp("demo"), seed=2026, today=TODAY)
    clock = FakeClock(dt.datetime.combine(TODAY, dt.time(12), tzinfo=TZ))
    s = Store.open(Path(settings.resolve(settings.store.path)), create=False, clock=clock)
    yield s
    s.close()


def test_term_figures_match_a_count_from_the_tables(store: Store) -> None:
    term = current_term(store, TZ)
    since, until = term.bounds(TZ)
    students = {
        r["id"]: r["class_name"]
        for r in store.query(
            "SELECT id, class_name FROM patrons WHERE role = 'student' AND status != 'left'"
        )
    }
    loans = Counter(
        r["patron_id"]
        for r in store.query("SELECT patron_id, checked_out_at FROM loans")
        if since <= r["checked_out_at"] < until and r["patron_id"] in students
    )
    expected: dict[str, list[int]] = {}
    for pid, cls in students.items():
        e = expected.setdefault(cls, [0, 0, 0])
        e[0] += 1
        e[1] += loans[pid]
        e[2] += 1 if loans[pid] else 0
    figures = reading.by_class(store, term, TZ)
    assert {c.name: [c.students, c.loans, c.readers] for c in figures} == expected
    assert len(figures) == 18 and sum(c.loans for c in figures) > 1000
    school = reading.total(figures, "school")
    assert school.non_readers == len(reading.non_borrowers(store, term, TZ))
    ranked = rankings.class_ranking(store, term, TZ)
    assert [r["per_student"] for r in ranked] == sorted(
        (round(e[1] / e[0], 2) for e in expected.values()), reverse=True
    )


def test_overdue_matches_the_open_loans(store: Store) -> None:
    now = store.now()
    open_overdue = store.value(
        "SELECT count(*) FROM loans WHERE returned_at IS NULL AND due_at < ?", [now]
    )
    rows = chase.overdue_loans(store, TZ)
    assert len(rows) == open_overdue > 0
    for r in rows:
        due = parse_stamp(r["due_at"]).astimezone(TZ).date()
        assert r["days_overdue"] == max(1, (TODAY - due).days)
        assert r["level"] == chase.level_of(r["days_overdue"])
