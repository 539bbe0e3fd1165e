"""MARC and Excel imports as suppliers and librarians send them: CNMARC in GBK, MARC 21, .xlsx."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import openpyxl
import pymarc
import pytest
from click.testing import CliRunner
from pymarc import Field, Indicators, Record, Subfield

from kiosk.circulation.importers import import_file
from kiosk.circulation.store import Store
from kiosk.cli import main

ITEM_COLS = "barcode, title, author, isbn, call_number, location, status"


def cnmarc(
    title: str,
    author: str,
    isbn: str,
    copies: list[str],
    call: tuple[str, str] = ("I287.5", "Z123"),
    gbk: bool = False,
) -> Record:
    """Return a CNMARC record as Chinese suppliers send it (905 holds the copies)."""

    def text(value: str) -> str:
        # pymarc writes non-UTF-8 records byte for byte as Latin-1; GBK bytes pass through.
        return value.encode("gbk").decode("latin-1") if gbk else value

    record = Record(leader="     nam0 22        450 ", force_utf8=not gbk)
    record.leader = record.leader[:9] + (" " if gbk else "a") + record.leader[10:]
    record.to_unicode = not gbk  # else pymarc marks the leader UTF-8 when writing
    record.add_field(Field(tag="001", data="CN" + isbn[-6:]))
    fields = [
        ("010", [("a", isbn), ("d", "CNY25.00")]),
        ("200", [("a", text(title)), ("f", text(author))]),
        ("690", [("a", call[0]), ("v", "5")]),
        ("905", [("a", "SCH"), *(("b", c) for c in copies), ("d", call[0]), ("e", call[1])]),
    ]
    for tag, subs in fields:
        subfields = [Subfield(code, value) for code, value in subs]
        record.add_field(Field(tag=tag, indicators=Indicators("1", " "), subfields=subfields))
    return record


def marc21(title: str, author: str, isbn: str, copies: list[str], koha: bool = False) -> Record:
    """Return a MARC 21 record in UTF-8 with copies in 852$p (or Koha's 952$p)."""
    record = Record(force_utf8=True)
    record.leader = record.leader[:9] + "a" + record.leader[10:]
    record.add_field(Field(tag="001", data="US" + isbn[-6:]))
    record.add_field(
        Field(
            tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn + " (pbk.)")]
        )
    )
    record.add_field(
        Field(tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", author + ",")])
    )
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", title + " /"), Subfield("c", author + ".")],
        )
    )
    record.add_field(
        Field(
            tag="050",
            indicators=Indicators("0", "0"),
            subfields=[Subfield("a", "PZ7"), Subfield("b", ".R79835")],
        )
    )
    tag, call = ("952", "o") if koha else ("852", "h")
    for barcode in copies:
        subs = [Subfield("a", "SCH"), Subfield(call, "FIC ROW"), Subfield("p", barcode)]
        record.add_field(Field(tag=tag, indicators=Indicators(" ", " "), subfields=subs))
    return record


def write_iso(path: Path, *records: Record) -> Path:
    path.write_bytes(b"".join(r.as_marc() for r in records))
    return path


def items(store: Store, like: str) -> list[tuple]:
    rows = store.reader.execute(
        f"SELECT {ITEM_COLS} FROM items WHERE barcode LIKE ? ORDER BY barcode", [like]
    )
    return [tuple(r) for r in rows]


def errors(report) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, e.text("en")) for e in report.errors]


