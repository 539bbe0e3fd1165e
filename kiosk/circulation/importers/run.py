"""Run an import beside lending: check the whole file first, then write it in short transactions.

The first pass streams the file through the shared checks on a read connection (no write lock)
and spools the clean rows to a temporary file (unlinked at once: nothing is left if the process
is killed); the file is never held in memory. Only when no row has an error (or when the librarian
chose to import the good rows: `keep_going`) does the second pass write, a batch at a time: each
batch is one short transaction (a few tens of milliseconds) and the importer pauses between
batches, so a scan waiting for the write lock (in this process or, through SQLite's busy wait, in
the daemon beside a command-line import) gets it within one batch. Each batch journals what its
rows were before (`journal`): a batch that fails puts every row back, and an import killed or cut
off by a power cut is undone by the next import or `kiosk run`, so the store holds the whole file
(or all its good rows) or none of it. One import runs at a time (`journal.holding`).
"""

from __future__ import annotations

import itertools
import logging
import pickle
import random
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlite_utils import Database

from kiosk.circulation.catalogue import RECORD_FIELDS, record_copy
from kiosk.circulation.commands import Copy, RecordImport
from kiosk.circulation.handler import handle
from kiosk.circulation.importers import journal
from kiosk.circulation.importers.checks import (
    PROGRESS_EVERY,
    Checker,
    ImportReport,
    Progress,
)
from kiosk.circulation.importers.journal import BATCH_SECONDS, PAUSE_SECONDS
from kiosk.circulation.records import (
    ITEM_FIELDS,
    PATRON_FIELDS,
    copy_rows,
    item_copy,
    patron_copy,
)
from kiosk.circulation.stats import find
from kiosk.circulation.store import Store

log = logging.getLogger(__name__)
Rows = Iterable[tuple[int, dict[str, str]]]


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
    # Python finds its temporary folder by writing a probe file there; done before the lock is
    # taken, an import killed once it holds the lock leaves no file behind (the spool itself
    # has no name).
    tempfile.gettempdir()
    with journal.holding(store), tempfile.TemporaryFile("w+b") as spool:
        journal.recover(store)  # an import stopped before this one is undone first
        # The rows read are said whether or not the file is refused: "0 rows" for a file of four
        # would tell the librarian the file was empty, not that a row in it is wrong.
        report.rows = _check(store, report, rows, spool, progress)
        if report.errors and not (keep_going and not report.file_problem):
            return report
        bad = {e.row for e in report.errors}
        report.rejected = len(bad)
        spool.seek(0)
        good = (row for number, row in _lines(spool) if number not in bad)
        if report.dry_run:
            _count(store.reader, report, good)
        else:
            ahead = _spell_ahead(spool, bad) if own_process and report.kind == "items" else None
            spool.seek(0)
            good = (row for number, row in _lines(spool) if number not in bad)
            _write(store, report, good, actor, progress, event_data or {}, own_process)
            if ahead is not None:
                find.save_spelled(store, ahead)
    if progress:
        progress(report.rows, report.rows)
    return report


def _check(
    store: Store, report: ImportReport, rows: Rows, spool: IO[bytes], progress: Progress | None
) -> int:
    """Check every row, spooling the clean ones; return how many rows there were."""
    checker = Checker(report.kind, report, store.reader)
    count = 0
    for number, values in rows:
        count += 1
        row = checker.check(number, values)
        if row is not None:
            # pickle, not JSON: twice as fast both ways, and only this process reads it back.
            pickle.dump((number, row), spool, pickle.HIGHEST_PROTOCOL)
        if progress and count % PROGRESS_EVERY == 0:
            progress(count, 0)  # the total is known only at the end of the file
    return count


def _spell_ahead(spool: IO[bytes], bad: set[int]) -> find.SpellAhead:
    """Start spelling the good rows' titles in a helper process, beside the write."""
    spool.seek(0)
    pairs = {
        (str(row.get("title") or ""), str(row.get("author") or ""))
        for number, row in _lines(spool)
        if number not in bad
    }
    return find.SpellAhead(sorted(pairs))


