"""The import journal: what a stopped import wrote is put back exactly, a finished one is kept."""

from __future__ import annotations

from pathlib import Path

from kiosk.circulation.catalogue import record_copy
from kiosk.circulation.importers import import_file, journal
from kiosk.circulation.records import copy_rows, item_copy, patron_copy
from kiosk.circulation.store import Store


def snapshot(store: Store) -> dict[str, list[dict[str, object]]]:
    return {
        "patrons": store.query("SELECT id, name, role, grade, class_name FROM patrons ORDER BY id"),
        "cards": store.query("SELECT code, patron_id, status FROM cards ORDER BY code"),
        "items": store.query("SELECT barcode, title, author, location FROM items ORDER BY 1"),
        "records": store.query("SELECT isbn, title, source FROM marc_records ORDER BY isbn"),
    }


def half_written(store: Store, kind: str, rows: list[dict[str, object]]) -> None:
    """Write rows as an import's batch does (journal and row in one transaction), then stop."""
    with store.write() as db:
        now = store.now()
        journal.begin(db, f"stopped-{kind}", kind, f"{kind}.csv", now)
        for row in rows:
            journal.note(db, f"stopped-{kind}", kind, row)
            if kind == "patrons":
                copy = patron_copy(row, row["cards"])  # type: ignore[arg-type]
            elif kind == "items":
                copy = item_copy(row)
            else:
                copy = record_copy(row, "records.csv")
            copy_rows(store, [copy], "import")


def test_a_stopped_import_is_put_back_exactly_patrons_cards_books_and_records(
    store: Store,
) -> None:
    copy_rows(store, [record_copy({"isbn": "9787020002207", "title": "红楼梦"}, "old.mrc")], "x")
    before = snapshot(store)
    # A patron renamed whose card is written in lower case (stored canonical, upper case), a new
    # patron, a card moved from nobody; a book changed and a book added; a record replaced twice.
    half_written(
        store,
        "patrons",
        [
            {
                "id": "S001",
                "name": "王晓明",
                "role": "student",
                "grade": 4,
                "class_name": "四(1)班",
                "cards": ["0f00a1b2c3", "0F00FFFF01"],
            },
            {
                "id": "N001",
                "name": "新同学",
                "role": "student",
                "grade": 1,
                "class_name": "一(1)班",
                "cards": ["0F00FFFF02"],
            },
        ],
    )
    half_written(
        store,
        "items",
        [
            {"barcode": "9787020002207", "title": "红楼梦（新版）"},
            {"barcode": "N1", "title": "新书"},
        ],
    )
    half_written(
        store,
        "records",
        [
            {"isbn": "9787020002207", "title": "红楼梦 A", "author": "", "call_number": ""},
            {"isbn": "9787020002207", "title": "红楼梦 B", "author": "", "call_number": ""},
        ],
    )
    assert snapshot(store) != before
    found = journal.recover(store)
    assert sorted((f.kind, f.undone, f.rows) for f in found) == [
        ("items", True, 2),
        ("patrons", True, 2),
        ("records", True, 2),
    ]
    assert snapshot(store) == before
    assert store.value("SELECT count(*) FROM import_journal") == 0
    assert store.value("SELECT count(*) FROM import_runs") == 0
    assert journal.recover(store) == []  # nothing left to do


def test_an_import_that_reached_its_end_is_kept_and_its_journal_deleted(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "books.csv"
    path.write_text("barcode,title\nK1,一\nK2,二\n", encoding="utf-8")
    report = import_file(store, "items", path)
    assert report.ok and report.inserted == 2
    assert store.value("SELECT count(*) FROM import_journal") == 0
    # Killed after marking itself done, before deleting its journal: the next start only forgets.
    half_written(store, "items", [{"barcode": "K3", "title": "三"}])
    with store.write() as db:
        journal.done(db, "stopped-items")
    found = journal.recover(store)
    assert [(f.undone, f.rows) for f in found] == [(False, 0)]
    assert store.value("SELECT title FROM items WHERE barcode = 'K3'") == "三"
    assert store.value("SELECT count(*) FROM import_journal") == 0


def test_the_next_import_undoes_a_stopped_one_before_it_reads(store: Store, tmp_path: Path) -> None:
    half_written(store, "items", [{"barcode": "9787020002207", "title": "半"}])
    path = tmp_path / "books.csv"
    path.write_text("barcode,title\nK9,九\n", encoding="utf-8")
    report = import_file(store, "items", path, dry_run=True)
    assert report.ok
    assert store.value("SELECT title FROM items WHERE barcode = '9787020002207'") == "红楼梦"
    assert store.value("SELECT count(*) FROM import_runs") == 0


def test_one_import_at_a_time_the_second_says_it_waits(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from daemon.test_daemon import make_school, write_config

    from kiosk import config
    from kiosk.daemon.app import open_store

    cfg = write_config(tmp_path)
    make_school(cfg)
    store = open_store(config.load(cfg))
    path = tmp_path / "books.csv"
    path.write_text("barcode,title\nW1,等\n", encoding="utf-8")
    try:
        with journal.holding(store):  # as a running import holds it
            proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "--config", str(cfg), "import", "items", str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "KIOSK_LANG": "en"},
            )
            assert proc.stderr is not None
            assert proc.stderr.readline().strip() == (
                "another import is running; waiting for it to finish"
            )
            assert proc.poll() is None
            assert store.value("SELECT count(*) FROM items WHERE barcode = 'W1'") == 0
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "1 new" in out
        assert store.value("SELECT title FROM items WHERE barcode = 'W1'") == "等"
    finally:
        store.close()
