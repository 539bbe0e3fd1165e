"""Find patrons and items for the dashboard's lists: by part of a name, class, card, barcode or
title, or by pinyin initials (`wxm` finds 王小明, `xwz` 小王子), 50 a page with the total.

Pinyin initials come from pypinyin (a kept library with its own dictionary of readings); they
are worked out in Python once per distinct name and kept in memory, so a search reads the names
once (a few milliseconds for 10,000 patrons) and needs no extra column that every writer of
patrons (the hub's feed, an import, the sqlite3 shell) would have to keep in step.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from kiosk.circulation import cards
from kiosk.circulation.stats import find
from kiosk.circulation.store import Store

PER_PAGE = 50
INITIALS = re.compile(r"^[a-z]{2,}$")


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the total that matched and where this page is.

    A list too long to count cheaply (the event log) has no total; `more` says whether another
    page follows.
    """

    rows: list[dict[str, Any]]
    total: int | None
    page: int
    per_page: int = PER_PAGE
    more: bool = False

    @property
    def pages(self) -> int:
        """Return how many pages there are (at least one; as far as known without a total)."""
        if self.total is None:
            return self.page + 1 if self.more else self.page
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """Return the number of the first row shown (from 1), 0 when nothing is shown."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """Return the number of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def page_of(rows: list[dict[str, Any]], page: int, per_page: int | None = None) -> Page:
    """Return one page of a list already read (the page number kept within the list)."""
    per_page = per_page or PER_PAGE
    last = max(1, math.ceil(len(rows) / per_page))
    page = min(max(1, page), last)
    return Page(rows[(page - 1) * per_page : page * per_page], len(rows), page, per_page)


def page_ahead(rows: list[dict[str, Any]], page: int, per_page: int) -> Page:
    """Return a page read with one row more than it shows (that row says another page follows)."""
    return Page(rows[:per_page], None, page, per_page, more=len(rows) > per_page)


@functools.lru_cache(maxsize=100_000)
def initials(text: str) -> str:
    """Return the pinyin initials of a text, lower case: 王小明 -> wxm (other letters kept)."""
    from pypinyin import Style, lazy_pinyin  # loaded on the first search, not at start-up

    # Letters and digits are kept as they are, one character a part.
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(p[:1] for p in parts if p).lower()


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _clamp(page: int, total: int) -> int:
    return min(max(1, page), max(1, math.ceil(total / PER_PAGE)))


PATRON_COLUMNS = (
    "p.*, (SELECT count(*) FROM loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL) "
    "AS loans"
)
PATRON_ORDER = "ORDER BY p.class_name COLLATE school, p.name COLLATE pinyin, p.id"


def patrons(store: Store, q: str = "", page: int = 1) -> Page:
    """Return one page of patrons matching `q` (all of them when it is empty)."""
    q = q.strip()
    if not q:
        return _every(store, "patrons", page)
    like = _like(q)
    found = {
        r[0]
        for r in store.reader.execute(
            "SELECT id FROM patrons WHERE name LIKE ?1 ESCAPE '\\' OR id LIKE ?1 ESCAPE '\\' "
            "OR class_name LIKE ?1 ESCAPE '\\' UNION SELECT patron_id FROM cards "
            "WHERE code LIKE ?1 ESCAPE '\\' OR number LIKE ?1 ESCAPE '\\'",
            [like],
        )
    }
    card = cards.find(store.reader, q)  # a whole card code in any of its forms
    if card is not None:
        found.add(card[1])
    if INITIALS.match(q.lower()):
        key = q.lower()
        found |= {
            pid
            for pid, name in store.reader.execute("SELECT id, name FROM patrons")
            if key in initials(name)
        }
    return _page_of(store, "patrons", sorted(found), page)


ITEM_ORDER = "ORDER BY title, barcode"


def items(store: Store, q: str = "", page: int = 1) -> Page:
    """Return one page of items matching `q` by title, author, barcode, ISBN or call number."""
    q = q.strip()
    if not q:
        return _every(store, "items", page)
    # Titles and authors by pinyin, initials and words: the kiosk's search (stats/find.py).
    found = find.matching_barcodes(store, q)
    found |= {
        r[0]
        for r in store.reader.execute(
            "SELECT barcode FROM items WHERE title LIKE ?1 ESCAPE '\\' "
            "OR author LIKE ?1 ESCAPE '\\' OR barcode LIKE ?1 ESCAPE '\\' "
            "OR isbn LIKE ?1 ESCAPE '\\' OR call_number LIKE ?1 ESCAPE '\\' "
            "OR donor LIKE ?1 ESCAPE '\\'",
            [_like(q)],
        )
    }
    return _page_of(store, "items", sorted(found), page)


# Each list's rows, its key and its usual order: {kind: (select, key, order)}.
LISTS = {
    "patrons": (f"SELECT {PATRON_COLUMNS} FROM patrons p", "p.id", PATRON_ORDER),
    "items": ("SELECT * FROM items", "barcode", ITEM_ORDER),
}


def _every(store: Store, kind: str, page: int) -> Page:
    """Return one page of every patron or item, in the list's usual order."""
    select, _key, order = LISTS[kind]
    total = store.value(f"SELECT count(*) FROM {kind}")
    page = _clamp(page, total)
    rows = store.query(f"{select} {order} LIMIT ? OFFSET ?", [PER_PAGE, (page - 1) * PER_PAGE])
    return Page(rows, total, page)


def _page_of(store: Store, kind: str, keys: list[str], page: int) -> Page:
    """Return one page of the matched patrons or items, in the list's usual order."""
    page = _clamp(page, len(keys))
    if not keys:
        return Page([], 0, 1)
    # The matches go in as one JSON array, so SQLite sorts and pages them in one query.
    select, key, order = LISTS[kind]
    sql = f"{select} WHERE {key} IN (SELECT value FROM json_each(?)) {order} LIMIT ? OFFSET ?"
    rows = store.query(sql, [json.dumps(keys), PER_PAGE, (page - 1) * PER_PAGE])
    return Page(rows, len(keys), page)


PICKED = re.compile(r"\(([^()]+)\)\s*$")  # "王小明 三(2)班 (S001)": the number at the end
PICK_AT_ONCE = 20


def patron_label(row: dict[str, Any]) -> str:
    """Return how a patron is shown in a form's list of names: 王小明 三(2)班 (S001)."""
    return " ".join(x for x in (row["name"], row.get("class_name") or "", f"({row['id']})") if x)


def pick_patron(store: Store, text: str) -> list[dict[str, Any]]:
    """Return the patrons a form's name field means: one when it is clear, else the candidates.

    The field takes a name picked from the list (its number at the end), a number, a name or
    pinyin initials; a name two students share gives both, and the form asks which.
    """
    text = text.strip()
    if not text:
        return []
    for ident in ([m.group(1)] if (m := PICKED.search(text)) else []) + [text]:
        row = store.query(f"SELECT {PATRON_COLUMNS} FROM patrons p WHERE p.id = ?", [ident])
        if row:
            return row
    same = store.query(
        f"SELECT {PATRON_COLUMNS} FROM patrons p WHERE p.name = ? {PATRON_ORDER}", [text]
    )
    return same or patrons(store, text).rows[:PICK_AT_ONCE]
