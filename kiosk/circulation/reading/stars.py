"""Reading stars (阅读之星): the rules the librarian sets for a period, and who earns a star.

A period is a month or a festival's dates (读书节), saved with a name. A child of a class is a
star when, in the period, they read at least `min_books` books and at least `min_list` titles
of their grade's list; with `top` above 0 only the best `top` of each class (by books, then list
titles) are stars, and a tie at the last place keeps everyone tied.

"Read" is `kept_overnight`: a loan of the period still out, or returned on a later day than it
was lent. A book lent and brought back the same day (a child trying the kiosk, a wrong book
taken back at once) counts nothing. It is the stars' own small rule, the same idea as the
badges' "loans that lasted at least a day" (issue 25 item 3, kept apart so each can be read
alone); a lunch-time loan returned the next lunch time counts here, a few minutes short of 24
hours.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.collection import one
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.reading.commands import SaveStarRules
from kiosk.circulation.schemas import STAR_COUNTS, STAR_TOP
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

MOST_BOOKS = STAR_COUNTS[1]
MOST_TOP = STAR_TOP[1]
LONGEST_DAYS = 366
MESSAGES = {
    "no_period": N_("Choose a month, or the first and the last day of the festival."),
    "both_periods": N_("Choose a month or the festival's dates, not both."),
    "bad_month": N_("{value} is not a month: write it as 2026-04."),
    "bad_date": N_("{value} is not a date: write it as 2026-04-20."),
    "ends_before": N_("The period ends ({last}) before it starts ({first})."),
    "too_long": N_("A period of reading stars is at most {days} days."),
    "bad_books": N_("Books read is a number from 0 to {most}."),
    "bad_list": N_("Titles of the grade's list is a number from 0 to {most}."),
    "bad_top": N_("The best of each class is a number from 0 to {most} (0: no limit)."),
    "no_rule": N_("Set at least one rule: books read or titles of the grade's list."),
    "unknown": N_("There are no such reading stars."),
}


@dataclass(frozen=True)
class StarForm:
    """What the librarian typed, as typed: a name, a month or two dates, and the three rules."""

    name: str = ""
    month: str = ""
    first: str = ""
    last: str = ""
    min_books: str = "0"
    min_list: str = "0"
    top: str = "0"


def _number(text: str, most: int) -> int | None:
    text = text.strip() or "0"
    return int(text) if text.isdigit() and int(text) <= most else None


def _period(form: StarForm) -> tuple[dt.date, dt.date] | Refusal:
    """Return the period's first and last day, or why it cannot be one."""
    month, first, last = form.month.strip(), form.first.strip(), form.last.strip()
    if month and (first or last):
        return Refusal("both_periods")
    if month:
        try:
            year, number = (int(p) for p in month.split("-"))
            days = calendar.monthrange(year, number)[1]
        except ValueError:
            return Refusal("bad_month", {"value": month})
        return dt.date(year, number, 1), dt.date(year, number, days)
    if not (first or last):
        return Refusal("no_period")
    found: list[dt.date] = []
    for text in (first, last):
        try:
            found.append(dt.date.fromisoformat(text))
        except ValueError:
            return Refusal("bad_date", {"value": text or "-"})
    if found[1] < found[0]:
        return Refusal("ends_before", {"first": first, "last": last})
    if (found[1] - found[0]).days + 1 > LONGEST_DAYS:
        return Refusal("too_long", {"days": LONGEST_DAYS})
    return found[0], found[1]


def decide_save(rules_id: str, form: StarForm) -> list[Draft] | Refusal:
    """Save a period's star rules (new or changed); the name defaults to the period."""
    period = _period(form)
    if isinstance(period, Refusal):
        return period
    books, listed = _number(form.min_books, MOST_BOOKS), _number(form.min_list, MOST_BOOKS)
    top = _number(form.top, MOST_TOP)
    if books is None:
        return Refusal("bad_books", {"most": MOST_BOOKS})
    if listed is None:
        return Refusal("bad_list", {"most": MOST_BOOKS})
    if top is None:
        return Refusal("bad_top", {"most": MOST_TOP})
    if books == 0 and listed == 0:
        return Refusal("no_rule")
    first, last = period
    name = form.name.strip() or (
        form.month.strip() if form.month.strip() else f"{first.isoformat()} – {last.isoformat()}"
    )
    data = {
        "rules": rules_id,
        "name": name,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "min_books": books,
        "min_list": listed,
        "top": top,
    }
    return [Draft("star_rules_saved", data=data)]


def save_rules(store: Store, form: StarForm, actor: str, rules_id: str = "") -> Outcome:
    """Save new star rules (no id) or change saved ones."""
    return handle(store, SaveStarRules(form, rules_id), actor=actor)


def form_of_event(data: Mapping[str, Any]) -> StarForm:
    """Return a `star_rules_saved` event's data as the form would have had it."""
    return StarForm(
        name=data["name"],
        first=data["first"],
        last=data["last"],
        min_books=str(data["min_books"]),
        min_list=str(data["min_list"]),
        top=str(data["top"]),
    )


def form_of(rules: dict[str, Any]) -> StarForm:
    """Return saved rules as the form shows them for a change."""
    return StarForm(
        name=rules["name"],
        first=rules["first_day"],
        last=rules["last_day"],
        min_books=str(rules["min_books"]),
        min_list=str(rules["min_list"]),
        top=str(rules["top"]),
    )


# Named queries.


def get_rules(db: Database, rules_id: str) -> dict[str, Any] | None:
    """Return one saved set of star rules."""
    return one(db, "SELECT * FROM star_rules WHERE id = ?", [rules_id])


def all_rules(db: Database) -> list[dict[str, Any]]:
    """Return every saved set of star rules, the latest period first."""
    return fetch(db, "SELECT * FROM star_rules ORDER BY first_day DESC, saved_at DESC")


def loans_of(db: Database, since: str, until: str) -> list[dict[str, Any]]:
    """Return the loans students on the roll made between two stored times, with the title."""
    return fetch(
        db,
        "SELECT l.patron_id, l.checked_out_at, l.returned_at, i.isbn, i.title "
        "FROM loans l JOIN items i ON i.barcode = l.item_barcode "
        "JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.checked_out_at >= ? AND l.checked_out_at < ? "
        "AND p.role = 'student' AND p.status != 'left'",
        [since, until],
    )


def list_titles(db: Database, grade: int) -> list[dict[str, Any]]:
    """Return the titles of a grade's list for now (its newest), each with its ISBN."""
    return fetch(
        db,
        "SELECT t.title, t.isbn FROM reading_list_titles t WHERE t.list_id = "
        "(SELECT id FROM reading_lists WHERE grade = ? ORDER BY saved_at DESC LIMIT 1)",
        [grade],
    )


def kept_overnight(checked_out_at: str, returned_at: str | None, tz: ZoneInfo) -> bool:
    """Return whether a loan counts as a book read: still out, or back on a later day."""
    if returned_at is None:
        return True
    out = parse_stamp(checked_out_at).astimezone(tz).date()
    return parse_stamp(returned_at).astimezone(tz).date() > out