def test_cnmarc_in_gbk_and_utf8_with_several_copies(store: Store, tmp_path: Path) -> None:
    gbk = write_iso(
        tmp_path / "供应商.iso",
        cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["C0001", "C0002", "C0003"], gbk=True),
        cnmarc("草房子", "曹文轩著", "9787534624490", ["C0004"], ("I287.45", "C123"), gbk=True),
    )
    utf8 = write_iso(
        tmp_path / "utf8.mrc",
        cnmarc("西游记", "吴承恩著", "9787020008728", ["C0005", "C0006"], ("I242.4", "W893")),
    )
    report = import_file(store, "items", gbk)
    assert errors(report) == []
    assert (report.records, report.rows, report.inserted, report.encoding) == (
        2,
        4,
        4,
        "MARC: GB18030",
    )
    report = import_file(store, "items", utf8)
    assert report.summary("en") == (
        "items: 2 rows read (MARC: UTF-8): 2 new, 0 updated, 0 unchanged; from 1 MARC record"
    )
    assert items(store, "C%") == [
        (
            "C0001",
            "小王子",
            "圣埃克苏佩里著",
            "9787020042494",
            "I287.5/Z123",
            "library",
            "available",
        ),
        (
            "C0002",
            "小王子",
            "圣埃克苏佩里著",
            "9787020042494",
            "I287.5/Z123",
            "library",
            "available",
        ),
        (
            "C0003",
            "小王子",
            "圣埃克苏佩里著",
            "9787020042494",
            "I287.5/Z123",
            "library",
            "available",
        ),
        ("C0004", "草房子", "曹文轩著", "9787534624490", "I287.45/C123", "library", "available"),
        ("C0005", "西游记", "吴承恩著", "9787020008728", "I242.4/W893", "library", "available"),
        ("C0006", "西游记", "吴承恩著", "9787020008728", "I242.4/W893", "library", "available"),
    ]
    event = store.query("SELECT data FROM events WHERE type = 'import' ORDER BY seq")[-1]
    assert '"format": "marc"' in event["data"] and '"records": 1' in event["data"]


def test_marc21_iso2709_and_marcxml(store: Store, tmp_path: Path) -> None:
    hp = marc21(
        "Harry Potter and the philosopher's stone",
        "Rowling, J. K",
        "9780747532699",
        ["M001", "M002"],
    )
    koha = marc21("Matilda", "Dahl, Roald", "9780142410370", ["M003"], koha=True)
    write_iso(tmp_path / "us.mrc", hp)
    xml = tmp_path / "koha.xml"
    xml.write_bytes(pymarc.record_to_xml(koha, namespace=True))
    xml.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
        + pymarc.record_to_xml(koha)
        + b"</collection>"
    )
    assert errors(import_file(store, "items", tmp_path / "us.mrc")) == []
    assert errors(import_file(store, "items", xml)) == []
    assert items(store, "M%") == [
        (
            "M001",
            "Harry Potter and the philosopher's stone",
            "Rowling, J. K",
            "9780747532699",
            "FIC ROW",
            "library",
            "available",
        ),
        (
            "M002",
            "Harry Potter and the philosopher's stone",
            "Rowling, J. K",
            "9780747532699",
            "FIC ROW",
            "library",
            "available",
        ),
        ("M003", "Matilda", "Dahl, Roald", "9780142410370", "FIC ROW", "library", "available"),
    ]


def test_marc8_record_is_read_as_marc8(store: Store, tmp_path: Path) -> None:
    record = marc21("Les Misérables", "Hugo, Victor", "9780140444308", ["M8-1"])
    record.leader = record.leader[:9] + " " + record.leader[10:]
    record.force_utf8 = record.to_unicode = False
    for fld in record.get_fields("245"):
        # MARC-8 writes é as the combining acute (0xE2) before the e.
        fld.subfields[0] = Subfield("a", "Les Mis\xe2erables /")
    path = write_iso(tmp_path / "marc8.mrc", record)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.encoding == "MARC: MARC-8"
    assert items(store, "M8-%")[0][1] == "Les Misérables"


