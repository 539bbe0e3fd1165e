"""The fields each event type carries, as small frozen schemas, and the one check of them.

Events enter the hub from kiosks (kiosk/sync/trust.py checks each against its schema before
anything of it is applied); a kiosk may check the events it builds the same way (`problem`).
A schema names what the event must say about (a patron, a book) and the fields of its `data`,
each of a kind: text without control characters, a UTC time, a date, one of a few words, a
class corner's box. An event that does not fit is refused with the place and the problem in
words (`Problem`), never half applied: a value that reaches a page must not break it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.circulation.events import Event
from kiosk.i18n import N_

MAX_TEXT = 200  # an identifier, a name, a class
MAX_NOTE = 2000  # what a helper typed about a lost book
MAX_CARD = 64
MAX_BOX = 1000  # books in one class corner's box
# A UTC time as `stamp` writes it; the date alone, another zone or no zone is refused.
STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A Raspberry Pi without a real-time clock may boot in 1970; past 2999 is a broken clock.
YEARS = range(1970, 3000)
COMPENSATIONS = ("money", "replacement", "waived")
# A reading list's grade and target (kiosk/circulation/reading/lists.py checks the school's own
# last grade at its desk; the hub, serving many schools, takes any school grade).
GRADES = (1, 12)
TARGETS = (0, 500)
# A reading stars' period's rules (kiosk/circulation/reading/stars.py): books and list titles
# read, and the best of each class.
STAR_COUNTS = (0, 500)
STAR_TOP = (0, 100)

PROBLEMS = {
    "missing": N_("is missing"),
    "not_text": N_("must be text"),
    "blank": N_("is empty"),
    "too_long": N_("is too long"),
    "control": N_("contains a control character (a NUL, TAB or line break)"),
    "not_stamp": N_("is not a UTC time like 2026-11-02T01:00:00.000Z"),
    "not_date": N_("is not a date like 2026-11-02"),
    "not_choice": N_("is not one of the allowed words"),
    "not_box": N_("must be a list of books, each with barcode and loan_uuid"),
    "not_number": N_("is not a whole number in its range"),
    # A reading stars' period that does not hold together (reading/stars.py's own refusals).
    "ends_before": N_("is before the period's first day"),
    "period_too_long": N_("makes the period longer than 366 days"),
    "no_rule": N_("is 0 like the list titles: set at least one rule"),
}


def has_control(text: str, allowed: str = "") -> bool:
    """Return whether text holds a control, format or line-separator character (NUL, TAB...)."""
    if text.isascii() and text.isprintable():  # most text: none of them (ASCII's are 0-31, 127)
        return False
    return any(
        (unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029") and ch not in allowed
        for ch in text
    )


def is_utc_stamp(value: Any) -> bool:
    """Return whether a value is a UTC time like 2026-11-02T01:00:00.000Z, in a sane year."""
    if not isinstance(value, str) or not STAMP_RE.match(value):
        return False
    try:
        # The pattern ends it with its only Z: the time without it is read the same way as
        # `parse_stamp` reads it, without making a time zone (the hub checks 20,000 a drain).
        return dt.datetime.fromisoformat(value[:-1]).year in YEARS
    except ValueError:
        return False


def is_date(value: Any) -> bool:
    """Return whether a value is a calendar date like 2026-11-02."""
    if not isinstance(value, str) or not DATE_RE.match(value):
        return False
    try:
        return dt.date.fromisoformat(value).year in YEARS
    except ValueError:
        return False


@dataclass(frozen=True)
class Field:
    """One field of an event's `data`: its name, its kind and whether it must be there."""

    name: str
    kind: str = "id"  # id, text, note, card, stamp, date, choice, box, number
    required: bool = True
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] = (0, 0)  # a number's least and most


