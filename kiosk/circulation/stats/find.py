"""Find a book: the one search of the kiosk's screen, the catalogue page and the dashboard.

A child types letters: pinyin initials (`lwm` finds 狼王梦), whole pinyin with or without
spaces (`langwang`), a few characters of the title (`王梦`), English words (`charlotte web`),
the author (`沈石溪`, `ssx`) or a series, which is part of the title (`查理九世`). Every word
typed must be found in the title or the author, in characters or in pinyin.

The index is the dashboard search's way (stats/search.py) grown to titles: one entry per title
and author, holding the title and author in lower case, their pinyin and their initials, worked
out by pypinyin once per distinct text and kept in memory until the catalogue changes (the
`catalogue_version` triggers count every change to a title, author or call number). All entries
are one string, so a search is `str.find` at C speed over 50,000 titles rather than a Python
loop; titles found at the start of a field come first. Where each copy is now (on the shelf,
on loan until a date, in a class corner) is read from SQLite for the page of results only.
Who has a book is never read.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import gc
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kiosk.circulation import dashboard
from kiosk.circulation.reading.lists import copy_of_each, grade_list
from kiosk.circulation.stats import catalogue, month
from kiosk.circulation.stats.rankings import top_books
from kiosk.circulation.stats.reading import subject_of
from kiosk.circulation.store import Store
from kiosk.i18n import N_

log = logging.getLogger(__name__)
T = TypeVar("T")
LIMIT = 20
KEPT = 300_000  # titles and authors whose pinyin is kept (more than any school has)
NUMBER = re.compile(r"\d+")
FIELD, ENTRY = "\x01", "\n"
TITLES = "SELECT title, author, call_number, barcode FROM items"
# Where each copy of the titles shown is now; never who has it.
COPIES = (
    "SELECT i.barcode, i.call_number, i.status, l.due_at, c.class_name AS corner, i.cover, "
    "i.drifting, "
    "EXISTS (SELECT 1 FROM holds h WHERE h.item_barcode = i.barcode AND h.status = 'ready') "
    "AS kept FROM items i "
    "LEFT JOIN loans l ON l.item_barcode = i.barcode AND l.returned_at IS NULL "
    "LEFT JOIN corner_loans c ON c.loan_uuid = l.uuid "
    "WHERE i.barcode IN (SELECT value FROM json_each(?)) ORDER BY i.barcode"
)
GONE = ("lost", "damaged", "withdrawn")
# The shelves of the 中图法 classes in a child's words (the reports name them formally).
SHELVES = {
    "A": N_("Marx, Lenin, Mao"),
    "B": N_("philosophy"),
    "C": N_("society"),
    "D": N_("politics and law"),
    "E": N_("the army"),
    "F": N_("money and work"),
    "G": N_("culture, school and sports"),
    "H": N_("languages"),
    "I": N_("stories and poems"),
    "J": N_("art"),
    "K": N_("history and geography"),
    "N": N_("science"),
    "O": N_("maths, physics, chemistry"),
    "P": N_("stars and the Earth"),
    "Q": N_("living things"),
    "R": N_("health"),
    "S": N_("farming"),
    "T": N_("machines and technology"),
    "U": N_("transport"),
    "V": N_("flight and space"),
    "X": N_("environment"),
    "Z": N_("encyclopedias"),
}


@dataclass
class Title:
    """One title found, with where its copies are now."""

    title: str
    author: str
    call_number: str
    barcodes: list[str]
    on_shelf: int = 0
    on_loan: int = 0
    back_by: str | None = None  # the earliest due date of a copy on loan (local date)
    corners: list[str] = field(default_factory=list)  # classes whose corner holds a copy
    kept: int = 0  # returned, waiting on the hold shelf for someone
    drifting: int = 0  # drifting books (图书漂流): on no shelf, passed from child to child
    cover: str | None = None  # the file of a copy's cover photo (circulation/covers.py)

    @property
    def subject(self) -> str:
        """Return the 中图法 letter of the title's call number ('' when it has none)."""
        return subject_of(self.call_number)

    @property
    def key(self) -> str:
        """Return the title's key for a hold: the first barcode of its copies."""
        return self.barcodes[0]


