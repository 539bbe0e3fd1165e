"""Find a book: the one search of the kiosk's screen, the catalogue page and the dashboard.

A child types letters: pinyin initials (`lwm` finds 狼王梦), whole pinyin with or without
spaces (`langwang`), a few characters of the title (`王梦`), English words (`charlotte web`),
the author (`沈石溪`, `ssx`) or a series, which is part of the title (`查理九世`). Every word
typed must be found in the title or the author, in characters or in pinyin.

Each title and author is spelled once, when it is catalogued: its row of `title_search`
(migration m035, kept by triggers on `items`) holds the title and author in lower case, their
pinyin and their initials as one entry, the same with letters only, and the title's pinyin as
its place in a Chinese dictionary's order. pypinyin (and its 44 MB phrase dictionary) is loaded
only by `spell`, in the process that catalogued something new; a daemon whose catalogue is
spelled never loads it, and keeps no index in memory. A search is one SQL statement, `instr`
on each row's entry (a word typed may be anywhere in it); titles found at the start of a field
come first. Where each copy is now (on the shelf, on loan until a date, in a class corner) is
read for the page of results only. Who has a book is never read.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.circulation import dashboard
from kiosk.circulation.reading.lists import copy_of_each, grade_list
from kiosk.circulation.spelling import FIELD, entry
from kiosk.circulation.stats import catalogue, month
from kiosk.circulation.stats.rankings import top_books
from kiosk.circulation.stats.reading import subject_of
from kiosk.circulation.store import Store, StoreError
from kiosk.i18n import N_

log = logging.getLogger(__name__)
LIMIT = 20
ENTRY = "\n"
BATCH = 2_000  # titles spelled per write
SPELL_WAIT_S = 30.0  # how long a search waits for another's spelling (a whole catalogue: ~4 s)
Pair = tuple[str, str]  # a title and its author
UNSPELLED = "SELECT title, author FROM title_search WHERE spelled IS NULL LIMIT ?"
SPELL = (
    "UPDATE title_search SET sort_key = ?, spelled = ?, letters = ? WHERE title = ? AND author = ?"
)
# A title whose copies were all deleted, or renamed, keeps its row; it is never shown.
HAS_COPIES = "EXISTS (SELECT 1 FROM items i WHERE i.title = t.title AND i.author = t.author)"
COPIES_OF = (
    "SELECT title, author, barcode, call_number FROM items "
    "WHERE title IN (SELECT value FROM json_each(?))"
)
TITLE_OF = (
    "SELECT barcode, title, author FROM items WHERE barcode IN (SELECT value FROM json_each(?))"
)
# A title stands on the shelf of its lowest call number's 中图法 letter.
LOWEST_CALL = "SELECT title, author, min(call_number) AS call FROM items GROUP BY title, author"
SHELF = (
    f"SELECT t.title, t.author FROM title_search t JOIN ({LOWEST_CALL}) c "
    "USING (title, author) WHERE upper(substr(trim(c.call), 1, 1)) = ? "
    "AND t.spelled IS NOT NULL ORDER BY t.sort_key, t.title, t.author LIMIT ?"
)
SHELF_COUNTS = (
    f"SELECT upper(substr(trim(call), 1, 1)) AS letter, count(*) FROM ({LOWEST_CALL}) "
    "GROUP BY letter"
)
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


# -- each title's spelling, worked out once when it is catalogued ---------------------------


class SpellAhead:
    """Spell titles in a helper process while an import writes; `save_spelled` stores them.

    The helper (`python -m kiosk.circulation.spelling`, which loads only that module and
    pypinyin) uses the second core, so the pinyin of 50,000 titles costs the import little time
    of its own. It shares no connection and no output of this process: killed, this process
    leaves a helper that ends as soon as it finds its pipes closed.
    """

    def __init__(self, pairs: list[Pair]) -> None:
        root = str(Path(__file__).resolve().parents[3])  # the folder holding `kiosk`
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.circulation.spelling"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.batches: list[list[list[str]]] = []
        # Fed and read by threads, so neither pipe fills while the import writes.
        self._feeder = threading.Thread(target=self._feed, args=(pairs,), daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._feeder.start()
        self._reader.start()

    def _feed(self, pairs: list[Pair]) -> None:
        assert self.proc.stdin is not None
        try:
            for start in range(0, len(pairs), BATCH):
                line = json.dumps(pairs[start : start + BATCH], ensure_ascii=False) + "\n"
                self.proc.stdin.write(line.encode("utf-8"))
            self.proc.stdin.close()
        except OSError:  # the helper is gone: what it did not spell, `spell` does
            pass

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.batches.append(json.loads(line))

    def done(self) -> list[list[list[str]]]:
        """Wait for the helper; return the batches it spelled (each row as `SPELL` takes it)."""
        self._feeder.join()
        self._reader.join()
        self.proc.wait()
        return self.batches


def save_spelled(store: Store, ahead: SpellAhead) -> None:
    """Store spellings worked out ahead, for the titles still unspelled, a batch a write."""
    for values in ahead.done():
        with store.write() as db:
            db.conn.executemany(SPELL + " AND spelled IS NULL", values)


_spelling: dict[str, threading.Lock] = {}  # one speller per store file
_frozen = False


def spell(store: Store) -> int:
    """Work out the spelling of the titles catalogued since the last time; return how many.

    Triggers (m035) add a `title_search` row, unspelled, for every new title and author, whoever
    wrote the item (the desk, an import, the hub's feed, the sqlite3 shell). Only here is
    pypinyin loaded (and in m035, which spells a catalogue being upgraded), and only when there
    is something to spell: an import spells its titles in its own process, so a daemon whose
    catalogue is spelled never loads it. Batches of BATCH keep each write short (a scan waits
    for none). One caller at a time; another one waits for it (up to SPELL_WAIT_S) and then
    spells what is left, usually nothing: a search that went on at once found none of the
    titles being spelled, and the child was told there is no such book.
    """
    if store.reader.execute(UNSPELLED, [1]).fetchone() is None:
        return 0
    lock = _spelling.setdefault(str(store.path), threading.Lock())
    if not lock.acquire(timeout=SPELL_WAIT_S):
        return 0
    done = 0
    try:
        known: dict[str, tuple[str, str]] = {}  # an author of many titles is spelled once
        while rows := store.reader.execute(UNSPELLED, [BATCH]).fetchall():
            values = [(*entry(title, author, known), title, author) for title, author in rows]
            with store.write() as db:
                db.conn.executemany(SPELL, values)
            done += len(rows)
            if len(known) > BATCH * 4:
                known.clear()
    finally:
        lock.release()
    _freeze_pypinyin()
    return done


def _freeze_pypinyin() -> None:
    # pypinyin's dictionaries are 190,000 lists that live as long as the process: moved out of
    # the cycle collector's sight once, a full collection no longer walks them (it took 40 to
    # 250 ms, in the middle of a child's search, in a daemon that had spelled a new book).
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _spell_new(store: Store) -> None:
    """Spell what was catalogued a moment ago (at the desk, by the hub's feed) before a search,
    so a new book is found at once; a store too busy to take the write just searches."""
    try:
        spell(store)
    except (StoreError, sqlite3.Error):
        log.warning("new titles not spelled before a search", exc_info=True)


# -- searches ----------------------------------------------------------------------------------


def _matching(store: Store, words: list[str], limit: int) -> tuple[list[Pair], bool]:
    """Return the titles matching every word, field starts first, and whether more matched."""
    if not words:
        return [], False
    _spell_new(store)
    # Letters typed (pinyin, English) are looked for in the letters only: a fifth of the text.
    column = "letters" if all(w.isascii() for w in words) else "spelled"
    walk = (
        f"FROM title_search t INDEXED BY title_search_{column} WHERE sort_key IS NOT NULL "
        + "".join(f"AND instr({column}, ?) > 0 " for _ in words)
        + f"AND {HAS_COPIES} "
    )
    order = "ORDER BY sort_key, title, author"
    # First the titles where the first word starts a field (a title, its pinyin, its initials,
    # the author), then the others, each in a dictionary's order: one walk of the index in that
    # order, which stops as soon as a page of either is found (`l` matches most titles: none is
    # sorted, and at most one walk reads every title).
    start = FIELD + words[0]
    starts: list[Pair] = []
    others: list[Pair] = []
    rows = store.reader.execute(
        f"SELECT title, author, sort_key, instr({column}, ?) > 0 {walk} {order}", [start, *words]
    )
    after = None
    for title, author, key, first in rows:
        (starts if first else others).append((title, author))
        if len(starts) > limit:
            break
        if len(others) > limit:
            after = (key, title, author)
            break
    rows.close()
    if after is not None:
        # A page of others is found: only titles where the word starts a field may still come
        # before them, from here on.
        starts += store.reader.execute(
            f"SELECT title, author {walk} AND (sort_key, title, author) > (?, ?, ?) "
            f"AND instr({column}, ?) > 0 {order} LIMIT ?",
            [*words, *after, start, limit + 1 - len(starts)],
        ).fetchall()
    found = [(t, a) for t, a in starts + others]
    return found[:limit], len(found) > limit


def _titles(store: Store, pairs: list[Pair]) -> list[Title]:
    """Return the titles with their copies (every copy's barcode, the lowest call number)."""
    wanted = set(pairs)
    copies: dict[Pair, tuple[list[str], list[str]]] = {p: ([], []) for p in pairs}
    titles = json.dumps(sorted({t for t, _ in pairs}), ensure_ascii=False)
    for title, author, barcode, call_number in store.reader.execute(COPIES_OF, [titles]):
        if (title, author) in wanted:
            calls, barcodes = copies[(title, author)]
            calls.append(call_number or "")
            barcodes.append(barcode)
    return [
        Title(t, a, min(calls), sorted(barcodes))
        for (t, a), (calls, barcodes) in copies.items()
        if barcodes
    ]


def words_of(q: str) -> list[str]:
    """Return the words of what was typed, lower case (a search of nothing finds nothing)."""
    return [w for w in q.lower().replace(FIELD, " ").replace(ENTRY, " ").split() if w]


def find(store: Store, q: str, limit: int = LIMIT, tz: Any = None) -> Found:
    """Return the titles matching what was typed, each with where its copies are now."""
    pairs, more = _matching(store, words_of(q), limit)
    titles = _titles(store, pairs)
    _where(store, titles, tz)
    return Found([t for t in titles if t.barcodes], more)


BROWSE = ("new", "popular")
GRADE = "grade:"  # a grade's recommended reading list: `grade:3`


def browse(store: Store, what: str, tz: Any, limit: int = LIMIT) -> Found:
    """Return a shelf's titles (`I`), the new books (`new`), this month's most borrowed
    (`popular`) or a grade's recommended list (`grade:3`), each with where its copies are."""
    if what in SHELVES:
        _spell_new(store)
        pairs = [(r[0], r[1]) for r in store.reader.execute(SHELF, [what, limit + 1]).fetchall()]
    elif what in BROWSE:
        if what == "new":
            listed = dashboard.new_books(store, limit)
        else:
            today = dashboard.local_today(store, tz)
            listed = top_books(store, month(today.year, today.month), tz, limit)
        pairs = _unique((r["title"], r["author"] or "") for r in listed)
    elif grade := re.fullmatch(GRADE + "([0-9]{1,2})", what):
        # ASCII digits, two at most: `grade:²` or a grade of 30 digits finds nothing, no 500.
        pairs = _grade_titles(store, int(grade[1]))
    else:
        pairs = []
    titles = _titles(store, pairs[:limit])
    _where(store, titles, tz)
    return Found([t for t in titles if t.barcodes], len(pairs) > limit)


def _unique(pairs: Iterable[Pair]) -> list[Pair]:
    return list(dict.fromkeys(pairs))


def _grade_titles(store: Store, grade: int) -> list[Pair]:
    """Return the titles of a grade's list (the newest of that grade, as the reading strip's)."""
    found = grade_list(store.reader, grade)
    if found is None:
        return []
    barcodes = copy_of_each(store.reader, found["id"])
    rows = store.reader.execute(TITLE_OF, [json.dumps(barcodes, ensure_ascii=False)])
    title_of = {r[0]: (r[1], r[2]) for r in rows}
    return _unique(title_of[b] for b in barcodes if b in title_of)


def shelves(store: Store) -> list[tuple[str, int]]:
    """Return the shelves that hold books, each with how many titles, in the letters' order."""
    found: list[tuple[str, int]] = catalogue(store, "items", SHELF_COUNTS, make=_shelf_counts)
    return found


def _shelf_counts(rows: list[Any]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for letter, count in rows:
        # The 中图法 letter of the title's lowest call number (as subject_of reads it).
        shelf = subject_of(letter or "")
        if shelf:
            counts[shelf] = counts.get(shelf, 0) + count
    return sorted(counts.items())


def matching_barcodes(store: Store, q: str, limit: int = 10_000) -> set[str]:
    """Return the barcodes of every copy of the titles matching `q` (the dashboard's list)."""
    pairs, _ = _matching(store, words_of(q), limit)
    return {b for t in _titles(store, pairs) for b in t.barcodes}


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
