"""The new school year: classes move up a grade; leavers are closed once their loans are settled.

三(2)班 becomes 四(2)班 (a class name that starts with its grade, in Chinese numerals or digits,
gets the next one); students (and helpers, who are students too) of the last grade leave, unless
they still have books out: those stay active and on the list until the books come back. New
first-grade classes come from `kiosk import patrons`. The plan is computed first (the dry run
shows it), and the change is one `year_promoted` event listing every move, so its replay at the
hub moves exactly the same students.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import Draft, Outcome, apply
from kiosk.circulation.store import Store, fetch

LAST_GRADE = 6  # primary school; a school with more grades sets `last_grade`
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


def decide(students: list[dict[str, Any]], last_grade: int = LAST_GRADE) -> Plan:
    """Plan the promotion from the active students with their count of open loans."""
    plan = Plan()
    for s in students:
        if s["grade"] is None:
            continue
        if s["grade"] >= last_grade:
            (plan.kept if s["loans"] else plan.leavers).append(s)
        else:
            name = next_class_name(s["class_name"], s["grade"])
            plan.moves.append(
                {**s, "grade": s["grade"] + 1, "class_name": name, "from_class": s["class_name"]}
            )
    return plan


def plan(db: Database, last_grade: int = LAST_GRADE) -> Plan:
    """Compute the promotion of the active students in the store."""
    students = fetch(
        db,
        "SELECT p.id, p.name, p.grade, p.class_name, "
        "(SELECT count(*) FROM loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL) "
        "AS loans FROM patrons p WHERE p.status = 'active' AND p.role IN ('student', 'helper') "
        "ORDER BY p.grade, p.class_name, p.id",
    )
    return decide(students, last_grade)


def promote(store: Store, planned: Plan, actor: str) -> Outcome:
    """Carry out a plan as one `year_promoted` event."""
    data = {
        "moves": [
            {"patron": m["id"], "grade": m["grade"], "class_name": m["class_name"]}
            for m in planned.moves
        ],
        "leavers": [s["id"] for s in planned.leavers],
        "kept": [s["id"] for s in planned.kept],
    }
    with store.write() as db:
        return apply(store, db, [Draft("year_promoted", data=data)], actor)


def describe(planned: Plan, _: Callable[..., str]) -> str:
    """Describe a plan for the terminal: classes moved, leavers, leavers kept with books."""
    classes: dict[tuple[str, str], int] = {}
    for m in planned.moves:
        key = (m["from_class"], m["class_name"])
        classes[key] = classes.get(key, 0) + 1
    lines = [_("{count} students move up a grade:", count=len(planned.moves))]
    lines += [f"  {a} -> {b}: {n}" for (a, b), n in sorted(classes.items())]
    lines.append(_("{count} leavers closed", count=len(planned.leavers)))
    if planned.kept:
        lines.append(
            _("{count} leavers still have books and stay on the list:", count=len(planned.kept))
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
        "('student', 'helper') GROUP BY p.class_name ORDER BY p.class_name",
    )
