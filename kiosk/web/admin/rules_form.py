"""Check the rules form field by field: every problem named beside its field, in the reader's
language, and what was typed kept; a term that ends before it starts is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.rule_defaults import BOUNDS, GRADES, ROLES, Bound
from kiosk.i18n import N_

WHOLE = N_("Write a whole number, like {example}.")
RANGE = N_("Write a number from {low} to {high}.")
DATE = N_("Write a date like 2026-09-01, or leave it empty.")
# A holiday line: one day, or the first and last day of a break ("2026-10-01 ~ 2026-10-07";
# "至", "到", "..", "-" and "–" between them do too).
HOLIDAY = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:~|～|至|到|\.\.|–|—|-|to)\s*(\d{4}-\d{1,2}-\d{1,2}))?$"
)
LONGEST_BREAK = 100  # days: a summer holiday fits; a typo of a year does not


@dataclass
class RulesForm:
    """What was typed into the rules form, the problems found, and the rules it makes."""

    typed: dict[str, Any]
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return whether every field is right."""
        return not self.errors


def _number(form: RulesForm, name: str, bound: Bound, required: bool = True) -> int | None:
    """Read a whole number within its bounds (config/rule_defaults.py), or note the problem."""
    text = str(form.typed.get(name, "")).strip()
    if not text and not required:
        return None
    if not text.isdigit():
        form.errors[name] = (WHOLE, {"example": bound.example})
        return None
    value = int(text)
    if bound.problem(value):
        form.errors[name] = (RANGE, {"low": bound.low, "high": bound.high})
        return None
    return value


def _date(form: RulesForm, name: str) -> dt.date | None:
    text = str(form.typed.get(name, "")).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        form.errors[name] = (DATE, {})
        return None


def check(values: Mapping[str, Any], weekdays: list[str]) -> RulesForm:
    """Check a submitted rules form; return it with its problems or the rules to save."""
    form = RulesForm(typed={k: values.get(k, "") for k in values}, rules={})
    form.typed["closed_weekdays"] = weekdays
    loan_days = {r: _number(form, f"loan_days_{r}", BOUNDS["loan_days"]) for r in ROLES}
    max_loans = {r: _number(form, f"max_loans_{r}", BOUNDS["max_loans"]) for r in ROLES}
    by_grade = {
        str(g): _number(form, f"grade_{g}", BOUNDS["grade_max_loans"], required=False)
        for g in GRADES
    }
    renewals = _number(form, "renewals", BOUNDS["renewals"])
    start, end = _date(form, "term_start"), _date(form, "term_end")
    if start and end and end < start:
        form.errors["term_end"] = (
            N_("The term ends before it starts ({start})."),
            {"start": start.isoformat()},
        )
    elif bool(start) != bool(end) and "term_start" not in form.errors:
        missing = "term_end" if start else "term_start"
        if missing not in form.errors:
            form.errors[missing] = (N_("Give both the first and the last day of term."), {})
    days: list[str] = []
    for n, line in enumerate(str(form.typed.get("closed_days", "")).splitlines(), start=1):
        for day in _holiday_line(form, n, line.strip()):
            if day in days:
                problem = (N_("{value} is listed twice."), {"value": day})
                form.errors.setdefault("closed_days", problem)
            days.append(day)
    closed = sorted({int(d) for d in weekdays if d.isdigit() and 1 <= int(d) <= 7})
    if form.ok:
        form.rules = {
            "loan_days": loan_days,
            "max_loans": max_loans,
            "max_loans_by_grade": {g: n for g, n in by_grade.items() if n is not None},
            "renewals": renewals,
            "block_when_overdue": bool(values.get("block_when_overdue")),
            "holiday_loans": bool(values.get("holiday_loans")),
            "term_start": start.isoformat() if start else "",
            "term_end": end.isoformat() if end else "",
            "closed_weekdays": closed,
            "closed_days": days,
        }
    return form


def _day(text: str) -> dt.date:
    year, month, day = (int(p) for p in text.split("-"))
    return dt.date(year, month, day)


def _holiday_line(form: RulesForm, n: int, text: str) -> list[str]:
    """Return the days of one line of holidays (a day or a range); a bad line is named."""
    if not text:
        return []
    m = HOLIDAY.match(text)
    try:
        first = _day(m.group(1)) if m else None
        last = _day(m.group(2)) if m and m.group(2) else first
    except ValueError:
        first = last = None
    if first is None or last is None:
        form.errors.setdefault(
            "closed_days",
            (N_("Line {line}: {value} is not a date like 2026-10-01, "
                "nor a range like 2026-10-01 ~ 2026-10-07."),
             {"line": n, "value": text}),
        )  # fmt: skip
        return []
    if not 0 <= (last - first).days < LONGEST_BREAK:
        form.errors.setdefault(
            "closed_days",
            (N_("Line {line}: {value} must run forwards and last at most {days} days."),
             {"line": n, "value": text, "days": LONGEST_BREAK}),
        )  # fmt: skip
        return []
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def holiday_lines(days: Iterable[dt.date]) -> str:
    """Show closed days as the form takes them: a run of days in a row as one range a line."""
    lines: list[str] = []
    run: list[dt.date] = []
    for day in sorted(days):
        if run and day != run[-1] + dt.timedelta(days=1):
            lines.append(_run(run))
            run = []
        run.append(day)
    if run:
        lines.append(_run(run))
    return "\n".join(lines)


def _run(run: list[dt.date]) -> str:
    return run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()} ~ {run[-1].isoformat()}"
