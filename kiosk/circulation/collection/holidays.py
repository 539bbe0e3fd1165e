"""Holiday loans per grade (假期借阅): on or off for each grade, with the day they are due.

A loan that would run past the end of term is due on the grade's holiday due date instead of
being cut back to the last day of term. The table is read with the rules (`load_rules`), and
its triggers make the service read the rules again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection.commands import SetHolidayLoans
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

MESSAGES = {
    "bad_grade": N_("Grade {grade} is not a grade of this school."),
    "due_in_term": N_("Grade {grade}: a holiday due date must be after the end of term ({end})."),
    "bad_date": N_("Write the holiday due date as a date, like 2027-03-01."),
    "no_date": N_("Grade {grade}: give the day its holiday loans are due."),
}


def decide_set(
    wanted: dict[int, dt.date | None], term_end: dt.date | None, last_grade: int
) -> list[Draft] | Refusal:
    """Turn holiday loans on (with a due date) or off (None) for the grades given."""
    for grade, due in sorted(wanted.items()):
        if not 1 <= grade <= last_grade:
            return Refusal("bad_grade", {"grade": grade})
        if due is not None and term_end is not None and due <= term_end:
            return Refusal("due_in_term", {"grade": grade, "end": term_end.isoformat()})
    grades = {str(g): (d.isoformat() if d else None) for g, d in sorted(wanted.items())}
    return [Draft("holiday_loans_set", data={"grades": grades})]


def set_grades(
    store: Store, wanted: dict[int, dt.date | None], last_grade: int, actor: str
) -> Outcome:
    """Save holiday loans for these grades."""
    return handle(store, SetHolidayLoans(dict(wanted), last_grade), actor=actor)


def by_grade(db: Database) -> dict[int, str]:
    """Return grade -> holiday due date of the grades with holiday loans."""
    return {r["grade"]: r["due_on"] for r in fetch(db, "SELECT grade, due_on FROM holiday_loans")}


def read_form(
    form: Any, last_grade: int
) -> tuple[dict[int, dt.date | None], dict[int, tuple[str, dict[str, Any]]]]:
    """Read the page's per-grade ticks and dates; return them and each grade's problem.

    A ticked grade needs its due date: without one, or with one that is not a date, the grade
    has a problem (said beside its date) rather than being left out in silence.
    """
    wanted: dict[int, dt.date | None] = {}
    problems: dict[int, tuple[str, dict[str, Any]]] = {}
    for grade in range(1, last_grade + 1):
        day = form.get(f"due_{grade}", "").strip()
        wanted[grade] = None
        if not form.get(f"on_{grade}"):
            continue
        if not day:
            problems[grade] = (MESSAGES["no_date"], {"grade": grade})
            continue
        try:
            wanted[grade] = dt.date.fromisoformat(day)
        except ValueError:
            problems[grade] = (MESSAGES["bad_date"], {})
    return wanted, problems
