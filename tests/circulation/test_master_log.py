"""The log explains every row: imports, an undone import and the hub's feed are events too.

A kiosk imports patrons with cards and items, copies a page of the hub's feed, and undoes an
import that was stopped half-way. Replaying its log into an empty store gives back exactly its
patrons, cards and items; a re-import of the same file records nothing; and the hub's copies,
logged and acknowledged as they are written, never wait in the outbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.circulation.events import Event
from kiosk.circulation.importers import import_csv, journal
from kiosk.circulation.projector import project
from kiosk.circulation.queries import outbox
from kiosk.circulation.records import copy_rows, item_copy, patron_copy
from kiosk.circulation.store import Store
from kiosk.config import from_dict
from kiosk.daemon.app import open_store
from kiosk.sync import replica

TABLES = {
    "patrons": "SELECT * FROM patrons ORDER BY id",
    "cards": "SELECT * FROM cards ORDER BY code",
    "items": "SELECT * FROM items ORDER BY barcode",
}


def kiosk(folder: Path) -> Store:
    store = open_store(from_dict({"store": {"path": "k.db"}}, base_dir=folder))
    replica.prepare(store)
    return store


def rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {name: store.query(sql) for name, sql in TABLES.items()}


def replayed(store: Store, folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Return the rows an empty store holds after every event of this store's log, in order."""
    empty = Store.open(folder / "replay.db")
    try:
        with empty.write() as db:
            db.execute("DELETE FROM rules")  # as the kiosk's own log will set them
            for row in store.query("SELECT * FROM events ORDER BY seq"):
                project(db, Event.from_row(row))
        return rows(empty)
    finally:
        empty.close()


