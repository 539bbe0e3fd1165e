"""Recommended reading lists (导读书目): per grade and term, or ad hoc, with a target count.

A list's titles are books of the catalogue, found by a copy's barcode, an ISBN or the title as
written; a title is its ISBN when it has one (every copy of that edition counts), else its title.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import one
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.reading.commands import AddListTitle, RemoveListTitle, SaveList
from kiosk.circulation.schemas import TARGETS
from kiosk.circulation.store import Store, fetch
from kiosk.codes import isbn10_ok, isbn10_to_13
from kiosk.i18n import N_

MAX_TARGET = TARGETS[1]
MESSAGES = {
    "no_name": N_("Give the list a name."),
    "bad_grade": N_("Grade {grade} is not a grade of this school."),
    "bad_target": N_("The target is a number of books from 0 to {most}."),
    "unknown_list": N_("There is no such list."),
    "not_found": N_("No book in the catalogue has the barcode, ISBN or title {code}."),
    "already_listed": N_("{title} is on this list already."),
    "not_listed": N_("That title is not on this list."),
}


@dataclass(frozen=True)
class ListForm:
    """What the librarian typed for a list: its name, grade (None: ad hoc), term and target."""

    name: str
    grade: int | None
    term: str
    target: int


def decide_save(list_id: str, form: ListForm, last_grade: int) -> list[Draft] | Refusal:
    """Save a list's name, grade, term and target (a new list or an edit)."""
    if not form.name.strip():
        return Refusal("no_name")
    if form.grade is not None and not 1 <= form.grade <= last_grade:
        return Refusal("bad_grade", {"grade": form.grade})
    if not 0 <= form.target <= MAX_TARGET:
        return Refusal("bad_target", {"most": MAX_TARGET})
    data = {
        "list": list_id,
        "name": form.name.strip(),
        "grade": form.grade,
        "term": form.term.strip(),
        "target": form.target,
    }
    return [Draft("reading_list_saved", data=data)]


def decide_add(
    list_row: dict[str, Any] | None, book: dict[str, Any] | None, listed: bool, code: str
) -> list[Draft] | Refusal:
    """Add a catalogue title to a list, once."""
    if list_row is None:
        return Refusal("unknown_list")
    if book is None:
        return Refusal("not_found", {"code": code})
    if listed:
        return Refusal("already_listed", {"title": book["title"]})
    data = {
        "list": list_row["id"],
        "key": title_key(book),
        "title": book["title"],
        "author": book["author"],
        "isbn": book["isbn"],
    }
    return [Draft("reading_list_title_added", data=data)]


def decide_remove(list_row: dict[str, Any] | None, key: str, listed: bool) -> list[Draft] | Refusal:
    """Take a title off a list."""
    if list_row is None:
        return Refusal("unknown_list")
    if not listed:
        return Refusal("not_listed")
    return [Draft("reading_list_title_removed", data={"list": list_row["id"], "key": key})]


def title_key(book: dict[str, Any]) -> str:
    """Return what makes a title one title: its ISBN, or its title when it has none."""
    return str(book["isbn"] or book["title"])


def save_list(
    store: Store, form: ListForm, last_grade: int, actor: str, list_id: str = ""
) -> Outcome:
    """Create a list (no id) or change one."""
    return handle(store, SaveList(form, last_grade, list_id), actor=actor)


def add_title(store: Store, list_id: str, code: str, actor: str) -> Outcome:
    """Add the title of a copy's barcode, an ISBN or an exact title to a list."""
    return handle(store, AddListTitle(list_id, code.strip()), actor=actor)


def remove_title(store: Store, list_id: str, key: str, actor: str) -> Outcome:
    """Take a title off a list."""
    return handle(store, RemoveListTitle(list_id, key), actor=actor)


# Named queries.

BOOK = "SELECT title, author, isbn FROM items WHERE status != 'withdrawn' AND "


def find_book(db: Database, code: str) -> dict[str, Any] | None:
    """Return the title, author and ISBN of a copy's barcode, an ISBN or an exact title."""
    return find_by(db, "barcode", code) or find_by(db, "isbn", code) or find_by(db, "title", code)


