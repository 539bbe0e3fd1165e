"""Stocktake (清查/盘点): count a location or a call-number range against the records.

A stocktake is started for a scope, scanned by helpers at one or several kiosks (each scan an
event, so scans from several kiosks merge at the hub), paused and resumed over days, finished.
The report classifies every barcode:

- `found`: scanned, in the scope, not on loan;
- `missing`: in the scope, expected on the shelf (not lost or withdrawn), not on loan, not scanned;
- `misplaced`: scanned, a known book that belongs outside the scope;
- `on_loan_found`: scanned while the records say it is on loan (one click returns it);
- `drifting`: scanned, a drifting book (图书漂流): it belongs to no shelf, so it is never
  expected and never missing;
- `unknown`: scanned, not in the catalogue.

Call-number ranges compare call numbers as text, and a range's end takes in every call number
that starts with it (`I287` to `I287` is the whole of I287); that is how a helper reads a shelf.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.collection import one
from kiosk.circulation.collection.commands import (
    CountForStocktake,
    SetStocktakeStatus,
    StartStocktake,
)
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.models import location_key
from kiosk.circulation.store import Store, fetch
from kiosk.i18n import N_

STATUSES = ("missing", "misplaced", "on_loan_found", "drifting", "unknown", "found")
STATUS_NAMES = {
    "found": N_("found"),
    "missing": N_("missing"),
    "misplaced": N_("misplaced"),
    "on_loan_found": N_("on loan but found"),
    "drifting": N_("drifting (belongs to no shelf)"),
    "unknown": N_("unknown barcode"),
    "open": N_("open"),
    "paused": N_("paused"),
    "finished": N_("finished"),
}
MESSAGES = {
    "stocktake_found": N_("Counted: {title}."),
    "stocktake_misplaced": N_("Counted: {title}. It belongs elsewhere: {location} {call_number}."),
    "stocktake_on_loan_found": N_("Counted: {title}. It was on loan: give it to the librarian."),
    "stocktake_drifting": N_("Counted: {title}. It is a drifting book: it belongs to no shelf."),
    "stocktake_unknown": N_("Counted, but this barcode is not in the catalogue: {code}."),
    "no_stocktake": N_("No stocktake is running."),
    "stocktake_running": N_("Another stocktake is running ({scope}): finish it first."),
    "empty_scope": N_("Say what to count: a location, or a call-number range."),
    "reversed_range": N_(
        "The range's start {call_from} comes after its end {call_to}: give the first call "
        "number first, like from {call_to} to {call_from}."
    ),
    "already_finished": N_("This stocktake is finished."),
    "not_paused": N_("This stocktake is not paused."),
    "already_paused": N_("This stocktake is already paused."),
}


@dataclass(frozen=True)
class Scope:
    """What a stocktake counts: a location, a call-number range, or both."""

    location: str = ""
    call_from: str = ""
    call_to: str = ""

    def __post_init__(self) -> None:
        # `图书馆` and `library` are one place: imports keep it as `library` (models.location_key).
        object.__setattr__(self, "location", location_key(self.location))

    @classmethod
    def of(cls, row: dict[str, Any]) -> Scope:
        """Return a stocktakes row's scope."""
        return cls(row["location"], row["call_from"], row["call_to"])

    def contains(self, location: str, call_number: str) -> bool:
        """Say whether a book with this location and call number belongs to the scope."""
        if self.location and location != self.location:
            return False
        if self.call_from and call_number < self.call_from:
            return False
        return (
            not self.call_to or call_number <= self.call_to or call_number.startswith(self.call_to)
        )

    def reversed(self) -> bool:
        """Say whether the range starts after it ends, so that no call number is in it."""
        start, end = self.call_from, self.call_to
        return bool(start and end) and start > end and not start.startswith(end)

    def label(self, place: Callable[[str], str] = str) -> str:
        """Return the scope as a librarian writes it: `图书馆 I200-I299` (a page names the stored
        location in the reader's words with `place`: library -> 图书馆)."""
        calls = f"{self.call_from}-{self.call_to}" if self.call_from or self.call_to else ""
        where = place(self.location) if self.location else ""
        return " ".join(p for p in (where, calls) if p)


# SQL of Scope.contains over items `i`, with :location, :call_from, :call_to bound.
SQL_IN_SCOPE = (
    "((:location = '' OR i.location = :location) "
    "AND (:call_from = '' OR i.call_number >= :call_from) "
    "AND (:call_to = '' OR i.call_number <= :call_to "
    "OR substr(i.call_number, 1, length(:call_to)) = :call_to))"
)


# -- decisions (pure) --------------------------------------------------------------------------