def write_csv(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PATRONS = [
    "patron_id,name,class,grade,role,card_id",
    "S001,王小明,三(2)班,3,student,0f00a1b2c3",
    "S002,李华,三(2)班,3,student,0F00A1B2C4|L00000002",
    "S003,张伟,四(1)班,4,student,L00000003",
]
ITEMS = [
    "barcode,title,author,call_number",
    "B001,小王子,圣埃克苏佩里,I565.88",
    "B002,草房子,曹文轩,I287.45",
    "B003,狼王梦,沈石溪,I287.45",
]


def half_written_import(store: Store) -> None:
    """Write part of an items import as its batches do (journal beside the rows), then stop."""
    rows_ = [
        {"barcode": "B002", "title": "草房子（新版）", "author": "曹文轩"},
        {"barcode": "B009", "title": "没导完的书"},
    ]
    with store.write() as db:
        journal.begin(db, "stopped", "items", "more.csv", store.now())
        copied = copy_rows(store, [item_copy(r) for r in rows_], "cli").state
        journal.note_before(db, "stopped", "items", rows_, copied.before)


def test_the_log_explains_every_patron_card_and_item(tmp_path: Path) -> None:
    store = kiosk(tmp_path)
    try:
        report = import_csv(store, "patrons", write_csv(tmp_path, "p.csv", PATRONS))
        assert (report.inserted, report.errors) == (3, [])
        assert import_csv(store, "items", write_csv(tmp_path, "i.csv", ITEMS)).inserted == 3
        # Re-importing the same patrons records no event for the rows (only the import's own).
        count = store.value("SELECT count(*) FROM events")
        again = import_csv(store, "patrons", write_csv(tmp_path, "p.csv", PATRONS))
        assert again.unchanged == 3
        assert store.query("SELECT type FROM events WHERE seq > ?", [count]) == [{"type": "import"}]
        # The hub's page: a patron renamed and blocked there, a card of hers reported lost, a
        # book's new call number, a new book, and a book of the import lent at another kiosk.
        page = [
            {"kind": "patron", "key": "S002", "row": {"id": "S002", "name": "李华华",
             "role": "student", "grade": 3, "class_name": "三(2)班", "status": "blocked"}},
            {"kind": "card", "key": "0F00A1B2C4",
             "row": {"code": "0F00A1B2C4", "patron_id": "S002", "status": "lost"}},
            {"kind": "item", "key": "B001", "row": {"barcode": "B001", "title": "小王子",
             "author": "圣埃克苏佩里", "isbn": "", "call_number": "I565.89",
             "location": "library", "status": "available", "item_type": "book"}},
            {"kind": "item", "key": "H001", "row": {"barcode": "H001", "title": "哈利·波特",
             "author": "J.K.罗琳", "isbn": "", "call_number": "I561.84",
             "location": "library", "status": "available", "item_type": "book"}},
            {"kind": "loan", "key": "B003", "row": {"uuid": "hub-loan-1", "item_barcode": "B003",
             "patron_id": "S001", "checked_out_at": "2026-12-01T01:00:00.000Z",
             "due_at": "2026-12-15T15:59:59.000Z", "renewals": 0}},
        ]  # fmt: skip
        waiting = outbox.events_waiting(store.reader)
        replica.apply_changes(store, page, cursor=7)
        hub_events = store.query("SELECT type, actor FROM events WHERE actor = 'hub'")
        assert sorted(e["type"] for e in hub_events) == [
            "card_saved", "item_saved", "item_saved", "loan_synced", "patron_saved",
        ]  # fmt: skip
        # Logged, but not waiting for the hub: nothing of it goes back up.
        assert outbox.events_waiting(store.reader) == waiting == replica.queue_length(store)
        assert not [e for e in replica.pending(store, 1000) if e.actor == "hub"]
        assert not [w for w in replica.pending_wire(store, 1000) if '"actor":"hub"' in w.wire]
        # The same page again changes nothing, and so records nothing.
        before = store.value("SELECT count(*) FROM events")
        replica.apply_changes(store, page, cursor=7)
        assert store.query("SELECT type, data FROM events WHERE seq > ?", [before]) == []
        # An items import stopped half-way, undone at the next start: its rows put back.
        kept = rows(store)
        half_written_import(store)
        assert store.value("SELECT title FROM items WHERE barcode = 'B002'") == "草房子（新版）"
        finished = journal.recover(store)
        assert [(f.undone, f.rows) for f in finished] == [(True, 2)]
        assert rows(store)["items"] == [
            {**r, "updated_at": store.value("SELECT updated_at FROM items WHERE barcode = ?",
                                            [r["barcode"]])}
            for r in kept["items"]
        ]  # fmt: skip
        sql = "SELECT type, data ->> 'key' AS key FROM events WHERE actor = ?"
        undo = store.query(sql, ["import undone"])
        assert sorted((e["type"], e["key"]) for e in undo) == [
            ("item_saved", "B002"), ("item_saved", "B009"),
        ]  # fmt: skip
        # Every row as the log explains it.
        now = rows(store)
        assert [p["name"] for p in now["patrons"]] == ["王小明", "李华华", "张伟"]
        assert {c["code"]: c["status"] for c in now["cards"]} == {
            "0F00A1B2C3": "active", "0F00A1B2C4": "lost", "L00000002": "active",
            "L00000003": "active",
        }  # fmt: skip
        assert [i["barcode"] for i in now["items"]] == ["B001", "B002", "B003", "H001"]
        assert store.value("SELECT status FROM items WHERE barcode = 'B003'") == "on_loan"
        assert replayed(store, tmp_path) == now
    finally:
        store.close()


def test_a_copy_of_a_row_as_it_is_records_nothing(tmp_path: Path) -> None:
    store = kiosk(tmp_path)
    try:
        row = {"id": "S001", "name": "王小明", "role": "student", "grade": 3, "class_name": ""}
        first = copy_rows(store, [patron_copy(row, ["0f00a1b2c3"])], "cli")
        again = copy_rows(store, [patron_copy(row, ["0F00A1B2C3"])], "cli")
        assert (first.state.said, len(first.events)) == (["inserted"], 1)
        assert (again.state.said, again.events) == (["same"], ())
        # Twice in one batch: judged against the row as the first copy leaves it.
        renamed = {**row, "name": "王晓明"}
        twice = copy_rows(store, [patron_copy(renamed), patron_copy(renamed)], "cli")
        assert twice.state.said == ["updated", "same"]
        uuids = [r["uuid"] for r in store.query("SELECT uuid FROM events")]
        assert len(uuids) == len(set(uuids))
    finally:
        store.close()
