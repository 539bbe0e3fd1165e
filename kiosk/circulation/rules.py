"""Loan rules and the term calendar, kept in the store and read as one frozen value."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import UTC
from kiosk.circulation.models import Patron
from kiosk.config import rule_defaults

if TYPE_CHECKING:  # loading rules takes a database; deciding with them does not
    from sqlite_utils import Database

POLICY_KEYS = ("block_when_overdue", "holiday_loans", "term_start", "term_end", "closed_weekdays")


@dataclass(frozen=True)
class Limits:
    loan_days: int
    max_loans: int
    renewals: int


@dataclass(frozen=True)
class ItemType:
    """A kind of item with its own loan rules; None in a number means the role's."""

    key: str
    name: str | None = None  # the librarian's name; built-in types are named by the catalogs
    lendable: bool = True  # False: a reference book, read in the library only
    loan_days: int | None = None
    max_loans: int | None = None  # most of this type one patron may hold; None: no own limit
    renewals: int | None = None

    @property
    def label(self) -> str:
        """Return what names the type in a message: the librarian's name, or the built-in key."""
        return self.name or self.key

    @property
    def built_in(self) -> bool:
        """Return whether the kiosk knows this type without being told (rule_defaults)."""
        return self.key in rule_defaults.ITEM_TYPES


def built_in_type(key: str) -> ItemType:
    """Return a built-in type with its default rules (an unknown key is an ordinary book's)."""
    lendable, days, most, renewals = rule_defaults.ITEM_TYPES.get(
        key, rule_defaults.ITEM_TYPES[rule_defaults.BOOK_TYPE]
    )
    return ItemType(key, None, lendable, days, most, renewals)


def _built_in_types() -> dict[str, ItemType]:
    return {key: built_in_type(key) for key in rule_defaults.ITEM_TYPES}


@dataclass(frozen=True)
class Rules:
    """Everything that decides whether a loan may happen and when it is due."""

    by_role: dict[str, Limits]
    max_loans_by_grade: dict[int, int] = field(default_factory=dict)
    block_when_overdue: bool = rule_defaults.BLOCK_WHEN_OVERDUE
    holiday_loans: bool = rule_defaults.HOLIDAY_LOANS
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    closed_weekdays: frozenset[int] = frozenset(rule_defaults.CLOSED_WEEKDAYS)
    closed_days: frozenset[dt.date] = frozenset()
    # Grades whose students may take books over the holidays, with the day those are due.
    holiday_due_by_grade: dict[int, dt.date] = field(default_factory=dict)
    item_types: dict[str, ItemType] = field(default_factory=_built_in_types)

    def limits(self, patron: Patron, item_type: str | None = None) -> Limits:
        """Return the limits for this patron: the role's, narrowed by the grade's for students.

        With an item type, its own loan days and renewals take the place of the role's.
        """
        base = self.by_role.get(patron.role) or default_limits(patron.role)
        if patron.role == "student" and patron.grade in self.max_loans_by_grade:
            base = Limits(base.loan_days, self.max_loans_by_grade[patron.grade], base.renewals)
        if item_type is None:
            return base
        kind = self.item_type(item_type)
        return Limits(
            base.loan_days if kind.loan_days is None else kind.loan_days,
            base.max_loans,
            base.renewals if kind.renewals is None else kind.renewals,
        )

    def item_type(self, key: str | None) -> ItemType:
        """Return an item's type; a type nobody knows (removed, or a typo) lends as a book."""
        key = key or rule_defaults.BOOK_TYPE
        return self.item_types.get(key) or built_in_type(rule_defaults.BOOK_TYPE)

    def is_open(self, day: dt.date) -> bool:
        """Return whether the library is open on this day."""
        return day.isoweekday() not in self.closed_weekdays and day not in self.closed_days

    def due_date(self, patron: Patron, today: dt.date, item_type: str | None = None) -> dt.date:
        """Return the due date of a loan made today.

        A due date on a closed day moves to the next open day; past the end of term it is the
        holiday due date of the student's grade when that grade has holiday loans, else (without
        holiday loans for all) it moves back to the last open day of term, never before today.
        """
        due = today + dt.timedelta(days=self.limits(patron, item_type).loan_days)
        for _ in range(366):
            if self.is_open(due):
                break
            due += dt.timedelta(days=1)
        holiday_due = (
            self.holiday_due_by_grade.get(patron.grade) if patron.grade is not None else None
        )
        if self.term_end and holiday_due and due > self.term_end and patron.role != "teacher":
            return max(holiday_due, due)  # holiday loans of this grade: due after the holidays
        if self.term_end and not self.holiday_loans and due > self.term_end:
            due = self.term_end
            while due > today and not self.is_open(due):
                due -= dt.timedelta(days=1)
            due = max(due, today)
        return due


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Return the last second of `day` in the school's time zone, in UTC."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz).astimezone(UTC)