def decide_start(scope: Scope, unfinished: dict[str, Any] | None, new_id: str) -> Any:
    """Start a stocktake of `scope`; the same scope already unfinished is resumed instead."""
    if not scope.label():
        return Refusal("empty_scope")
    if scope.reversed():
        # Nothing could be in it: every book would count as missing or misplaced.
        return Refusal("reversed_range", {"call_from": scope.call_from, "call_to": scope.call_to})
    if unfinished is not None:
        if Scope.of(unfinished) != scope:
            return Refusal("stocktake_running", {"scope": Scope.of(unfinished).label()})
        if unfinished["status"] == "paused":
            return [Draft("stocktake_resumed", data={"stocktake": unfinished["id"]})]
        return []
    data = {
        "stocktake": new_id,
        "location": scope.location,
        "call_from": scope.call_from,
        "call_to": scope.call_to,
    }
    return [Draft("stocktake_started", data=data)]


def decide_scan(stocktake: dict[str, Any] | None, code: str) -> list[Draft] | Refusal:
    """Count one scanned code for the running stocktake."""
    if stocktake is None or stocktake["status"] != "open":
        return Refusal("no_stocktake")
    return [Draft("stocktake_scan", item_barcode=code, data={"stocktake": stocktake["id"]})]


def decide_status(stocktake: dict[str, Any] | None, to: str) -> list[Draft] | Refusal:
    """Pause, resume or finish a stocktake."""
    if stocktake is None:
        return Refusal("no_stocktake")
    if stocktake["status"] == "finished":
        return Refusal("already_finished")
    if to == "paused" and stocktake["status"] == "paused":
        return Refusal("already_paused")
    if to == "open" and stocktake["status"] != "paused":
        return Refusal("not_paused")
    kind = {"paused": "stocktake_paused", "open": "stocktake_resumed"}.get(to, "stocktake_finished")
    return [Draft(kind, data={"stocktake": stocktake["id"]})]


def classify(scope: Scope, item: dict[str, Any] | None, on_loan: bool) -> str:
    """Return the report status of one scanned barcode."""
    if item is None:
        return "unknown"
    if on_loan:
        return "on_loan_found"
    if item.get("drifting"):
        return "drifting"
    return "found" if scope.contains(item["location"], item["call_number"]) else "misplaced"


# -- commands ----------------------------------------------------------------------------------


def start(store: Store, scope: Scope, actor: str) -> Outcome:
    """Start (or resume) a stocktake of a scope on this store."""
    return handle(store, StartStocktake(scope), actor=actor)


def set_status(store: Store, to: str, actor: str, stocktake_id: str | None = None) -> Outcome:
    """Pause (`paused`), resume (`open`) or finish (`finished`) the stocktake."""
    return handle(store, SetStocktakeStatus(to, stocktake_id), actor=actor)


# The scanned book and whether it is on loan, in one statement (a scan's answer waits on it).
ITEM_AND_LOANED = (
    "SELECT i.*, EXISTS (SELECT 1 FROM loans l WHERE l.item_barcode = i.barcode "
    "AND l.returned_at IS NULL) AS loaned FROM items i WHERE i.barcode = ?"
)


@dataclass(frozen=True)
class Counted:
    """A stocktake scan's answer: how the book counted, what it is."""

    outcome: Outcome
    status: str = ""
    item: dict[str, Any] | None = None


def scan(store: Store, code: str, actor: str) -> Counted:
    """Count a scanned code for the running stocktake and say how it counts."""
    outcome = handle(store, CountForStocktake(code), actor=actor)
    if not outcome.ok:
        return Counted(outcome)
    status, item = outcome.state
    return Counted(outcome, status, item)


FILE_FIELD = re.compile(r"[\s,;]+")


def barcodes_of_file(text: str) -> list[str]:
    """Return the barcodes of a handheld scanner's file: the first field of each line.

    Koha's inventory reads the same kind of file: one barcode a line; a scanner that adds the
    time after a comma, a semicolon or a tab is read too. Empty lines are skipped.
    """
    found = []
    for line in text.splitlines():
        field = FILE_FIELD.split(line.strip().lstrip("\ufeff"), maxsplit=1)[0]
        if field:
            found.append(field)
    return found


def scan_file(store: Store, codes: list[str], actor: str) -> list[Outcome]:
    """Count a handheld scanner's barcodes for the running stocktake, in one transaction."""
    with store.write():
        return [handle(store, CountForStocktake(code), actor=actor) for code in codes]


# -- queries -----------------------------------------------------------------------------------