def test_a_broken_record_stops_the_import_and_is_named(store: Store, tmp_path: Path) -> None:
    before = store.value("SELECT count(*) FROM items")
    good = cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["B0001"], gbk=True).as_marc()
    no_copy = cnmarc("草房子", "曹文轩著", "9787534624490", [], gbk=True).as_marc()
    dup = cnmarc("西游记", "吴承恩著", "9787020008729", ["B0001"]).as_marc()  # bad ISBN too
    bad_dir = bytearray(good)
    bad_dir[30:32] = b"xx"  # a directory entry's length that is not a number
    cut = good[:-40]  # a record cut short: its length no longer matches
    path = tmp_path / "broken.iso"
    path.write_bytes(good + no_copy + dup + bytes(bad_dir) + cut + good)
    report = import_file(store, "items", path)
    assert errors(report)[:1] == [(3, "905$b", "905$b B0001 is already in record 1")]
    assert errors(report)[1][2].startswith("the MARC record cannot be read (")
    assert errors(report)[2] == (
        5,
        "",
        f"the MARC record is broken (length '{len(good):05d}' does not match the data); "
        "nothing after it can be read",
    )
    assert [e.row for e in report.errors] == [3, 4, 5]
    assert "broken" in report.errors[-1].text("en")
    # A record without copies is not an error: it is named, and the rest of the file comes in.
    assert [(w.row, w.column) for w in report.warnings] == [(2, "905$b"), (3, "010$a")]
    assert report.warnings[0].text("en").startswith("the record has no copies")
    assert store.value("SELECT count(*) FROM items") == before


