"""Rules: limits by role and grade, due dates that respect the term calendar."""

from __future__ import annotations

import datetime as dt

from kiosk.circulation.models import Patron
from kiosk.circulation.rules import Limits, Rules

D = dt.date.fromisoformat
STUDENT3 = Patron("S1", "王小明", "student", 3, "三(2)班", "active")
STUDENT1 = Patron("S2", "李雨涵", "student", 1, "一(1)班", "active")
TEACHER = Patron("T1", "陈老师", "teacher", None, "", "active")


def rules(**kw: object) -> Rules:
    base: dict[str, object] = {
        "by_role": {"student": Limits(14, 2, 1), "teacher": Limits(30, 10, 2)},
        "max_loans_by_grade": {1: 1},
    }
    return Rules(**{**base, **kw})  # type: ignore[arg-type]


def test_limits_by_role_narrowed_by_grade_for_students() -> None:
    r = rules()
    assert r.limits(STUDENT3) == Limits(14, 2, 1)
    assert r.limits(STUDENT1) == Limits(14, 1, 1)
    assert r.limits(TEACHER) == Limits(30, 10, 2)


def test_due_date_is_the_loan_period_on_an_open_day() -> None:
    assert rules().due_date(STUDENT3, D("2026-11-02")) == D("2026-11-16")  # Monday -> Monday


def test_due_date_on_a_weekend_moves_to_monday() -> None:
    assert rules().due_date(STUDENT3, D("2026-11-05")) == D("2026-11-19")  # Thu -> Thu
    assert rules().due_date(STUDENT3, D("2026-11-07")) == D("2026-11-23")  # Sat + 14 = Sat -> Mon


def test_due_date_skips_holidays() -> None:
    r = rules(closed_days=frozenset({D("2026-11-16"), D("2026-11-17")}))
    assert r.due_date(STUDENT3, D("2026-11-02")) == D("2026-11-18")


def test_due_date_never_after_term_end_unless_holiday_loans() -> None:
    r = rules(term_end=D("2027-01-22"))  # a Friday
    assert r.due_date(STUDENT3, D("2027-01-15")) == D("2027-01-22")
    assert r.due_date(TEACHER, D("2027-01-04")) == D("2027-01-22")
    r = rules(term_end=D("2027-01-24"))  # a Sunday: the last open day is the Friday before
    assert r.due_date(STUDENT3, D("2027-01-15")) == D("2027-01-22")
    r = rules(term_end=D("2027-01-22"), holiday_loans=True)
    assert r.due_date(STUDENT3, D("2027-01-15")) == D("2027-01-29")


def test_due_date_is_never_before_the_loan() -> None:
    r = rules(term_end=D("2027-01-22"))
    assert r.due_date(STUDENT3, D("2027-01-22")) == D("2027-01-22")


def test_open_days() -> None:
    r = rules(closed_days=frozenset({D("2026-10-01")}))
    assert not r.is_open(D("2026-10-01"))
    assert not r.is_open(D("2026-11-07"))  # Saturday
    assert r.is_open(D("2026-11-09"))