@dataclass(frozen=True)
class Schema:
    """What an event type says: about a patron, about a book, and the fields of its data."""

    patron: bool = False
    item: bool = False
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why an event does not fit its schema: the place (`data.due_at`) and a PROBLEMS code."""

    place: str
    code: str
    kind: str = "id"


def _ids(*names: str) -> tuple[Field, ...]:
    return tuple(Field(n) for n in names)


HOLD = Schema(patron=True, item=True, fields=_ids("hold"))
STOCKTAKE = Schema(fields=_ids("stocktake"))
INCIDENT = Schema(
    item=True, fields=(Field("loan_uuid", required=False), Field("note", "note", False))
)
# Every event type a kiosk sends whose data the hub reads. Types not here (rules_set, import,
# item_catalogued, notices ...) are stored for the record and never applied from a kiosk.
SCHEMAS: dict[str, Schema] = {
    "checkout": Schema(patron=True, item=True, fields=(Field("due_at", "stamp"),)),
    "renew": Schema(patron=True, item=True, fields=(Field("due_at", "stamp"),)),
    "checkin": Schema(item=True),
    "undo": Schema(item=True, fields=_ids("undone")),
    "visit": Schema(patron=True),
    "card_lost": Schema(patron=True, fields=(Field("card", "card"),)),
    "card_issued": Schema(patron=True, fields=(Field("card", "card"),)),
    "card_replaced": Schema(patron=True, fields=(Field("old", "card"), Field("new", "card"))),
    "item_status": Schema(item=True, fields=(Field("status", "text"),)),
    "patron_status": Schema(patron=True, fields=(Field("status", "text"),)),
    "stocktake_started": Schema(
        fields=(
            Field("stocktake"),
            Field("location", "text", False),
            Field("call_from", "text", False),
            Field("call_to", "text", False),
        )
    ),
    "stocktake_scan": Schema(item=True, fields=_ids("stocktake")),
    "stocktake_paused": STOCKTAKE,
    "stocktake_resumed": STOCKTAKE,
    "stocktake_finished": STOCKTAKE,
    "item_lost": INCIDENT,
    "item_damaged": INCIDENT,
    "item_found": Schema(item=True, fields=(Field("how", "text", False),)),
    "compensation_recorded": Schema(
        fields=(
            Field("incident"),
            Field("kind", "choice", choices=COMPENSATIONS),
            Field("amount", "text", False),
        )
    ),
    "repair_started": Schema(fields=_ids("incident")),
    "repair_done": Schema(item=True, fields=_ids("incident")),
    "item_withdrawn": Schema(
        item=True, fields=(Field("reason", "text"), Field("note", "note", False))
    ),
    "hold_placed": HOLD,
    "hold_ready": Schema(
        patron=True, item=True, fields=(Field("hold"), Field("expires_on", "date"))
    ),
    "hold_fulfilled": HOLD,
    "hold_expired": HOLD,
    "hold_cancelled": HOLD,
    "reading_list_saved": Schema(
        fields=(
            Field("list"),
            Field("name"),
            Field("grade", "number", False, bounds=GRADES),
            Field("term", "text", False),
            Field("target", "number", bounds=TARGETS),
        )
    ),
    "reading_list_title_added": Schema(
        fields=(
            Field("list"),
            Field("key"),
            Field("title"),
            Field("author", "text", False),
            Field("isbn", "text", False),
        )
    ),
    "reading_list_title_removed": Schema(fields=_ids("list", "key")),
    "star_rules_saved": Schema(
        fields=(
            Field("rules"),
            Field("name"),
            Field("first", "date"),
            Field("last", "date"),
            Field("min_books", "number", bounds=STAR_COUNTS),
            Field("min_list", "number", bounds=STAR_COUNTS),
            Field("top", "number", bounds=STAR_TOP),
        )
    ),
    "corner_lent": Schema(
        patron=True,
        fields=(
            Field("batch"),
            Field("class_name", "text"),
            Field("due_at", "stamp"),
            Field("items", "box"),
        ),
    ),
}


def problem(event: Event) -> Problem | None:
    """Return why an event does not fit its type's schema, or None (also for unlisted types)."""
    schema = SCHEMAS.get(event.type)
    if schema is None:
        return None
    if schema.patron and not _id_ok(event.patron_id):
        return Problem("patron_id", "missing")
    if schema.item and not _id_ok(event.item_barcode):
        return Problem("item_barcode", "missing")
    data = event.data if isinstance(event.data, Mapping) else {}
    for f in schema.fields:
        value = data.get(f.name)
        if value is None:
            if f.required:
                return Problem(f"data.{f.name}", "missing", f.kind)
            continue
        code = _value_problem(f, value)
        if code:
            return Problem(f"data.{f.name}", code, f.kind)
    return None


def card_problem(code: Any) -> str | None:
    """Return why a card code cannot be a card (PROBLEMS code), or None: the kiosk's own check."""
    return _text_problem(code, "card")


def _id_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _value_problem(f: Field, value: Any) -> str | None:
    """Return the PROBLEMS code of one field's value, or None when it fits."""
    if f.kind == "stamp":
        return None if is_utc_stamp(value) else "not_stamp"
    if f.kind == "date":
        return None if is_date(value) else "not_date"
    if f.kind == "choice":
        return None if value in f.choices else "not_choice"
    if f.kind == "box":
        return None if _box_ok(value) else "not_box"
    if f.kind == "number":  # a whole number, not true/false (JSON's true is Python's 1)
        fits = isinstance(value, int) and not isinstance(value, bool)
        return None if fits and f.bounds[0] <= value <= f.bounds[1] else "not_number"
    return _text_problem(value, f.kind, f.required)


def _text_problem(value: Any, kind: str, required: bool = True) -> str | None:
    if not isinstance(value, str):
        return "not_text"
    if len(value) > {"note": MAX_NOTE, "card": MAX_CARD}.get(kind, MAX_TEXT):
        return "too_long"
    # A note may run over lines (a textarea); nothing else may hold a line break.
    if has_control(value, allowed="\r\n" if kind == "note" else ""):
        return "control"
    if required and kind in ("id", "card") and not value.strip():
        return "blank"
    return None


def _box_ok(value: Any) -> bool:
    """Return whether a class corner's box is 1 to MAX_BOX books, each barcode and loan uuid."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_BOX:
        return False
    return all(
        isinstance(i, Mapping)
        and _text_problem(i.get("barcode"), "id") is None
        and _text_problem(i.get("loan_uuid"), "id") is None
        for i in value
    )