def test_cli_imports_marc_with_dry_run_and_names_records(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
    path = write_iso(
        tmp_path / "new.iso",
        cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["N1", "N2"], gbk=True),
    )
    runner = CliRunner(env={"KIOSK_LANG": "en"})
    args = ["--config", str(config), "import", "items", str(path)]
    result = runner.invoke(main, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "items: 2 rows read (MARC: GB18030): 2 new, 0 updated, 0 unchanged; "
        "from 1 MARC record; dry run: nothing changed"
    )
    bad = write_iso(tmp_path / "bad.iso", cnmarc("无", "某", "9787020042494", []))
    result = runner.invoke(main, ["--config", str(config), "import", "items", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: record 1: the record has no copies" in result.output
    assert f"{bad}: record 1: no record in the file has copies" in result.output
    result = runner.invoke(main, ["--config", str(config), "import", "patrons", str(path)])
    assert result.exit_code == 1 and "MARC files hold books" in result.output


def workbook(rows: list[list[object]], sheet: str = "名单", first: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    if first is not None:
        ws.title = first
        ws.append(["说明：第二个工作表是名单"])
        ws = book.create_sheet(sheet)
    else:
        ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_chinese_headers_imports(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "图书.xlsx"
    path.write_bytes(
        workbook(
            [
                ["条码号", "题名", "责任者", "ISBN", "索书号", "备注"],
                [30001, "窗边的小豆豆", "黑柳彻子", 9787544242516, "I313.85/H52", None],
                ["30002", "夏洛的网", "E.B.怀特", "9787532745685", "I712.85/B23", "新书"],
                [None, None, None, None, None, None],
            ]
        )
    )
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.warnings == []
    assert report.summary("en") == (
        "items: 2 rows read (xlsx: 名单): 2 new, 0 updated, 0 unchanged; ignored columns: 备注"
    )
    assert items(store, "3000%") == [
        (
            "30001",
            "窗边的小豆豆",
            "黑柳彻子",
            "9787544242516",
            "I313.85/H52",
            "library",
            "available",
        ),
        ("30002", "夏洛的网", "E.B.怀特", "9787532745685", "I712.85/B23", "library", "available"),
    ]


def test_xlsx_patrons_from_a_named_sheet_and_row_errors(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "学生.xlsx"
    path.write_bytes(
        workbook(
            [
                ["卡号", "姓名", "班级", "学号"],
                ["L0000101", "李雷", "三(2)班", 2024301],
                ["L0000102", None, "三(2)班", 2024302],
            ],
            first="说明",
        )
    )
    runner_report = import_file(store, "patrons", path)
    assert errors(runner_report) == [
        (1, "", "missing column(s): card_id (卡号), name (姓名)"),
    ]
    report = import_file(store, "patrons", path, sheet="名单")
    assert errors(report) == [(3, "姓名", "姓名 is empty")]
    report = import_file(store, "patrons", path, sheet="没有")
    assert errors(report) == [(1, "", "the workbook has no sheet 没有 (it has: 说明, 名单)")]
    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(
        workbook([["卡号", "姓名", "班级", "学号"], ["L0000101", "李雷", "三(2)班", 2024301]])
    )
    assert errors(import_file(store, "patrons", fixed)) == []
    assert store.query("SELECT id, name, grade, class_name FROM patrons WHERE id = '2024301'") == [
        {"id": "2024301", "name": "李雷", "grade": 3, "class_name": "三(2)班"}
    ]


def test_not_a_workbook_and_oversized_csv_cells_are_row_errors(
    store: Store, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"barcode,title\n")
    assert errors(import_file(store, "items", fake))[0][2].startswith(
        "the file is not an Excel .xlsx workbook"
    )
    huge = tmp_path / "huge.csv"
    huge.write_text('barcode,title\nH1,ok\nH2,"' + "长" * 140_000 + '"\n', encoding="utf-8")
    assert errors(import_file(store, "items", huge)) == [
        (3, "", "a cell is longer than 131,072 characters; is this the right file?")
    ]
    assert store.value("SELECT count(*) FROM items WHERE barcode LIKE 'H%'") == 0


def test_a_write_that_fails_halfway_puts_everything_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.circulation.importers import run

    monkeypatch.setattr(run, "BATCH_SECONDS", 0.0)  # every row its own transaction
    monkeypatch.setattr(run, "PAUSE_SECONDS", (0.0, 0.0))
    before = store.query(f"SELECT {ITEM_COLS} FROM items ORDER BY barcode")
    events = store.value("SELECT count(*) FROM events")
    # The store refuses the fourth row when it is written (as a full disk would), after three
    # rows, one of them a change to a book already there, were committed in their own batches.
    store.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.barcode = 'F4' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    path = tmp_path / "books.csv"
    path.write_text(
        "barcode,title\nF1,一\n9787020002207,红楼梦（新版）\nF3,三\nF4,四\nF5,五\n",
        encoding="utf-8",
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk is full"):
        import_file(store, "items", path)
    assert store.query(f"SELECT {ITEM_COLS} FROM items ORDER BY barcode") == before
    assert store.value("SELECT count(*) FROM events") == events


def test_records_from_a_sheet_need_isbn_and_title(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("题名\n小王子\n", encoding="utf-8")
    assert errors(import_file(store, "records", path)) == [
        (1, "", "missing column(s): isbn (ISBN)")
    ]
    path.write_text("ISBN,题名,索书号\n978-7-02-004249-4,小王子,I565.88/S12\n", encoding="utf-8")
    report = import_file(store, "records", path)
    assert errors(report) == [] and report.inserted == 1
    assert store.query("SELECT isbn, title, call_number, source FROM marc_records") == [
        {
            "isbn": "9787020042494",
            "title": "小王子",
            "call_number": "I565.88/S12",
            "source": "list.csv",
        }
    ]


def test_old_xls_workbooks_are_named_and_text_named_xls_is_read(
    store: Store, tmp_path: Path
) -> None:
    old = tmp_path / "学生.xls"
    old.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    assert errors(import_file(store, "patrons", old)) == [
        (
            1,
            "",
            "this is an old Excel .xls workbook (or one with a password): open it in Excel or "
            "WPS and save it as .xlsx (Excel Workbook), without a password",
        )
    ]
    text = tmp_path / "导出.xls"  # tab-separated text, as old library programs export "xls"
    text.write_bytes("条码号\t题名\r\nT1\t书\r\n".encode("gb18030"))
    report = import_file(store, "items", text)
    assert errors(report) == [] and report.inserted == 1 and report.encoding == "GB18030"


def test_nothing_optional_stops_a_record(store: Store, kiosk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No ISBN, no call number, several ISBNs, a 500-character title, NSB/NSE, 701 $a $b."""
    long_title = "长" * 480 + "的故事"
    plain = Record(leader="     nam0 22        450 ", force_utf8=True)
    plain.leader = plain.leader[:9] + "a" + plain.leader[10:]
    plain.add_field(Field(tag="001", data="SCHOOL-0001"))
    subs = [
        ("200", [("a", "\x1bHThe \x1bIgarden of \x88a\x89 long"), ("e", long_title)]),
        ("701", [("a", "张"), ("b", "小明")]),
        ("905", [("b", "P0001"), ("b", "P0002")]),
    ]
    for tag, values in subs:
        sub = [Subfield(c, v) for c, v in values]
        plain.add_field(Field(tag=tag, indicators=Indicators(" ", " "), subfields=sub))
    two = marc21("Two ISBNs", "Doe, Jane", "9780596000851", ["P0003"])
    two.add_field(
        Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", "0596002815")])
    )
    two.remove_fields("050")
    path = write_iso(tmp_path / "school.mrc", plain, two)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.warnings == []
    assert (report.records, report.rows, report.inserted) == (2, 3, 3)
    title = "The garden of a long : " + long_title
    assert items(store, "P000%") == [
        ("P0001", title, "张, 小明", "", "", "library", "available"),
        ("P0002", title, "张, 小明", "", "", "library", "available"),
        ("P0003", "Two ISBNs", "Doe, Jane", "9780596000851", "FIC ROW", "library", "available"),
    ]
    # The store keeps the whole title; the kiosk's screen shows its start.
    kiosk.scan("0F00A1B2C3")
    fb = kiosk.scan("P0001")
    assert fb is not None and fb.reason == "ok"
    assert fb.params["title"] == title[:59].rstrip(" :;,./") + "…"
    # As records for the desk: each ISBN finds the book; without one, its 001 keeps it.
    report = import_file(store, "records", path)
    assert errors(report) == []
    rows = store.reader.execute("SELECT isbn, title FROM marc_records ORDER BY isbn")
    assert [tuple(r) for r in rows] == [
        ("001 SCHOOL-0001", title),
        ("9780596000851", "Two ISBNs"),
        ("9780596002817", "Two ISBNs"),
    ]


def test_a_bad_row_does_not_sink_a_good_sheet(store: Store, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{store.path}"\n[scanner]\nsource = "none:"\n')
    runner = CliRunner(env={"KIOSK_LANG": "en"})
    path = tmp_path / "书目.csv"
    path.write_bytes(
        "条码号,题名,作者\nR1,小王子,圣埃克苏佩里\nR2,,曹文轩\nR3,=稻草人,叶圣陶\nR1,重复,某\n".encode(
            "gb18030"
        )
    )
    base = ["--config", str(config), "import", "items", str(path)]
    result = runner.invoke(main, base)
    assert result.exit_code == 1 and "2 bad rows, nothing imported" in result.output
    assert store.value("SELECT count(*) FROM items WHERE barcode LIKE 'R_'") == 0
    result = runner.invoke(main, [*base, "--rejects", str(path)])
    assert result.exit_code == 1
    assert "--rejects needs a file other than the one imported" in result.output
    rejects = tmp_path / "要改的.csv"
    result = runner.invoke(main, [*base, "--rejects", str(rejects)])
    assert result.exit_code == 3, result.output
    assert f"{path}: row 3: 题名 is empty" in result.output
    assert f"{path}: row 5: 条码号 R1 is already on row 2" in result.output
    assert "2 bad rows or records left out, written to" in result.output
    assert items(store, "R_") == [
        ("R1", "小王子", "圣埃克苏佩里", "", "", "library", "available"),
        ("R3", "=稻草人", "叶圣陶", "", "", "library", "available"),
    ]
    # The rejects file is the same sheet: its header, its encoding, only the bad rows.
    assert rejects.read_bytes().decode("gb18030").splitlines() == [
        "条码号,题名,作者",
        "R2,,曹文轩",
        "R1,重复,某",
    ]
    fixed = (
        rejects.read_bytes()
        .decode("gb18030")
        .replace("R2,,", "R2,草房子,")
        .replace("R1,重复", "R4,重复")
    )
    rejects.write_bytes(fixed.encode("gb18030"))
    result = runner.invoke(main, ["--config", str(config), "import", "items", str(rejects)])
    assert result.exit_code == 0, result.output
    assert [r[:2] for r in items(store, "R_")] == [
        ("R1", "小王子"),
        ("R2", "草房子"),
        ("R3", "=稻草人"),
        ("R4", "重复"),
    ]


def test_a_bad_row_of_a_workbook_goes_to_a_workbook(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "学生"
    sheet.append(["卡号", "姓名", "班级"])
    sheet.append(["0F00C0FFEE", "小红", "三(2)班"])
    sheet.append(["0F00C0FFEF", "", "三(2)班"])
    path = tmp_path / "学生.xlsx"
    book.save(path)
    rejects = tmp_path / "rejects.xlsx"
    report = import_file(store, "patrons", path, rejects=rejects)
    assert [(e.row, e.column) for e in report.errors] == [(3, "姓名")]
    assert (report.inserted, report.rejected) == (1, 1)
    back = openpyxl.load_workbook(rejects, read_only=True)
    assert back.sheetnames == ["学生"]
    assert [list(r) for r in back["学生"].iter_rows(values_only=True)] == [
        ["卡号", "姓名", "班级"],
        ["0F00C0FFEF", None, "三(2)班"],
    ]


def raw_record(tag_values: dict[str, list[tuple[str, bytes]]], leader9: str = " ") -> bytes:
    """Return an ISO 2709 record whose subfields are these bytes, as another program wrote it."""
    record = Record(leader="     nam  22        4500")
    record.leader = record.leader[:9] + leader9 + record.leader[10:]
    record.to_unicode = record.force_utf8 = False
    for tag, subs in tag_values.items():
        subfields = [Subfield(c, v.decode("latin-1")) for c, v in subs]
        record.add_field(Field(tag=tag, indicators=Indicators(" ", " "), subfields=subfields))
    return record.as_marc()  # pymarc writes non-UTF-8 text back byte for byte (as Latin-1)


def test_latin1_with_a_blank_leader_is_found_and_said(store: Store, tmp_path: Path) -> None:
    french = raw_record(
        {
            "245": [("a", "Les Misérables /".encode("latin-1"))],
            "260": [("b", "Société d'édition,".encode("latin-1"))],
            "852": [("p", b"L1-1")],
        }
    )
    path = tmp_path / "latin1.mrc"
    path.write_bytes(french)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.encoding == "MARC: Latin-1"
    assert (
        report.warnings[0]
        .text("en")
        .startswith("the records' text read wrongly as MARC-8; they read cleanly as Latin-1")
    )
    assert items(store, "L1-%")[0][1] == "Les Misérables"
    # Named by the librarian, the file is read so and nothing is said.
    report = import_file(store, "items", path, encoding="latin-1")
    assert (errors(report), report.warnings, report.encoding) == ([], [], "MARC: Latin-1")
    report = import_file(store, "items", path, encoding="latin-9000")
    assert errors(report) == [(1, "", "unknown text encoding latin-9000")]


def test_gbk_in_a_unimarc_record_that_says_utf8_is_found(store: Store, tmp_path: Path) -> None:
    record = cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["U1"], gbk=True)
    record.add_field(
        Field(
            tag="100",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", "20200101d2020    em y0chiy50      ea")],
        )
    )
    path = write_iso(tmp_path / "says-utf8.iso", record)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.encoding == "MARC: GB18030"
    assert [w.params for w in report.warnings] == [{"found": "GB18030", "declared": "UTF-8"}]
    assert items(store, "U1")[0][1:3] == ("小王子", "圣埃克苏佩里著")


def test_cyrillic_unimarc_is_not_read_as_gb18030(store: Store, tmp_path: Path) -> None:
    record = raw_record(
        {
            "200": [("a", "Война и мир".encode("cp1251")), ("f", "Лев Толстой".encode("cp1251"))],
            "905": [("b", b"RU-1")],
        }
    )
    path = tmp_path / "ru.iso"
    path.write_bytes(record)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.encoding == "MARC: CP1251"
    assert items(store, "RU-1")[0][1:3] == ("Война и мир", "Лев Толстой")


def test_text_that_reads_in_no_likely_encoding_stops_with_the_option_named(
    store: Store, tmp_path: Path
) -> None:
    # Bytes that are no text at all in UTF-8, GB18030, CP1251 or Latin-1 (nor MARC-8).
    garbage = raw_record({"245": [("a", bytes(range(0x80, 0xA0)) * 2)], "852": [("p", b"X-1")]})
    path = tmp_path / "what.mrc"
    path.write_bytes(garbage)
    report = import_file(store, "items", path)
    assert [(e.row, e.params) for e in report.errors] == [(1, {"encoding": "MARC-8"})]
    assert "--encoding" in report.errors[0].text("en")
    assert items(store, "X-1") == []


def test_a_russian_programs_csv_is_read_as_cp1251_and_said(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_bytes('barcode,title,author\nRU-7,Война и мир,"Толстой, Лев"\n'.encode("cp1251"))
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.encoding == "CP1251"
    assert [w.params for w in report.warnings] == [
        {"found": "CP1251", "declared": "UTF-8 / GB18030"}
    ]
    assert items(store, "RU-7")[0][1:3] == ("Война и мир", "Толстой, Лев")


def test_the_desk_catalogues_a_copy_of_a_long_titled_record() -> None:
    from kiosk.circulation.catalogue import decide_new_book

    title = "长" * 480 + "的故事"
    assert decide_new_book({"barcode": "N1", "title": title}, None) == {
        "barcode": "N1",
        "title": title,
        "author": "",
        "isbn": "",
        "call_number": "",
    }


def test_isbns_as_catalogues_write_them(store: Store, tmp_path: Path) -> None:
    record = cnmarc("草房子", "曹文轩著", "ISBN 978-7-5346-2449-0（平装）", ["I-1"])
    path = write_iso(tmp_path / "isbn.iso", record)
    report = import_file(store, "items", path)
    assert errors(report) == [] and report.warnings == []
    assert items(store, "I-1")[0][3] == "9787534624490"


def test_records_between_line_breaks_and_a_dos_end_of_file_mark(
    store: Store, tmp_path: Path
) -> None:
    one = cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["Z1"], gbk=True).as_marc()
    two = cnmarc("草房子", "曹文轩著", "9787534624490", ["Z2"], gbk=True).as_marc()
    path = tmp_path / "dos.iso"
    path.write_bytes(one + b"\r\n" + two + b"\r\n\x1a")
    report = import_file(store, "items", path)
    assert errors(report) == [] and (report.records, report.inserted) == (2, 2)


def test_copies_in_holdings_records_after_their_book(store: Store, tmp_path: Path) -> None:
    """MARC 21 holdings records (leader/06 x) after the book they hold, as some systems export."""
    book = Record(force_utf8=True)
    book.leader = book.leader[:9] + "a" + book.leader[10:]
    book.add_field(Field(tag="001", data="B1"))
    sub = [Subfield("a", "Matilda /"), Subfield("c", "Roald Dahl.")]
    book.add_field(Field(tag="245", indicators=Indicators("1", "0"), subfields=sub))
    held = Record(force_utf8=True)
    held.leader = held.leader[:6] + "x" + held.leader[7:9] + "a" + held.leader[10:]
    held.add_field(Field(tag="001", data="H1"))
    held.add_field(Field(tag="004", data="B1"))
    for barcode in ("HB-1", "HB-2"):
        sub = [Subfield("h", "FIC"), Subfield("i", "DAH"), Subfield("p", barcode)]
        held.add_field(Field(tag="852", indicators=Indicators("0", " "), subfields=sub))
    stray = Record(force_utf8=True)
    stray.leader = stray.leader[:6] + "x" + stray.leader[7:9] + "a" + stray.leader[10:]
    stray.add_field(Field(tag="004", data="B9"))
    path = write_iso(tmp_path / "mfhd.mrc", book, held, stray)
    report = import_file(store, "items", path)
    assert errors(report) == []
    assert [(w.row, w.params) for w in report.warnings] == [(3, {"record": "B9"})]
    assert items(store, "HB-%") == [
        ("HB-1", "Matilda", "Roald Dahl", "", "FIC DAH", "library", "available"),
        ("HB-2", "Matilda", "Roald Dahl", "", "FIC DAH", "library", "available"),
    ]