@dataclass(frozen=True)
class Found:
    """A page of titles and whether more matched than are shown."""

    titles: list[Title]
    more: bool


class Index:
    """Every title of the catalogue as one searchable string (see the module's docs)."""

    def __init__(self, rows: Iterable[tuple[Any, ...]]) -> None:
        # Copies grouped by title and author in Python: faster than SQLite's GROUP BY's sort.
        copies: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
        for title, author, call_number, barcode in rows:
            calls, barcodes = copies.setdefault((title, author), ([], []))
            calls.append(call_number or "")
            barcodes.append(barcode)
        entries = [
            (_entry(title, author), (title, author, min(calls), tuple(sorted(barcodes))))
            for (title, author), (calls, barcodes) in copies.items()
        ]
        # In the order of a Chinese dictionary: by the title's pinyin.
        entries.sort(key=lambda e: (e[0][0], e[1][0], e[1][1]))
        # Rows of strings only (tuples, no lists): Python's cycle collector leaves them alone
        # once it has seen them, so 50,000 titles cost a search nothing in collections.
        self.rows: list[tuple[str, str, str, tuple[str, ...]]] = [e[1] for e in entries]
        self.by_title = {(r[0], r[1]): n for n, r in enumerate(self.rows)}
        self._shelves: dict[str, list[int]] | None = None
        self._by_barcode: dict[str, int] | None = None
        # Letters typed (pinyin, English) are looked for in the letters only: a string of one
        # byte a character, a fifth of the whole, which str.find runs through much faster.
        self.text = _Haystack([e[0][1] for e in entries])
        self.letters = _Haystack([e[0][2] for e in entries])

    def search(self, words: list[str], limit: int) -> tuple[list[int], bool]:
        """Return the rows matching every word, field starts first, and whether more matched."""
        if not words:
            return [], False
        hay = self.letters if all(w.isascii() for w in words) else self.text
        # First the titles where the first word starts a field (a title, its pinyin, its
        # initials, the author), then those where the longest word is anywhere.
        found: list[int] = []
        seen: set[int] = set()
        for needle in (FIELD + words[0], max(words, key=len)):
            for row, entry in hay.entries_with(needle):
                if row not in seen and all(w in entry for w in words):
                    seen.add(row)
                    found.append(row)
                    if len(found) > limit:
                        return found[:limit], True
        return found, False

    def shelves(self) -> dict[str, list[int]]:
        """Return the rows on each 中图法 shelf, in the index's order (worked out once)."""
        if self._shelves is None:
            shelves: dict[str, list[int]] = {}
            for n, row in enumerate(self.rows):
                letter = subject_of(row[2])
                if letter:
                    shelves.setdefault(letter, []).append(n)
            self._shelves = shelves
        return self._shelves

    def row_of(self, barcode: str) -> int | None:
        """Return the row of a copy's title (the map worked out once)."""
        if self._by_barcode is None:
            self._by_barcode = {b: n for n, row in enumerate(self.rows) for b in row[3]}
        return self._by_barcode.get(barcode)


class _Haystack:
    """Entries joined in one string, and where each starts."""

    def __init__(self, entries: list[str]) -> None:
        self.starts: list[int] = []
        at = 0
        for entry in entries:
            self.starts.append(at)
            at += len(entry) + 1
        self.text = ENTRY.join(entries)

    def entries_with(self, needle: str) -> Iterator[tuple[int, str]]:
        """Yield each entry holding `needle` once, with its number, in order."""
        text = self.text
        at = text.find(needle)
        while at >= 0:
            row = bisect.bisect_right(self.starts, at) - 1
            end = text.find(ENTRY, at)
            yield row, text[self.starts[row] : end if end >= 0 else len(text)]
            # Go on after this entry: one entry is one title, whatever matched in it.
            at = text.find(needle, end) if end >= 0 else -1


def kept(work: Callable[..., T]) -> Callable[..., T]:
    """Keep what `work` returns per arguments, up to KEPT of them (then start again).

    Not functools.lru_cache: its bookkeeping is a list per entry, which Python's cycle
    collector walks at every full collection (a search waited 250 ms for one); this is a plain
    dict of strings, which the collector leaves alone.
    """
    memory: dict[Any, T] = {}

    @functools.wraps(work)
    def remembered(*args: Any) -> T:
        found = memory.get(args)
        if found is None:
            if len(memory) >= KEPT:
                memory.clear()
            found = memory[args] = work(*args)
        return found

    return remembered


