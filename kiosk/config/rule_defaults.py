"""Loan rules' defaults and their bounds, said once: for the config, the store, the form, the page.

The `[rules]` config section (kiosk/config/__init__.py), the rules the store reads
(circulation/rules.py), the rules form (web/admin/rules_form.py) and the dashboard's rules page
(web/admin/records.py) all take their defaults and limits from here, so a role the store has no
rule for gets the same limits everywhere (a student's, for a role nobody configured). It sits
beside the settings (config/__init__.py), below every package that reads rules, and imports
nothing of the kiosk but the config's problems (a message id and its values, for the catalogs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.config.problems import Problem, problem
from kiosk.i18n.catalogs import N_

ROLES = ("student", "teacher", "helper", "librarian")
GRADES = range(1, 7)  # the primary school's grades, each with its own limit on the form
LOAN_DAYS = {"student": 14, "teacher": 30, "helper": 14, "librarian": 30}
MAX_LOANS = {"student": 2, "teacher": 10, "helper": 3, "librarian": 20}
MAX_LOANS_BY_GRADE = {"1": 1, "2": 1}
RENEWALS = 1
BLOCK_WHEN_OVERDUE = True
HOLIDAY_LOANS = False
CLOSED_WEEKDAYS = (6, 7)
# Item types the kiosk knows without being told (named in the catalogs, in i18n/catalogs.py):
# key -> (lendable, loan days, most of this type at once, renewals); None is "the role's"
# (for most at once: no limit of the type's own). A librarian's edits in the store win.
BOOK_TYPE = "book"
ITEM_TYPES: dict[str, tuple[bool, int | None, int | None, int | None]] = {
    BOOK_TYPE: (True, None, None, None),  # an ordinary book: the role's rules, unchanged
    "reference": (False, None, None, None),  # 工具书/参考书: read in the library, never lent
    "magazine": (True, 7, 2, 0),  # 报刊杂志: a week, two at a time, no renewal
}


@dataclass(frozen=True)
class Bound:
    """The whole numbers a rule may take, and an example for a message."""

    low: int
    high: int
    example: int

    def problem(self, value: Any) -> Problem | None:
        """Return what is wrong with a value (for config files), or None."""
        if not isinstance(value, int) or isinstance(value, bool):
            return problem(N_("{value} is not a whole number"), value=repr(value))
        if not self.low <= value <= self.high:
            between = N_("{value} is not between {low} and {high}")
            return problem(between, value=value, low=self.low, high=self.high)
        return None


BOUNDS = {
    "loan_days": Bound(1, 365, LOAN_DAYS["student"]),
    # A teacher's class corner or a test school may lend thousands; the form allows as many.
    "max_loans": Bound(0, 100_000, MAX_LOANS["student"]),
    "grade_max_loans": Bound(0, 100, 1),
    "renewals": Bound(0, 10, RENEWALS),
    "type_max_loans": Bound(0, 100, 2),
}


def loan_days(role: str) -> int:
    """Return the default loan period of a role (a student's for a role not listed)."""
    return LOAN_DAYS.get(role, LOAN_DAYS["student"])


def max_loans(role: str) -> int:
    """Return the default most books on loan at once for a role (a student's if not listed)."""
    return MAX_LOANS.get(role, MAX_LOANS["student"])


def roles_problem(values: Mapping[str, Any], bound: str) -> Problem | None:
    """Return what is wrong with numbers per role (unknown role, out of bounds), or None."""
    bad = [k for k in values if k not in ROLES]
    if bad:
        unknown = N_("unknown role {role} (roles: {roles})")
        return problem(unknown, role=repr(bad[0]), roles=", ".join(ROLES))
    for role, n in values.items():
        wrong = BOUNDS[bound].problem(n)
        if wrong:
            return problem(N_("{role}: {problem}"), role=role, problem=wrong)
    return None


def grades_problem(values: Mapping[str, Any]) -> Problem | None:
    """Return what is wrong with limits per grade, or None."""
    bad = [k for k in values if not str(k).isdigit()]
    if bad:
        return problem(N_("grade {grade} is not a number"), grade=repr(bad[0]))
    for grade, n in values.items():
        wrong = BOUNDS["grade_max_loans"].problem(n)
        if wrong:
            return problem(N_("grade {grade}: {problem}"), grade=grade, problem=wrong)
    return None
