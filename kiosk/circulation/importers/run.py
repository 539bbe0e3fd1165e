"""Run an import beside lending: check the whole file first, then write it in short transactions.

The first pass streams the file through the shared checks on a read connection (no write lock)
and spools the clean rows to a temporary file; the file is never held in memory. Only when no row
has an error (or when the librarian chose to import the good rows: `keep_going`) does the second
pass write, a batch at a time: each batch is one short transaction
(a few tens of milliseconds) and the importer pauses between batches, so a scan waiting for the
write lock (in this process or, through SQLite's busy wait, in the daemon beside a command-line
import) gets it within one batch. Before each batch the rows it will change are saved; if a later
batch fails (a full disk, the store locked for too long), those saves are put back, so an import
still changes all or nothing. A power cut in the middle leaves the batches written so far; running
the import again finishes it (rows are keyed by barcode or patron id).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlite_utils import Database

from kiosk.circulation.catalogue import RECORD_FIELDS, put_record
from kiosk.circulation.importers.checks import (
    PROGRESS_EVERY,
    Checker,
    ImportReport,
    Progress,
)
from kiosk.circulation.records import ITEM_FIELDS, PATRON_FIELDS, put_item, put_patron, save
from kiosk.circulation.store import Store, fetch

BATCH_SECONDS = 0.015  # longest a batch writes while it holds the write lock (then COMMIT)
# Longer than SQLite's busy-wait steps in the first 100 ms of a wait (1 to 25 ms), so a scan
# waiting in another process gets in; varied, so its retries cannot keep falling into batches.
PAUSE_SECONDS = (0.025, 0.045)
Rows = Iterable[tuple[int, dict[str, str]]]
TABLES = {
    "patrons": ("patrons", "id"),
    "items": ("items", "barcode"),
    "records": ("marc_records", "isbn"),
}


def run(
    store: Store,
    report: ImportReport,
    rows: Rows,
    *,
    actor: str,
    progress: Progress | None = None,
    event_data: dict[str, Any] | None = None,
    own_process: bool = False,
    keep_going: bool = False,
) -> ImportReport:
    """Check every row, then (unless there were errors or it is a dry run) write them all.

    `own_process`: the store is this import's alone (the command line, the dashboard's worker),
    not the daemon's, whose scans must commit durably. `keep_going`: the librarian chose to
    import the good rows of a file with bad ones (each record's rows all, or none of them).
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        checked = _check(store, report, rows, spool, progress)
        if report.errors and not (keep_going and not report.file_problem):
            return report
        bad = {e.row for e in report.errors}
        report.rows, report.rejected = checked, len(bad)
        spool.seek(0)
        good = (row for number, row in _lines(spool) if number not in bad)
        if report.dry_run:
            _count(store.reader, report, good)
        else:
            _write(store, report, good, actor, progress, event_data or {}, own_process)
    if progress:
        progress(report.rows, report.rows)
    return report


def _check(
    store: Store, report: ImportReport, rows: Rows, spool: IO[str], progress: Progress | None
) -> int:
    """Check every row, spooling the clean ones; return how many rows there were."""
    checker = Checker(report.kind, report, store.reader)
    count = 0
    for number, values in rows:
        count += 1
        row = checker.check(number, values)
        if row is not None:
            spool.write(json.dumps([number, row], ensure_ascii=False) + "\n")
        if progress and count % PROGRESS_EVERY == 0:
            progress(count, 0)  # the total is known only at the end of the file
    return count


def _lines(spool: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line in spool:
        number, row = json.loads(line)
        yield number, row


def _count(db: Database, report: ImportReport, rows: Iterator[dict[str, Any]]) -> None:
    """Count what a write would do, reading only: a dry run takes no write lock at all."""
    for row in rows:
        if report.kind == "records":
            old = db.execute("SELECT 1 FROM marc_records WHERE isbn = ?", [row["isbn"]]).fetchone()
            same = old is not None and _same(db, "marc_records", row)
        elif report.kind == "patrons":
            old = db.execute("SELECT * FROM patrons WHERE id = ?", [row["id"]]).fetchone()
            have = {
                r[0] for r in db.execute("SELECT code FROM cards WHERE patron_id = ?", [row["id"]])
            }
            same = old is not None and set(row["cards"]) <= have and _same(db, "patrons", row)
        else:
            old = db.execute("SELECT 1 FROM items WHERE barcode = ?", [row["barcode"]]).fetchone()
            same = old is not None and _same(db, "items", row)
        key = "unchanged" if same else "updated" if old else "inserted"
        setattr(report, key, getattr(report, key) + 1)


def _same(db: Database, table: str, row: dict[str, Any]) -> bool:
    fields, key = {
        "patrons": (PATRON_FIELDS, "id"),
        "items": (ITEM_FIELDS, "barcode"),
        "marc_records": (RECORD_FIELDS, "isbn"),
    }[table]
    cols = [f for f in fields if f in row and f != "status"]
    old = db.execute(
        f"SELECT {', '.join(cols)} FROM {table} WHERE {key} = ?", [row[key]]
    ).fetchone()
    return old is not None and list(old) == [row[c] for c in cols]


def _write(
    store: Store,
    report: ImportReport,
    rows: Iterator[dict[str, Any]],
    actor: str,
    progress: Progress | None,
    event_data: dict[str, Any],
    own_process: bool,
) -> None:
    """Write the checked rows in short transactions; undo them all if one batch fails.

    In a process of its own (`own_process`) the batches commit without waiting for the disk
    (synchronous=NORMAL, still all-or-nothing per batch): the scans' own commits beside it then
    do not queue behind the import's. The last transaction, the `import` event, is durable.
    """
    undo = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed below)
    done = 0
    if own_process:
        store.db.execute("PRAGMA synchronous=NORMAL")
    try:
        pending = next(rows, None)
        while pending is not None:
            with store.write() as db:
                now = store.now()
                started = time.monotonic()
                while pending is not None:
                    undo.write(json.dumps(_before(db, report.kind, pending)) + "\n")
                    if report.kind == "records":
                        outcome = put_record(db, pending, report.file, now)
                    elif report.kind == "patrons":
                        outcome = put_patron(db, pending, pending["cards"], now)
                    else:
                        outcome = put_item(db, pending, now)
                    key = "unchanged" if outcome == "same" else outcome
                    setattr(report, key, getattr(report, key) + 1)
                    done += 1
                    if progress and done % PROGRESS_EVERY == 0:
                        progress(done, report.rows)
                    pending = next(rows, None)
                    if time.monotonic() - started > BATCH_SECONDS:
                        break
            undo.flush()
            if pending is not None:
                time.sleep(random.uniform(*PAUSE_SECONDS))
        if own_process:
            store.db.execute("PRAGMA synchronous=FULL")
        with store.write() as db:
            # The event's COMMIT syncs the log, and with it every batch before it.
            data = {"kind": report.kind, "file": report.file, "encoding": report.encoding}
            counts = report.counts()
            store.record(
                db, store.event("import", actor=actor, data={**data, **event_data, **counts})
            )
    except BaseException:
        undo.seek(0)
        _undo(store, report.kind, undo)
        raise
    finally:
        undo.close()


def _before(db: Database, kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """Return what a row's write will change, to put back if the import fails later."""
    table, key = TABLES[kind]
    found = fetch(db, f"SELECT * FROM {table} WHERE {key} = ?", [row[key]])
    before: dict[str, Any] = {"key": row[key], "old": found[0] if found else None}
    if kind == "patrons":
        cards: dict[str, Any] = {}
        for code in row["cards"]:
            card = fetch(db, "SELECT patron_id, status FROM cards WHERE code = ?", [code])
            cards[code] = card[0] if card else None
        before["cards"] = cards
    return before


def _undo(store: Store, kind: str, saved: IO[str]) -> None:
    """Put back every row the failed import changed, in one transaction, through the projector."""
    entries = [json.loads(line) for line in saved if line.strip()]
    if not entries:
        return
    with store.write() as db:
        at = store.now()
        for entry in reversed(entries):
            old = entry["old"]
            if kind == "records":
                if old is None:
                    db.execute("DELETE FROM marc_records WHERE isbn = ?", [entry["key"]])
                else:
                    put_record(db, old, old["source"], old["loaded_at"])
                continue
            for code, card in entry.get("cards", {}).items():
                save(db, "card_saved", code, card, at)  # None: the card was new, remove it
            if old is not None:
                old = {k: v for k, v in old.items() if k != "status"}  # loans may have moved it
            save(db, "patron_saved" if kind == "patrons" else "item_saved", entry["key"], old, at)
