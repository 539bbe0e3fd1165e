"""WAL checkpoints run beside the scans, not in their COMMIT, and still reach the database file.

"The database file alone" is read from a copy of the main file without its -wal: what a
checkpoint has folded in is there, what lives only in the WAL is not.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item
from kiosk.circulation.store import Store

from .test_daemon import CARD, PRINCE, RED, KioskProcess, make_school, write_config


def in_file_alone(path: Path, sql: str) -> int:
    """Return the count `sql` gives on the main database file without its WAL."""
    copy = path.with_name("alone-" + path.name)
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()
        for p in copy.parent.glob(copy.name + "*"):
            p.unlink()


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Return whether `check` became true before `timeout` (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def add_items(store: Store, first: int, count: int) -> None:
    for n in range(first, first + count):
        with store.write() as db:
            put_item(db, {"barcode": f"B{n}", "title": f"书 {n}"}, store.now())


def test_commits_leave_the_checkpoint_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(path).close()  # the schema is in the file
    store = Store.open(path, clock=FakeClock())
    add_items(store, 0, 300)  # well past SQLite's default of 1,000 pages of WAL
    items = "SELECT count(*) FROM items"
    assert in_file_alone(path, items) == 0  # no COMMIT checkpointed on its own
    store.start_checkpointer(delay_s=0.0)
    add_items(store, 300, 1)

    assert eventually(lambda: in_file_alone(path, items) == 301)
    busy, frames, folded = store.last_checkpoint or (1, 0, 0)
    assert (busy, folded) == (0, frames) and frames > 0  # all of the WAL, nothing in the way
    assert store.value(items) == 301  # readers see the same, through or past the WAL
    store.close()


def test_an_import_of_its_own_folds_the_wal_before_the_daemons_commits_would(
    tmp_path: Path,
) -> None:
    from kiosk.circulation.importers import import_file

    path = tmp_path / "k.db"
    Store.open(path).close()
    books = tmp_path / "books.csv"
    books.write_text(
        "barcode,title\n" + "".join(f"W{n},书 {n}\n" for n in range(2500)), encoding="utf-8"
    )
    importer = Store.open(path, clock=FakeClock(), wal_max_pages=200)
    seen: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        pages = importer.db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        seen.append((done, total, pages))

    report = import_file(importer, "items", books, own_process=True, progress=progress)
    assert (report.inserted, report.errors) == (2500, [])
    # Progress comes while the rows are checked (total 0: nothing written yet), while they are
    # written, and once when all is done. While writing, its COMMITs fold the WAL at half the
    # daemon's bound: the import's pages are copied by the import, not by a scan's COMMIT.
    writing = [pages for done, total, pages in seen if 0 < done < total]
    assert writing == [100] * (2500 // 200), seen
    assert importer.db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 200
    importer.close()


def test_wal_is_bounded_and_a_command_folds_its_writes_in_on_close(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(path).close()
    daemon = sqlite3.connect(path)  # another program keeps the store open, as the daemon would
    daemon.execute("SELECT count(*) FROM items").fetchone()
    command = Store.open(path, clock=FakeClock(), wal_max_pages=50)
    add_items(command, 0, 200)
    # The bound: the WAL restarted after an auto-checkpoint instead of growing past 50 pages.
    frames = command.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    assert frames < 60
    command.checkpoint()
    add_items(command, 200, 5)  # a few pages, far under the bound: only in the WAL
    command.close()
    assert in_file_alone(path, "SELECT count(*) FROM items") == 205
    daemon.close()


def test_the_running_kiosk_folds_a_checkout_into_the_database_file(tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    store_path = make_school(config_path)
    k = KioskProcess(config_path)
    try:
        k.wait_ready()
        k.scan(CARD)
        k.scan(RED)
        k.scan(PRINCE)
        seen = [k.read_console() for _ in range(3)]
        assert [line.split()[:2] for line in seen[1:]] == [["[ok]", "checkout"]] * 2, seen
        open_loans = "SELECT count(*) FROM loans WHERE returned_at IS NULL"
        assert eventually(lambda: in_file_alone(store_path, open_loans) == 2)
    finally:
        k.stop()
