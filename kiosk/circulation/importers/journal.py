"""Keep an import all or nothing through a kill or a power cut: a journal in the store.

An import writes its rows a short transaction at a time (lending goes on between them). In the
same transaction as the rows it writes what they were before into `import_journal`, one entry for
a few rows (`note_before`: the rows as the batch's `CopyRows` command read them, one INSERT for
them all), so the store always holds
exactly the rows written and how to put each back. A row that was new is put back by removing it,
so its entry keeps only its key; a row that was there keeps its whole before-image (a patron also
its cards'). An entry's `seq` is the number of its last row (rows are counted, not entries), so
`max(seq)` shows how far an import has got. The import's last
transaction records its `import` event and marks its `import_runs` row 'done'. An import found
unfinished ('writing') when the next import, `kiosk import` or `kiosk run` starts was killed: its
journal is played backwards, a short transaction at a time (each removes the entries it put
back, so a kill during the undo is finished by the next start), until none of the file is left;
the rows put back are events too (`CopyRows`, actor `import undone`). A 'done' import's
journal is only deleted. One import at a time holds `<store>.import-lock` (an flock: the kernel
lets go of it when its process dies, so a lock never outlives a kill).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation.commands import Copy
from kiosk.circulation.models import StoredRows
from kiosk.circulation.queries.records import stored_rows
from kiosk.circulation.records import copy_rows
from kiosk.circulation.store import Store, fetch

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.03  # longest a batch writes while it holds the write lock (then COMMIT)
# Longer than SQLite's busy-wait steps in the first 100 ms of a wait (1 to 25 ms), so a scan
# waiting in another process gets in; varied, so its retries cannot keep falling into batches.
PAUSE_SECONDS = (0.025, 0.045)
UNDO_BATCH = 4  # journal entries (of up to CHUNK rows) put back by one command
CHUNK = 32  # rows a journal entry covers: a batch writes several of these
UNDO_ACTOR = "import undone"  # the actor of the events that put an undone import's rows back
TYPES = {"patrons": "patron_saved", "items": "item_saved", "records": "marc_record_saved"}
TABLES = {
    "patrons": ("patrons", "id"),
    "items": ("items", "barcode"),
    "records": ("marc_records", "isbn"),
}


@dataclass(frozen=True)
class Finished:
    """An import found unfinished at start-up and what became of it."""

    file: str
    kind: str
    started_at: str
    undone: bool  # True: it was stopped while writing and every row was put back
    rows: int  # rows put back


def pause() -> None:
    """Wait between two write batches, so scans waiting for the write lock get it."""
    time.sleep(random.uniform(*PAUSE_SECONDS))


def lock_path(store: Store) -> Path:
    """Return the lock file one import at a time holds while it runs."""
    return store.path.with_name(store.path.name + ".import-lock")


def uploads(store: Store) -> Path:
    """Return the folder for the dashboard's uploaded files, beside the store."""
    return store.path.with_name(store.path.name + ".uploads")


def clear_uploads(store: Store) -> None:
    """Remove uploads left by a daemon that was stopped in the middle of an import."""
    shutil.rmtree(uploads(store), ignore_errors=True)


@contextlib.contextmanager
def holding(store: Store, wait: bool = True) -> Iterator[bool]:
    """Hold the import lock (wait for it, or yield False when another import has it)."""
    fd = os.open(lock_path(store), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing lets go of the lock


def begin(db: Database, import_id: str, kind: str, file: str, at: str) -> None:
    """Record that an import starts writing (inside its first batch)."""
    db.execute(
        "INSERT INTO import_runs (id, kind, file, started_at) VALUES (?, ?, ?, ?)",
        [import_id, kind, file, at],
    )


def note(db: Database, import_id: str, kind: str, row: dict[str, Any]) -> None:
    """Journal what one row's write will change, in the transaction that writes it."""
    note_rows(db, import_id, kind, [row])


def note_rows(db: Database, import_id: str, kind: str, rows: list[dict[str, Any]]) -> None:
    """Journal what these rows' writes will change, reading them now (before writing them)."""
    copies = [Copy(TYPES[kind], row[TABLES[kind][1]], None, row.get("cards")) for row in rows]
    note_before(db, import_id, kind, rows, stored_rows(db, copies))


def note_before(
    db: Database, import_id: str, kind: str, rows: list[dict[str, Any]], before: StoredRows
) -> None:
    """Journal these rows as they were before their write (as its command read them).

    Call it in the transaction that writes them: the journal and the rows commit together.
    """
    type_, key = TYPES[kind], TABLES[kind][1]
    entries: list[Any] = []
    if kind == "patrons":
        # Each card as it was; a card moved from another patron is put back there.
        for row in rows:
            codes = map(card_forms.canonical, row["cards"])
            cards = {c: _without(before.rows.get(("card_saved", c)), "code") for c in codes}
            old = before.rows.get((type_, row[key]))
            entries.append({"key": row[key], "old": old, "cards": cards})
    else:
        # A new row needs only its key: undoing it removes it.
        keys = list(dict.fromkeys(row[key] for row in rows))
        entries = [
            {"key": k, "old": before.rows[(type_, k)]} if (type_, k) in before.rows else k
            for k in keys
        ]
    db.execute(
        "INSERT INTO import_journal (seq, import_id, entry) VALUES ("
        "(SELECT coalesce(max(seq), 0) FROM import_journal) + ?, ?, ?)",
        [len(rows), import_id, json.dumps(entries, ensure_ascii=False)],
    )


def _without(row: dict[str, Any] | None, column: str) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items() if k != column}


