"""The new school year: classes move up a grade; leavers are closed once their loans are settled.

三(2)班 becomes 四(2)班 (a class name that starts with its grade, in Chinese numerals or digits,
gets the next one); students (and helpers, who are students too) of the last grade leave, unless
they still have books out: those stay active and on the list until the books come back. New
first-grade classes come from `kiosk import patrons`. The plan is computed first (the dry run
shows it), and the change is one `year_promoted` event listing every move, so its replay at the
hub moves exactly the same students.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection.commands import CloseLeavers, PromoteYear
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

LAST_GRADE = 6  # primary school; a school with more grades sets `[collection] last_grade`
MIN_DAYS_BETWEEN = 180  # two promotions this close are one promotion run twice
# The months a school year turns in (Chinese schools: July's end of the year to September's
# start); a promotion at another time is asked about twice.
USUAL_MONTHS = (6, 7, 8, 9)
MESSAGES = {
    "already_promoted": N_("The classes already moved up on {at}; once a school year is enough."),
    "no_leavers_to_close": N_("No leaver has brought all their books back yet."),
    "leavers_closed": N_("Leavers closed, their books all back: {count}."),
}
NUMERALS = "一二三四五六七八九"
_LEADING = re.compile(r"^([一二三四五六七八九]|[1-9])")


def next_class_name(name: str, grade: int) -> str:
    """Return a class's name one grade up: 三(2)班 -> 四(2)班, 3(2) -> 4(2); others unchanged."""
    m = _LEADING.match(name)
    if not m or grade + 1 > len(NUMERALS):
        return name
    up = NUMERALS[grade] if m.group(1) in NUMERALS else str(grade + 1)
    return up + name[m.end() :]


@dataclass(frozen=True)
class Plan:
    """What the promotion does: moves, leavers closed, leavers kept because of their books."""

    moves: list[dict[str, Any]] = field(default_factory=list)
    leavers: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)


def decide(students: list[dict[str, Any]], last_grade: int, year: int) -> Plan:
    """Plan the promotion from the students (active, or kept leavers) with their open loans.

    A leaver with books out is kept: one grade past the last, blocked from borrowing (returns
    still work), on the list until the books are back; the next promotion, or "close the
    leavers" before it, closes them.
    """
    plan = Plan()
    for s in students:
        if s["grade"] is None:
            continue
        if s["grade"] > last_grade:  # kept last year: closed once the books are back
            if not s["loans"]:
                plan.leavers.append(s)
            else:
                plan.kept.append(s)
        elif s["grade"] == last_grade:
            if s["loans"]:
                left = f"{s['class_name']}（{year}届）"  # the year group that left, as schools say
                plan.kept.append(
                    {**s, "grade": last_grade + 1, "class_name": left, "status": "blocked"}
                )
            else:
                plan.leavers.append(s)
        else:
            name = next_class_name(s["class_name"], s["grade"])
            plan.moves.append(
                {**s, "grade": s["grade"] + 1, "class_name": name, "from_class": s["class_name"]}
            )
    return plan


def usual_time(today: dt.date) -> bool:
    """Return whether a new school year usually starts around this day (June to September)."""
    return today.month in USUAL_MONTHS


def plan(db: Database, today: dt.date, last_grade: int = LAST_GRADE) -> Plan:
    """Compute the promotion of the students in the store, done `today`."""
    return decide(students(db, last_grade), last_grade, today.year)


def students(db: Database, last_grade: int) -> list[dict[str, Any]]:
    """Return the students (active, or leavers kept) with their count of open loans."""
    return fetch(
        db,
        "SELECT p.id, p.name, p.grade, p.class_name, "
        "(SELECT count(*) FROM loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL) "
        "AS loans FROM patrons p WHERE p.role IN ('student', 'helper') "
        "AND (p.status = 'active' OR (p.status = 'blocked' AND p.grade > ?)) "
        "ORDER BY p.grade, p.class_name, p.id",
        [last_grade],
    )


def decide_promote(planned: Plan, last_promoted: dt.date | None, today: dt.date) -> Any:
    """Promote once a school year: a second run would move every class up twice."""
    if last_promoted is not None and (today - last_promoted).days < MIN_DAYS_BETWEEN:
        return Refusal("already_promoted", {"at": last_promoted.isoformat()})
    data = {
        "moves": [
            {
                k: v
                for k, v in (
                    ("patron", m["id"]),
                    ("grade", m["grade"]),
                    ("class_name", m["class_name"]),
                    ("status", m.get("status")),
                )
                if v is not None
            }
            for m in [*planned.moves, *(k for k in planned.kept if k.get("status"))]
        ],
        "leavers": [s["id"] for s in planned.leavers],
        "kept": [s["id"] for s in planned.kept],
    }
    return [Draft("year_promoted", data=data)]


def decide_close(leavers: list[dict[str, Any]]) -> list[Draft] | Refusal:
    """Close the kept leavers whose books are all back."""
    done = [s["id"] for s in leavers if not s["loans"]]
    if not done:
        return Refusal("no_leavers_to_close")
    return [Draft("leavers_closed", data={"leavers": done})]


def promote(store: Store, planned: Plan, actor: str, today: dt.date) -> Outcome:
    """Carry out a plan as one `year_promoted` event, unless this year's was done already."""
    return handle(store, PromoteYear(planned, today), actor=actor)


def close_leavers(store: Store, actor: str, last_grade: int = LAST_GRADE) -> Outcome:
    """Close the kept leavers whose books have come back (between promotions)."""
    return handle(store, CloseLeavers(last_grade), actor=actor)


def last_promoted(db: Database) -> dt.date | None:
    """Return the day of the last new school year recorded, or None."""
    last = db.execute("SELECT max(at) FROM events WHERE type = 'year_promoted'").fetchone()[0]
    return dt.date.fromisoformat(last[:10]) if last else None


def class_moves(planned: Plan) -> list[tuple[str, str, int]]:
    """Return (class now, class next year, students) for every class, lowest grade first."""
    classes: dict[tuple[int, str, str], int] = {}
    for m in planned.moves:
        key = (m["grade"], m["from_class"], m["class_name"])
        classes[key] = classes.get(key, 0) + 1
    return [(a, b, n) for (_, a, b), n in sorted(classes.items())]


def describe(planned: Plan, _: Callable[..., str]) -> str:
    """Describe a plan for the terminal: classes moved, leavers, leavers kept with books."""
    lines = [_("Students moving up a grade: {count}", count=len(planned.moves))]
    lines += [f"  {a} -> {b}: {n}" for a, b, n in class_moves(planned)]
    lines.append(_("Leavers closed: {count}", count=len(planned.leavers)))
    if planned.kept:
        lines.append(
            _("Leavers with books still out, kept on the list: {count}", count=len(planned.kept))
        )
        lines += [f"  {s['id']} {s['name']} {s['class_name']}: {s['loans']}" for s in planned.kept]
    return "\n".join(lines)


def card_coverage(db: Database) -> list[dict[str, Any]]:
    """Return per class the students, and those without an active card."""
    return fetch(
        db,
        "SELECT p.class_name, count(*) AS students, "
        "sum(NOT EXISTS (SELECT 1 FROM cards c WHERE c.patron_id = p.id AND c.status = 'active')) "
        "AS without_card FROM patrons p WHERE p.status = 'active' AND p.role IN "
        "('student', 'helper') GROUP BY p.class_name ORDER BY p.class_name COLLATE school",
    )
