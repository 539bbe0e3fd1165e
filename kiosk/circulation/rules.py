"""Loan rules and the term calendar, kept in the store and read as one frozen value."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk import rule_defaults
from kiosk.circulation.clock import UTC
from kiosk.circulation.models import Patron

if TYPE_CHECKING:  # loading rules takes a database; deciding with them does not
    from sqlite_utils import Database

POLICY_KEYS = ("block_when_overdue", "holiday_loans", "term_start", "term_end", "closed_weekdays")


@dataclass(frozen=True)
class Limits:
    loan_days: int
    max_loans: int
    renewals: int


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

    def limits(self, patron: Patron) -> Limits:
        """Return the limits for this patron: the role's, narrowed by the grade's for students."""
        base = self.by_role.get(patron.role) or default_limits(patron.role)
        if patron.role == "student" and patron.grade in self.max_loans_by_grade:
            return Limits(base.loan_days, self.max_loans_by_grade[patron.grade], base.renewals)
        return base

    def is_open(self, day: dt.date) -> bool:
        """Return whether the library is open on this day."""
        return day.isoweekday() not in self.closed_weekdays and day not in self.closed_days

    def due_date(self, patron: Patron, today: dt.date) -> dt.date:
        """Return the due date of a loan made today.

        A due date on a closed day moves to the next open day; past the end of term it is the
        holiday due date of the student's grade when that grade has holiday loans, else (without
        holiday loans for all) it moves back to the last open day of term, never before today.
        """
        due = today + dt.timedelta(days=self.limits(patron).loan_days)
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
    for row in db.query("SELECT scope, loan_days, max_loans, renewals FROM rules"):
        kind, _, name = row["scope"].partition(":")
        if kind == "role":
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
    )


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