def _lines(spool: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    while True:
        try:
            # One unpickler per row: each was pickled on its own, so their memos do not mix.
            number, row = pickle.load(spool)
        except EOFError:
            return
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


def _copy(kind: str, row: dict[str, Any], file: str) -> Copy:
    """Return a checked row as the copy its import saves."""
    if kind == "records":
        return record_copy(row, file)
    if kind == "patrons":
        return patron_copy(row, row["cards"])
    return item_copy(row)


def import_wal_pages(store: Store) -> int:
    """Return the WAL pages after which an import's own COMMIT folds the WAL: half the store's."""
    return max(1, store.wal_max_pages // 2)


def _batches_pragmas(store: Store, batches: bool) -> None:
    """Set the connection of an import's own process for its batches, or back for the rest.

    The batches commit without waiting for the disk, and their COMMITs fold the WAL back at
    half the bound at which the daemon's do: the import writes most of the WAL, else the COMMIT
    that passed the bound was as often a scan's, which then copied the import's pages (a slowest
    scan of 831 ms beside a web import).
    """
    sync, pages = ("NORMAL", import_wal_pages(store)) if batches else ("FULL", store.wal_max_pages)
    store.db.execute(f"PRAGMA synchronous={sync}")
    store.db.execute(f"PRAGMA wal_autocheckpoint={pages}")


def _write(
    store: Store,
    report: ImportReport,
    rows: Iterator[dict[str, Any]],
    actor: str,
    progress: Progress | None,
    event_data: dict[str, Any],
    own_process: bool,
) -> None:
    """Write the checked rows in short transactions, journalled; undo them all if one fails.

    In a process of its own (`own_process`) the batches commit without waiting for the disk
    (synchronous=NORMAL, still all-or-nothing per batch, and the WAL keeps their order, so a
    power cut leaves a prefix of batches with their journal): the scans' own commits beside it
    then do not queue behind the import's. The last transaction, the `import` event, is durable.
    """
    import_id = uuid.uuid4().hex
    done = 0
    if own_process:
        _batches_pragmas(store, True)
    try:
        chunk = list(itertools.islice(rows, journal.CHUNK))
        first = True
        while chunk:
            with store.write() as db:
                now = store.now()
                if first:
                    journal.begin(db, import_id, report.kind, report.file, now)
                    first = False
                started = time.monotonic()
                while chunk:
                    # One command (a few lookups, an event a changed row) and one journal
                    # entry of the rows as that command read them, for the chunk's rows.
                    copies = [_copy(report.kind, row, report.file) for row in chunk]
                    copied = copy_rows(store, copies, actor).state  # joins this write
                    journal.note_before(db, import_id, report.kind, chunk, copied.before)
                    said = copied.said
                    for outcome in said:
                        key = "unchanged" if outcome == "same" else outcome
                        setattr(report, key, getattr(report, key) + 1)
                    before, done = done, done + len(said)
                    if progress:  # every PROGRESS_EVERY rows, as the check reported them
                        for mark in range(before // PROGRESS_EVERY + 1, done // PROGRESS_EVERY + 1):
                            progress(mark * PROGRESS_EVERY, report.rows)
                    chunk = list(itertools.islice(rows, journal.CHUNK))
                    if time.monotonic() - started > BATCH_SECONDS:
                        break
            if chunk:
                time.sleep(random.uniform(*PAUSE_SECONDS))
        if own_process:
            _batches_pragmas(store, False)
        with store.write() as db:
            # The event's COMMIT syncs the log, and with it every batch before it.
            data = {"kind": report.kind, "file": report.file, "encoding": report.encoding}
            counts = report.counts()
            handle(store, RecordImport({**data, **event_data, **counts}, actor))  # joins this write
            if not first:
                journal.done(db, import_id)
    except BaseException:
        if own_process:
            _batches_pragmas(store, False)
        # Whatever stopped it (a full disk, the store locked too long): put every row back. If
        # even that fails, the journal stays and the next start finishes the undo.
        try:
            journal.undo(store, import_id, report.kind)
        except Exception:
            log.exception("could not undo the failed import now; the next start will")
        raise
    if not first:
        journal.forget(store, import_id)
