"""Leaving for Koha: the patron CSV and MARC 21 exports, read back by pymarc and our import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest
from click.testing import CliRunner

from kiosk import config
from kiosk.circulation.importers import import_file
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.store import Store
from kiosk.cli import main
from kiosk.daemon.app import open_store

LONG = "图书馆的故事：" + "一个很长很长的副题名" * 40  # past 300 characters
COPIES = [
    # barcode, title, author, isbn, call number, location, status
    ("K10001", "草房子", "曹文轩", "9787534624490", "I287.45/1", "二楼", "available"),
    ("K10002", "草房子", "曹文轩", "9787534624490", "I287.45/1", "二楼", "lost"),
    ("K10003", "草房子", "曹文轩", "9787534624490", "I287.45/1", "", "available"),
    ("K10004", LONG, "", "", "I287/2", "", "withdrawn"),  # no ISBN, no author
    ("K10005", "Matilda", "Dahl, Roald", "9780142410370", "FIC DAH", "", "available"),
]


@pytest.fixture
def school(store: Store, tmp_path: Path) -> Store:
    """The small school, a patron without a card, one who left, and books with several copies."""
    with store.write() as db:
        put_patron(db, {"id": "S900", "name": "没卡的", "role": "student"}, [], store.now())
        row = {"id": "S901", "name": "转走的", "role": "student", "status": "left"}
        put_patron(db, row, ["0F00FFFF01"], store.now())
        for barcode, title, author, isbn, call, location, status in COPIES:
            row = {"barcode": barcode, "title": title, "author": author, "isbn": isbn}
            put_item(db, {**row, "call_number": call, "location": location}, store.now())
            db.execute("UPDATE items SET status = ? WHERE barcode = ?", [status, barcode])
    (tmp_path / "config.toml").write_text(
        '[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n', encoding="utf-8"
    )
    return store


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Store]:
    """An empty store of another kiosk: where the exports are imported back."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    raw = {"store": {"path": "kiosk.db"}, "scanner": {"source": "none:"}}
    s = open_store(config.from_dict(raw, base_dir=folder))
    yield s
    s.close()


def export(tmp_path: Path, *args: str) -> bytes:
    runner = CliRunner(env={"KIOSK_LANG": "en"})
    result = runner.invoke(main, ["--config", str(tmp_path / "config.toml"), "export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_kohas_patron_csv_has_everyone_who_stays_and_reads_back(
    school: Store, elsewhere: Store, tmp_path: Path
) -> None:
    data = export(tmp_path, "koha-patrons", "--branch", "SYXX")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == [
        "cardnumber",
        "surname",
        "firstname",
        "categorycode",
        "branchcode",
        "sort1",
        "sort2",
        "userid",
    ]
    by_id = {r["userid"]: r for r in rows}
    assert "S901" not in by_id  # left the school
    assert by_id["S001"] == {
        "cardnumber": "S001",  # the newest of its two cards
        "surname": "王小明",
        "firstname": "",
        "categorycode": "ST",
        "branchcode": "SYXX",
        "sort1": "三(2)班",
        "sort2": "3",
        "userid": "S001",
    }
    assert [by_id[p]["categorycode"] for p in ("S003", "H001", "T001")] == ["ST", "ST", "T"]
    assert by_id["S900"]["cardnumber"] == ""
    # Our own import reads Koha's columns back (the one without a card needs one first).
    path = tmp_path / "borrowers.csv"
    path.write_bytes(data)
    with_cards = tmp_path / "with-cards.csv"
    with_cards.write_text(
        "".join(line for line in data.decode().splitlines(True) if ",没卡的," not in line),
        encoding="utf-8",
    )
    report = import_file(elsewhere, "patrons", with_cards)
    assert report.errors == [] and report.inserted == len(rows) - 1
    theirs = {
        tuple(r)
        for r in elsewhere.reader.execute(
            "SELECT p.id, p.name, p.role, p.class_name, c.code FROM patrons p "
            "JOIN cards c ON c.patron_id = p.id"
        )
    }
    assert ("H001", "张晨", "student", "五(1)班", "0F00AAAA01") in theirs  # Koha: no helpers
    assert ("T001", "陈老师", "teacher", "三(2)班", "0F00BBBB01") in theirs
    assert ("S003", "Tom Green", "student", "五(1)班", "0F00A1B2C5") in theirs
    report = import_file(elsewhere, "patrons", path)
    assert [e.row for e in report.errors] == [by_row(rows, "S900")]


def by_row(rows: list[dict[str, str]], patron_id: str) -> int:
    return next(i for i, r in enumerate(rows, start=2) if r["userid"] == patron_id)


def ours(store: Store) -> list[tuple[str, ...]]:
    sql = "SELECT barcode, title, author, isbn, call_number FROM items ORDER BY barcode"
    return [tuple(v or "" for v in r) for r in store.reader.execute(sql)]


def test_marc_21_with_kohas_952_per_copy(school: Store, elsewhere: Store, tmp_path: Path) -> None:
    data = export(tmp_path, "marc", "--branch", "SYXX", "--item-type", "BOOK")
    records = list(pymarc.MARCReader(data, to_unicode=True))
    assert all(r is not None and r.leader[9] == "a" for r in records)
    assert len(records) == len(ours(school)) - 2  # three copies of 草房子 in one record
    grass = next(r for r in records if r.isbn == "9787534624490")
    assert grass.title == "草房子" and grass.author == "曹文轩"
    copies = [
        {code: fld.get_subfields(code) for code in "abcopy01"} for fld in grass.get_fields("952")
    ]
    assert copies[0] == {
        "a": ["SYXX"],
        "b": ["SYXX"],
        "c": ["二楼"],
        "o": ["I287.45/1"],
        "p": ["K10001"],
        "y": ["BOOK"],
        "0": [],
        "1": [],
    }
    assert [c["p"] for c in copies] == [["K10001"], ["K10002"], ["K10003"]]
    assert copies[1]["1"] == ["1"]  # lost
    long = next(r for r in records if r.get("952") and r["952"]["p"] == "K10004")
    assert long.title == LONG and long.isbn is None and long["952"]["0"] == "1"
    matilda = next(r for r in records if r.isbn == "9780142410370")
    assert matilda.author == "Dahl, Roald" and matilda["952"]["o"] == "FIC DAH"
    # Our own import takes every copy back, with its book.
    path = tmp_path / "catalogue.mrc"
    path.write_bytes(data)
    report = import_file(elsewhere, "items", path)
    assert report.errors == [] and report.inserted == len(ours(school))
    assert ours(elsewhere) == ours(school)


def test_our_copies_as_852_instead(school: Store, elsewhere: Store, tmp_path: Path) -> None:
    data = export(tmp_path, "marc", "--holdings", "852")
    records = list(pymarc.MARCReader(data, to_unicode=True))
    assert not any(r.get_fields("952") for r in records)
    grass = next(r for r in records if r.isbn == "9787534624490")
    held = [(f.get("b"), f.get("h"), f.get("p")) for f in grass.get_fields("852")]
    assert held == [
        ("二楼", "I287.45/1", "K10001"),
        ("二楼", "I287.45/1", "K10002"),
        (None, "I287.45/1", "K10003"),
    ]
    path = tmp_path / "catalogue.mrc"
    path.write_bytes(data)
    report = import_file(elsewhere, "items", path)
    assert report.errors == [] and ours(elsewhere) == ours(school)