@kept
def spelled(text: str) -> tuple[str, str]:
    """Return a text's whole pinyin and its initials, lower case: 狼王梦 -> langwangmeng, lwm.

    One pypinyin call gives both (its phrase dictionary picks the reading of 长 in 长大 and
    长城); letters and digits are kept as they are, without spaces.
    """
    from pypinyin import lazy_pinyin  # loaded on the first search, not at start-up

    parts = [p for p in lazy_pinyin(text, errors="default") if p.strip()]
    whole = "".join("".join(p.split()) for p in parts).lower()
    firsts = "".join(p.strip()[:1] if _is_hanzi_part(p) else "".join(p.split()) for p in parts)
    return whole, firsts.lower()


def _is_hanzi_part(part: str) -> bool:
    # pypinyin gives each character's syllable alone, and other text in runs (with spaces).
    return part.isascii() and part.isalpha() and part.islower()


@kept
def _entry(title: str, author: str) -> tuple[str, str, str]:
    """Return a title's sort key (its pinyin), its entry and its entry of letters only.

    Kept per title, so that the index is built again in a fraction of a second after a book
    is added: only the new title's pinyin is worked out.
    """
    fields = _fields(title, author)
    # Numbers in their order (a series' volume 2 before volume 10).
    key = NUMBER.sub(lambda m: m.group().zfill(8), fields[1]) if fields else ""
    return (
        key,
        FIELD + FIELD.join(fields),
        FIELD + FIELD.join(_letters(fields)),
    )


def _letters(fields: list[str]) -> list[str]:
    """Return the fields with their letters only (pinyin, English words), empty ones left out."""
    kept = (" ".join("".join(c if c.isascii() else " " for c in f).split()) for f in fields)
    return [f for f in kept if f]


def _fields(title: str, author: str) -> list[str]:
    """Return the searchable fields of a title: text, pinyin and initials of title and author."""
    fields = []
    for text in (title, author):
        clean = " ".join(text.replace(FIELD, " ").split())
        if not clean:
            continue
        whole, initials = spelled(clean)
        fields += [clean.lower(), whole, initials]
    return fields


_building = threading.Lock()
_last: dict[str, Index] = {}
_frozen = False


def index(store: Store) -> Index:
    """Return the catalogue's index, built again only after a title or author changed.

    One thread builds; a search meanwhile gets the index built last (a moment behind the
    catalogue) rather than waiting, or waits when there is none yet.
    """
    key = str(store.path)
    if not _building.acquire(blocking=key not in _last):
        return _last[key]
    try:
        built: Index = catalogue(store, "items", TITLES, by_key=False, make=_build)
        _last[key] = built
        return built
    finally:
        _building.release()


def _build(rows: list[Any]) -> Index:
    # Python's cycle collector would walk the whole heap again and again while 50,000 entries
    # are made (half the time of a build); none of them holds a cycle, so it waits until done.
    global _frozen
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Index(rows)
    finally:
        if not _frozen:
            # pypinyin's dictionaries are 190,000 lists that live as long as the process: moved
            # out of the collector's sight once, a full collection no longer walks them (it
            # took 40 to 250 ms, in the middle of a child's search).
            _frozen = True
            gc.collect()
            gc.freeze()
        if enabled:
            gc.enable()


def keep_warm(store: Store, every_s: float = 5.0) -> None:
    """Build the index now, and again soon after each change of the catalogue, until the store
    closes: the daemon runs this in a thread, so no child's search waits for a build."""
    while True:
        try:
            index(store)
        except Exception:  # the store closed (the daemon stops): the thread's work is done
            log.debug("the search index is no longer kept built", exc_info=True)
            return
        time.sleep(every_s)


def words_of(q: str) -> list[str]:
    """Return the words of what was typed, lower case (a search of nothing finds nothing)."""
    return [w for w in q.lower().replace(FIELD, " ").replace(ENTRY, " ").split() if w]