def find_first(db: Database, ways: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    """Return the book the first of these ways (barcode, isbn or title, and a value) finds."""
    return next(filter(None, (find_by(db, how, value) for how, value in ways)), None)


def find_by(db: Database, how: str, code: str) -> dict[str, Any] | None:
    """Return the title, author and ISBN of a book found one way: barcode, isbn or title."""
    if how == "barcode":
        return one(db, BOOK + "barcode = ?", [code])
    if how == "isbn":
        isbn = code.replace("-", "").replace(" ", "").upper()
        if len(isbn) == 10 and isbn10_ok(isbn):
            isbn = isbn10_to_13(isbn)
        return one(db, BOOK + "isbn = ? AND isbn != '' LIMIT 1", [isbn])
    return one(db, BOOK + "title = ? ORDER BY isbn != '' DESC LIMIT 1", [code])


def search(db: Database, words: str, limit: int = 20) -> list[dict[str, Any]]:
    """Return catalogue titles whose title or author holds the words, one row per title."""
    like = "%" + words.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return fetch(
        db,
        "SELECT title, author, isbn, CASE WHEN isbn != '' THEN isbn ELSE title END AS key, "
        "COUNT(*) AS copies, MIN(barcode) AS barcode FROM items "
        "WHERE status != 'withdrawn' AND (title LIKE ? ESCAPE '\\' OR author LIKE ? ESCAPE '\\') "
        "GROUP BY key ORDER BY title LIMIT ?",
        [like, like, limit],
    )


def get_list(db: Database, list_id: str) -> dict[str, Any] | None:
    """Return one list's row."""
    return one(db, "SELECT * FROM reading_lists WHERE id = ?", [list_id])


def is_listed(db: Database, list_id: str, key: str) -> bool:
    """Return whether a title is on a list."""
    return (
        one(
            db,
            "SELECT 1 FROM reading_list_titles WHERE list_id = ? AND title_key = ?",
            [list_id, key],
        )
        is not None
    )


def all_lists(db: Database) -> list[dict[str, Any]]:
    """Return every list with its number of titles: grade lists by grade, then the others."""
    return fetch(
        db,
        "SELECT l.*, (SELECT COUNT(*) FROM reading_list_titles t WHERE t.list_id = l.id) "
        "AS titles FROM reading_lists l ORDER BY l.grade IS NULL, l.grade, l.saved_at DESC",
    )


# A drifting book (图书漂流) belongs to no shelf, even while nobody has it; a copy returned for a
# hold waits on the hold shelf for that student, not on the shelf for anyone (as in find.py).
ON_SHELF = (
    "AND i.status = 'available' AND i.drifting = 0 AND NOT EXISTS (SELECT 1 FROM holds h "
    "WHERE h.item_barcode = i.barcode AND h.status = 'ready')"
)


def copies(aggregate: str, only: str = "") -> str:
    """Return SQL for an aggregate over a list title `t`'s copies (not withdrawn): the items of
    its ISBN, or of its title for a title without one. Two lookups, each by an index (an OR of
    the two would scan every item for every title)."""
    rows = f"SELECT {aggregate} FROM items i WHERE i.status != 'withdrawn' {only} AND "
    by_isbn = rows + "t.isbn != '' AND i.isbn = t.isbn"
    by_title = rows + "t.isbn = '' AND i.title = t.title"
    if aggregate.startswith("COUNT"):
        return f"(({by_isbn}) + ({by_title}))"
    return f"COALESCE(({by_isbn}), ({by_title}))"


def titles(db: Database, list_id: str) -> list[dict[str, Any]]:
    """Return a list's titles in the order added, with their copies and how many are on the
    shelf now, and a call number to find them by."""
    return fetch(
        db,
        "SELECT t.title_key AS key, t.title, t.author, t.isbn, "
        f"{copies('COUNT(*)')} AS copies, "
        f"{copies('COUNT(*)', ON_SHELF)} AS on_shelf, "
        f"COALESCE({copies('MAX(i.call_number)')}, '') AS call_number "
        "FROM reading_list_titles t WHERE t.list_id = ? ORDER BY t.added_at, t.rowid",
        [list_id],
    )


def grade_list(db: Database, grade: int) -> dict[str, Any] | None:
    """Return a grade's list for now: the one of that grade saved last."""
    return one(
        db,
        "SELECT * FROM reading_lists WHERE grade = ? ORDER BY saved_at DESC LIMIT 1",
        [grade],
    )


def grades_with_lists(db: Database) -> list[int]:
    """Return the grades that have a list, in order."""
    rows = fetch(
        db, "SELECT DISTINCT grade FROM reading_lists WHERE grade IS NOT NULL ORDER BY grade"
    )
    return [int(r["grade"]) for r in rows]


def copy_of_each(db: Database, list_id: str) -> list[str]:
    """Return a copy's barcode for each of a list's titles the catalogue holds, in list order."""
    rows = fetch(
        db,
        f"SELECT {copies('MIN(i.barcode)')} AS barcode FROM reading_list_titles t "
        "WHERE t.list_id = ? ORDER BY t.added_at, t.rowid",
        [list_id],
    )
    return [r["barcode"] for r in rows if r["barcode"] is not None]