def get(db: Database, stocktake_id: str) -> dict[str, Any] | None:
    """Return a stocktake by id (a joined one answers as the one it joined)."""
    st = one(db, "SELECT * FROM stocktakes WHERE id = ?", [stocktake_id])
    if st and st["joined_to"]:
        return get(db, st["joined_to"])
    return st


def unfinished(db: Database) -> dict[str, Any] | None:
    """Return the open or paused stocktake of this store, the newest if there are several."""
    return one(
        db,
        "SELECT * FROM stocktakes WHERE status != 'finished' AND joined_to IS NULL "
        "ORDER BY started_at DESC LIMIT 1",
    )


def running(db: Database) -> dict[str, Any] | None:
    """Return the open (not paused) stocktake, which puts the kiosk in stocktake mode."""
    st = unfinished(db)
    return st if st and st["status"] == "open" else None


def book(db: Database, code: str) -> tuple[dict[str, Any] | None, bool]:
    """Return a scanned code's book (None if unknown) and whether the records have it on loan."""
    found = one(db, ITEM_AND_LOANED, [code])
    return found, bool(found.pop("loaned")) if found else False


def latest(db: Database) -> dict[str, Any] | None:
    """Return the unfinished stocktake, else the one finished last."""
    return unfinished(db) or one(
        db,
        "SELECT * FROM stocktakes WHERE joined_to IS NULL ORDER BY finished_at DESC LIMIT 1",
    )


def all_stocktakes(db: Database) -> list[dict[str, Any]]:
    """Return every stocktake, newest first, with its count of scanned barcodes."""
    return fetch(
        db,
        "SELECT s.*, (SELECT count(*) FROM stocktake_scans WHERE stocktake_id = s.id) AS scanned "
        "FROM stocktakes s WHERE joined_to IS NULL ORDER BY started_at DESC",
    )


REPORT_SQL = f"""
WITH scans AS (SELECT barcode, first_at, kiosk_id FROM stocktake_scans WHERE stocktake_id = :id)
SELECT s.barcode,
       CASE WHEN i.barcode IS NULL THEN 'unknown'
            WHEN l.id IS NOT NULL THEN 'on_loan_found'
            WHEN i.drifting THEN 'drifting'
            WHEN {SQL_IN_SCOPE} THEN 'found'
            ELSE 'misplaced' END AS status,
       i.title, i.call_number, i.location, i.status AS item_status,
       s.first_at AS scanned_at, s.kiosk_id, l.patron_id
FROM scans s
LEFT JOIN items i ON i.barcode = s.barcode
LEFT JOIN loans l ON l.item_barcode = s.barcode AND l.returned_at IS NULL
UNION ALL
SELECT i.barcode, 'missing', i.title, i.call_number, i.location, i.status, NULL, NULL, NULL
FROM items i
WHERE {SQL_IN_SCOPE} AND i.status NOT IN ('lost', 'withdrawn') AND NOT i.drifting
  AND NOT EXISTS (SELECT 1 FROM stocktake_scans x WHERE x.stocktake_id = :id
                  AND x.barcode = i.barcode)
  AND NOT EXISTS (SELECT 1 FROM loans o WHERE o.item_barcode = i.barcode
                  AND o.returned_at IS NULL)
"""


# The report's spreadsheet, the same from the dashboard and `kiosk stocktake report`: its
# columns, and the names its coded columns are shown through (csvout.Words).
REPORT_COLUMNS = (
    "barcode",
    "status",
    "title",
    "call_number",
    "location",
    "item_status",
    "scanned_at",
    "kiosk_id",
    "patron_id",
)
REPORT_WORDS: dict[str, dict[str, str] | None] = {"status": STATUS_NAMES, "item_status": None}


def _params(stocktake: dict[str, Any]) -> dict[str, Any]:
    keys = ("location", "call_from", "call_to")
    return {"id": stocktake["id"], **{k: stocktake[k] for k in keys}}


def report(db: Database, stocktake: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one row per barcode with its status: problems first, then by call number."""
    found = fetch(db, REPORT_SQL, _params(stocktake))
    order = {s: n for n, s in enumerate(STATUSES)}
    found.sort(key=lambda r: (order[r["status"]], r["call_number"] or "", r["barcode"]))
    return found


def counts(db: Database, stocktake: dict[str, Any]) -> dict[str, int]:
    """Count the report's barcodes by status without building its rows (for overviews)."""
    found = dict(
        db.execute(
            f"SELECT status, count(*) FROM ({REPORT_SQL}) GROUP BY status", _params(stocktake)
        ).fetchall()
    )
    return {s: found.get(s, 0) for s in STATUSES}


def summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Count a report's rows by status, every status present."""
    counts = dict.fromkeys(STATUSES, 0)
    for r in rows:
        counts[r["status"]] += 1
    return counts