def find(store: Store, q: str, limit: int = LIMIT, tz: Any = None) -> Found:
    """Return the titles matching what was typed, each with where its copies are now."""
    idx = index(store)
    rows, more = idx.search(words_of(q), limit)
    titles = [_title(idx.rows[r]) for r in rows]
    _where(store, titles, tz)
    return Found([t for t in titles if t.barcodes], more)


BROWSE = ("new", "popular")
GRADE = "grade:"  # a grade's recommended reading list: `grade:3`


def browse(store: Store, what: str, tz: Any, limit: int = LIMIT) -> Found:
    """Return a shelf's titles (`I`), the new books (`new`), this month's most borrowed
    (`popular`) or a grade's recommended list (`grade:3`), each with where its copies are."""
    idx = index(store)
    if what in SHELVES:
        rows = idx.shelves().get(what, [])
    elif what in BROWSE:
        if what == "new":
            listed = dashboard.new_books(store, limit)
        else:
            today = dashboard.local_today(store, tz)
            listed = top_books(store, month(today.year, today.month), tz, limit)
        found = (idx.by_title.get((r["title"], r["author"] or "")) for r in listed)
        rows = [n for n in found if n is not None]
    elif what.startswith(GRADE) and what[len(GRADE) :].isdigit():
        rows = _grade_rows(store, idx, int(what[len(GRADE) :]))
    else:
        rows = []
    titles = [_title(idx.rows[r]) for r in rows[:limit]]
    _where(store, titles, tz)
    return Found([t for t in titles if t.barcodes], len(rows) > limit)


def _grade_rows(store: Store, idx: Index, grade: int) -> list[int]:
    """Return the rows of a grade's list (the newest of that grade, as the reading strip's)."""
    found = grade_list(store.reader, grade)
    if found is None:
        return []
    rows: list[int] = []
    for barcode in copy_of_each(store.reader, found["id"]):
        row = idx.row_of(barcode)
        if row is not None and row not in rows:
            rows.append(row)
    return rows


def shelves(store: Store) -> list[tuple[str, int]]:
    """Return the shelves that hold books, each with how many titles, in the letters' order."""
    return sorted((letter, len(rows)) for letter, rows in index(store).shelves().items())


def _title(row: tuple[str, str, str, tuple[str, ...]]) -> Title:
    title, author, call_number, barcodes = row
    return Title(title, author, call_number, list(barcodes))


def matching_barcodes(store: Store, q: str, limit: int = 10_000) -> set[str]:
    """Return the barcodes of every copy of the titles matching `q` (the dashboard's list)."""
    idx = index(store)
    rows, _ = idx.search(words_of(q), limit)
    return {b for r in rows for b in idx.rows[r][3]}


def _where(store: Store, titles: list[Title], tz: Any) -> None:
    """Count each title's copies on the shelf, on loan, in class corners and drifting."""
    by_barcode = {b: t for t in titles for b in t.barcodes}
    copies = store.reader.execute(COPIES, [json.dumps(list(by_barcode))]).fetchall()
    shown: dict[int, list[str]] = {}
    for barcode, _call, status, due_at, corner, cover, drifting, kept in copies:
        t = by_barcode[barcode]
        # A cover photographed of any copy is the title's; the first barcode's wins.
        if cover and t.cover is None:
            t.cover = cover
        if status in GONE:
            shown.setdefault(id(t), [])
            continue
        shown.setdefault(id(t), []).append(barcode)
        if drifting:
            t.drifting += 1  # a child may have it, or nobody: never on a shelf to look for
        elif due_at is not None and corner:
            if corner not in t.corners:
                t.corners.append(corner)
        elif due_at is not None:
            t.on_loan += 1
            day = _local_day(due_at, tz)
            t.back_by = min(t.back_by, day) if t.back_by else day
        elif kept:
            t.kept += 1
        else:
            t.on_shelf += 1
    for t in titles:
        # Lost, damaged and withdrawn copies are not counted; a title with only those is left out.
        t.barcodes = sorted(shown.get(id(t), []))
        t.corners.sort()


def _local_day(when: str, tz: Any) -> str:
    moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return (moment.astimezone(tz) if tz is not None else moment).date().isoformat()
