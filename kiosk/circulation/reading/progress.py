"""A child's own reading this term, for their own session screen: never ranked, never shown
to anyone else (the screen sends it only to the kiosk's own display, docs/reading.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.reading.lists import ON_SHELF, copies, grade_list
from kiosk.circulation.store import fetch
from kiosk.i18n import N_

# The shelf a child looks for, by the first letter of the call number (中图法 classes).
SHELVES = {
    "I": N_("Literature"),
    "J": N_("Art"),
    "K": N_("History and geography"),
    "H": N_("Languages"),
    "G": N_("Culture and sport"),
    "Z": N_("Reference"),
    **dict.fromkeys("NOPQRSTUVX", N_("Science")),
}
SUGGESTED = 2


def shelf(call_number: str) -> str:
    """Return the shelf's name (untranslated msgid) for a call number, or '' when unknown."""
    return SHELVES.get(call_number.strip()[:1].upper(), "")


def term_start(rules_term_start: dt.date | None, today: dt.date) -> str:
    """Return the first day of this term: the rules' term start, else 1 September or 1 March."""
    if rules_term_start is not None and rules_term_start <= today:
        return rules_term_start.isoformat()
    if today.month >= 9:
        return f"{today.year}-09-01"
    return f"{today.year}-03-01" if today.month >= 3 else f"{today.year - 1}-09-01"


def titles_read(titles: list[dict[str, Any]], loans: list[dict[str, Any]]) -> list[bool]:
    """Return for each list title whether one of the loans was a copy of it: of its ISBN, or
    of its title for a title without one (any copy counts)."""
    isbns = {r["isbn"] for r in loans if r["isbn"]}
    names = {r["title"] for r in loans}
    return [(r["isbn"] in isbns) if r["isbn"] else (r["title"] in names) for r in titles]


def progress(db: Database, patron_id: str, grade: int | None, since: str) -> dict[str, Any]:
    """Return a student's books this term, their grade list's progress and up to two of its
    titles they have not read with a copy on the shelf now."""
    loans = fetch(
        db,
        "SELECT i.isbn, i.title FROM loans l JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.patron_id = ? AND l.checked_out_at >= ?",
        [patron_id, since],
    )
    found = grade_list(db, grade) if grade is not None else None
    if found is None:
        return {"read": len(loans), "list": None, "suggest": []}
    rows = fetch(
        db,
        "SELECT t.title, t.isbn, "
        f"{copies('MIN(i.call_number)', ON_SHELF)} AS shelf_call "
        "FROM reading_list_titles t WHERE t.list_id = ? ORDER BY t.added_at, t.rowid",
        [found["id"]],
    )
    done = titles_read(rows, loans)
    suggest = [
        {"title": r["title"], "shelf": shelf(r["shelf_call"])}
        for r, read in zip(rows, done, strict=True)
        if not read and r["shelf_call"] is not None
    ][:SUGGESTED]
    return {
        "read": len(loans),
        "list": {"name": found["name"], "done": sum(done), "target": found["target"] or len(rows)},
        "suggest": suggest,
    }