def load_rules(db: Database) -> Rules:
    """Read the rules from the store."""
    by_role: dict[str, Limits] = {}
    by_grade: dict[int, int] = {}
    types = _built_in_types()
    for row in db.query("SELECT * FROM rules"):
        kind, _, name = row["scope"].partition(":")
        if kind == "type":
            types[name] = item_type_of(row)
        elif kind == "role":
            by_role[name] = Limits(
                row["loan_days"] or rule_defaults.loan_days(name),
                _or(row["max_loans"], rule_defaults.max_loans(name)),
                _or(row["renewals"], rule_defaults.RENEWALS),
            )
        elif kind == "grade" and row["max_loans"] is not None:
            by_grade[int(name)] = row["max_loans"]
    policy = {r["key"]: json.loads(r["value"]) for r in db.query("SELECT key, value FROM policy")}
    closed = frozenset(
        dt.date.fromisoformat(r["day"]) for r in db.query("SELECT day FROM closed_days")
    )
    return Rules(
        by_role=by_role,
        max_loans_by_grade=by_grade,
        block_when_overdue=bool(policy.get("block_when_overdue", rule_defaults.BLOCK_WHEN_OVERDUE)),
        holiday_loans=bool(policy.get("holiday_loans", rule_defaults.HOLIDAY_LOANS)),
        term_start=_date(policy.get("term_start")),
        term_end=_date(policy.get("term_end")),
        closed_weekdays=frozenset(policy.get("closed_weekdays", rule_defaults.CLOSED_WEEKDAYS)),
        closed_days=closed,
        holiday_due_by_grade={
            int(r["grade"]): dt.date.fromisoformat(r["due_on"])
            for r in db.query("SELECT grade, due_on FROM holiday_loans")
        },
        item_types=types,
    )


def item_type_of(row: Mapping[str, Any]) -> ItemType:
    """Build an item type from its rules row (`type:<key>`)."""
    return ItemType(
        row["scope"].partition(":")[2],
        row.get("name") or None,
        row.get("lendable") is None or bool(row["lendable"]),
        row["loan_days"],
        row["max_loans"],
        row["renewals"],
    )


def item_type_row(kind: ItemType) -> dict[str, Any]:
    """Return an item type as its rules row."""
    return {
        "scope": f"type:{kind.key}",
        "name": kind.name,
        "lendable": int(kind.lendable),
        "loan_days": kind.loan_days,
        "max_loans": kind.max_loans,
        "renewals": kind.renewals,
    }


def default_limits(role: str) -> Limits:
    """Return the limits of a role the store has no rule for: its defaults (rule_defaults)."""
    return Limits(
        rule_defaults.loan_days(role), rule_defaults.max_loans(role), rule_defaults.RENEWALS
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value  # 0 is a rule (no books), not a missing one


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def rules_rows(rules_config: Any) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Turn the [rules] config section into rules rows, policy values and closed days."""
    rows = [
        {
            "scope": f"role:{role}",
            "loan_days": rules_config.loan_days.get(role, rule_defaults.loan_days(role)),
            "max_loans": rules_config.max_loans.get(role, rule_defaults.max_loans(role)),
            "renewals": rules_config.renewals,
        }
        for role in sorted(set(rules_config.loan_days) | set(rules_config.max_loans))
    ]
    rows += [
        {"scope": f"grade:{g}", "loan_days": None, "max_loans": n, "renewals": None}
        for g, n in sorted(rules_config.max_loans_by_grade.items())
    ]
    policy = {k: getattr(rules_config, k) for k in POLICY_KEYS}
    return rows, policy, list(rules_config.closed_days)