def _rows(entry: Any) -> list[Any]:
    """Return the before-images of an entry's rows (one row's dict, as older entries were)."""
    return entry if isinstance(entry, list) else [entry]


def done(db: Database, import_id: str) -> None:
    """Mark the import whole, in the transaction that records its `import` event."""
    db.execute("UPDATE import_runs SET state = 'done' WHERE id = ?", [import_id])


def forget(store: Store, import_id: str) -> None:
    """Delete a finished import's journal, a short transaction at a time."""
    while True:
        with store.write() as db:
            cur = db.execute(
                "DELETE FROM import_journal WHERE seq IN (SELECT seq FROM import_journal "
                "WHERE import_id = ? ORDER BY seq LIMIT 2000)",
                [import_id],
            )
            if cur.rowcount == 0:
                db.execute("DELETE FROM import_runs WHERE id = ?", [import_id])
                return
        pause()


def undo(store: Store, import_id: str, kind: str) -> int:
    """Put back every row the import wrote, newest first; return how many rows there were."""
    undone = 0
    while True:
        with store.write() as db:
            started = time.monotonic()
            while time.monotonic() - started <= BATCH_SECONDS:
                entries = db.execute(
                    "SELECT seq, entry FROM import_journal WHERE import_id = ? "
                    "ORDER BY seq DESC LIMIT ?",
                    [import_id, UNDO_BATCH],
                ).fetchall()
                if not entries:
                    db.execute("DELETE FROM import_runs WHERE id = ?", [import_id])
                    return undone
                # Each entry's rows, newest first, put back by one command (an event a row).
                copies = [
                    copy
                    for _, entry in entries
                    for before in reversed(_rows(json.loads(entry)))
                    # A bare key: the row was new.
                    for copy in _put_back(
                        kind, before if isinstance(before, dict) else {"key": before, "old": None}
                    )
                ]
                undone += sum(len(_rows(json.loads(entry))) for _, entry in entries)
                copy_rows(store, copies, UNDO_ACTOR)  # joins this write
                db.conn.executemany(
                    "DELETE FROM import_journal WHERE seq = ?", [(seq,) for seq, _ in entries]
                )
        pause()


def _put_back(kind: str, entry: dict[str, Any]) -> list[Copy]:
    """Return the copies that put back one row (and a patron's cards) as the journal saw it."""
    old = entry["old"]
    if kind == "records":
        if old is None:
            return [Copy("marc_record_saved", entry["key"], None)]
        row = {k: old.get(k, "") for k in ("isbn", "title", "author", "call_number", "source")}
        return [Copy("marc_record_saved", entry["key"], row, at=old["loaded_at"])]
    # None: the card was new, remove it.
    copies = [Copy("card_saved", code, card) for code, card in entry.get("cards", {}).items()]
    if old is not None:
        old = {k: v for k, v in old.items() if k != "status"}  # loans may have moved it
    copies.append(Copy("patron_saved" if kind == "patrons" else "item_saved", entry["key"], old))
    return copies


def recover(store: Store) -> list[Finished]:
    """Undo every import that was stopped while writing; delete finished imports' journals.

    Call it holding the import lock (`holding`), so no import is running.
    """
    found: list[Finished] = []
    runs = fetch(store.reader, "SELECT * FROM import_runs ORDER BY started_at")
    for run in runs:
        if run["state"] == "done":
            forget(store, run["id"])
            found.append(Finished(run["file"], run["kind"], run["started_at"], False, 0))
            continue
        rows = undo(store, run["id"], run["kind"])
        log.info(
            "an import of %s (%s, started %s) was stopped while writing: %d rows put back",
            run["file"],
            run["kind"],
            run["started_at"],
            rows,
        )
        found.append(Finished(run["file"], run["kind"], run["started_at"], True, rows))
    return found


def recover_if_free(store: Store) -> list[Finished]:
    """Recover unless an import is running now (it recovered before it started)."""
    with holding(store, wait=False) as free:
        return recover(store) if free else []
