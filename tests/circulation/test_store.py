"""The store: durable settings, migrations in place, refusals that never overwrite."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.migrations import KNOWN, migrations
from kiosk.circulation.records import put_item
from kiosk.circulation.store import Store, StoreError


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_store_is_durable_and_fully_migrated(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db")
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema == KNOWN
    assert store.integrity() == "ok"
    store.close()


def test_older_database_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before=KNOWN[1])  # the schema of the first release
    old.execute(
        "INSERT INTO patrons (id, name, role, grade, class_name, updated_at) "
        "VALUES ('S1', '王小明', 'student', 3, '三(2)班', '2026-09-01T00:00:00.000Z')"
    )
    old.execute("INSERT INTO cards VALUES ('0F00A1B2C3', 'S1', 'active', '2026-09-01')")
    old.conn.commit()
    old.close()

    store = Store.open(path)
    assert store.schema == KNOWN
    assert store.query("SELECT id, name FROM patrons") == [{"id": "S1", "name": "王小明"}]
    assert store.value("SELECT patron_id FROM cards WHERE code = '0F00A1B2C3'") == "S1"
    assert store.integrity() == "ok"
    store.close()


def test_database_from_a_newer_kiosk_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store.open(path).close()
    db = Database(path)
    db["_sqlite_migrations"].insert(
        {"migration_set": "kiosk", "name": "m999_from_the_future", "applied_at": "2027"}
    )
    db.conn.commit()
    db.close()
    before = digest(path)
    with pytest.raises(StoreError) as e:
        Store.open(path)
    assert e.value.kind == "newer"
    assert "newer version of kiosk" in str(e.value)
    assert digest(path) == before


def assert_refused_untouched(path: Path, kind: str) -> None:
    """Open the store at path: refused with this kind of problem, and the file not changed."""
    before = digest(path)
    with pytest.raises(StoreError) as e:
        Store.open(path)
    assert e.value.kind == kind
    assert digest(path) == before


def test_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    path.write_bytes(b"this is a spreadsheet, not a database" * 100)
    assert_refused_untouched(path, "corrupt")


def test_damaged_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store = Store.open(path, clock=FakeClock())
    with store.write() as db:
        for i in range(2000):
            put_item(db, {"barcode": f"B{i:05d}", "title": "书" * 40}, store.now())
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    raw[page * 5 : page * 5 + 512] = b"\xff" * 512  # a torn page in the middle of the items
    path.write_bytes(bytes(raw))
    assert_refused_untouched(path, "corrupt")


def test_other_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    Database(path)["photos"].insert({"id": 1})
    with pytest.raises(StoreError) as e:
        Store.open(path)
    assert e.value.kind == "corrupt"
    assert "not a kiosk store" in str(e.value)


def test_locked_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(path).close()
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store.open(path, timeout=0.2)
        with pytest.raises(StoreError) as e, store.write():
            pass
        assert e.value.kind == "locked"
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_missing_store_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as e:
        Store.open(tmp_path / "none.db", create=False)
    assert e.value.kind == "missing"
    assert not (tmp_path / "none.db").exists()


def test_a_failed_action_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db", clock=FakeClock())
    with pytest.raises(RuntimeError), store.write() as db:
        put_item(db, {"barcode": "B1", "title": "小王子"}, store.now())
        store.record(db, store.event("checkout", item_barcode="B1"))
        raise RuntimeError("power cut in the middle")
    assert store.value("SELECT count(*) FROM items") == 0
    assert store.value("SELECT count(*) FROM events") == 0
    store.close()


def test_events_are_immutable(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db", clock=FakeClock())
    with store.write() as db:
        event = store.record(db, store.event("checkout", item_barcode="B1", data={"x": 1}))
    assert event.seq is not None and len(event.uuid) == 36
    for sql in ("UPDATE events SET type = 'checkin'", "DELETE FROM events"):
        with (
            pytest.raises(sqlite3.IntegrityError, match="events are immutable"),
            store.write() as db,
        ):
            db.execute(sql)
    row = store.query("SELECT uuid, type, data FROM events")
    assert row == [{"uuid": event.uuid, "type": "checkout", "data": '{"x": 1}'}]
    store.close()


def test_events_are_recorded_only_inside_a_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db")
    with pytest.raises(RuntimeError, match=r"inside store\.write"):
        store.record(store.db, store.event("checkout"))
    store.close()


def test_backup_while_in_use_is_a_complete_checked_copy(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db", clock=FakeClock())
    with store.write() as db:
        put_item(db, {"barcode": "B1", "title": "小王子"}, store.now())
    reader = store.reader  # an open reader does not stop the backup
    assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 1
    (tmp_path / "backups").mkdir()
    out = store.backup(tmp_path / "backups")
    assert out.parent == tmp_path / "backups"
    copy = Database(out)
    assert [r["title"] for r in copy["items"].rows] == ["小王子"]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list((tmp_path / "backups").glob("*.part"))
    store.close()


INTERRUPTED_READ = """
import sqlite3, sys, threading
from kiosk.circulation.store import Store
store = Store.open(sys.argv[1])
running, said = threading.Event(), []
def read_for_ever():
    store.reader.conn.set_progress_handler(lambda: running.set() or 0, 1000)
    try:
        store.reader.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        ).fetchone()
        said.append("finished")
    except sqlite3.Error as e:
        said.append(str(e))
reader = threading.Thread(target=read_for_ever)
reader.start()
running.wait()  # the statement is running in the other thread
store.interrupt()
reader.join()
store.close()
print(said)
"""


def test_a_store_stops_what_other_threads_read_before_it_closes(tmp_path: Path) -> None:
    # The daemon's full integrity check reads in a thread of its own for seconds; a stop that
    # closed the connection under it ended `kiosk run` in a segfault. In a process of its own,
    # so that a crash is a failed test; a read never interrupted would hang here.
    Store.open(tmp_path / "k.db").close()
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_READ, str(tmp_path / "k.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "['interrupted']"), done.stderr
