"""CSV import as a librarian does it: Excel files, Chinese headers, all or nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kiosk.circulation.importers import grade_of_class, import_csv, normal_isbn, parse_grade
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.cli import main

DATA = Path(__file__).parent.parent / "data"
TABLES = ("patrons", "cards", "items", "loans", "events")


def snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Return each table's row count and a checksum of all its rows."""
    result = {}
    for table in TABLES:
        rows = store.reader.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        result[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return result


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reasons(report) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, e.text("en")) for e in report.errors]


def warnings(report) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, e.text("en")) for e in report.warnings]


def test_gb18030_file_with_chinese_headers_as_chinese_excel_saves_it(
    store: Store, circulation: Circulation
) -> None:
    path = DATA / "patrons-gb18030.csv"
    assert path.read_bytes().decode("gb18030").startswith("学号,姓名,班级,年级,身份,卡号")
    report = import_csv(store, "patrons", path)
    assert reasons(report) == []
    assert (report.encoding, report.inserted, report.updated, report.unchanged) == (
        "GB18030",
        4,
        0,
        0,
    )
    rows = store.reader.execute(
        "SELECT id, name, role, grade, class_name FROM patrons WHERE id LIKE '2026%' ORDER BY id"
    ).fetchall()
    assert rows == [
        ("20260101", "欧阳娜娜", "student", 4, "四(1)班"),
        ("20260102", "赵一鸣", "helper", 4, "四(1)班"),
        ("20260103", "钱多多", "student", 2, "二(3)班"),
        ("20260900", "孙老师", "teacher", None, ""),
    ]
    # The second card of 欧阳娜娜 is the printed barcode; her RFID card also works as a decimal.
    for code in ("0A00C0FFEE", "20260101", f"{0xC0FFEE:010d}"):
        found = circulation.identify(code)
        assert found.patron is not None and found.patron.name == "欧阳娜娜", code
    event = store.query("SELECT type, actor, data FROM events ORDER BY seq DESC LIMIT 1")[0]
    assert event["type"] == "import" and event["actor"] == "cli"
    assert '"file": "patrons-gb18030.csv"' in event["data"] and '"inserted": 4' in event["data"]


def test_utf8_with_bom_items_and_isbn10_stored_as_isbn13(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.csv",
        "\ufeff条码号,题名,责任者,ISBN,索书号,馆藏地点,备注\r\n"
        "10000001,夏洛的网,E·B·怀特,7-5327-4200-8,I712.85/1,图书馆,\r\n"
        "10000002,草房子,曹文轩,978-7-5346-6412-0,I287.45/2,三(2)班图书角,新书\r\n",
    )
    report = import_csv(store, "items", path)
    assert reasons(report) == []
    assert report.encoding == "UTF-8 (BOM)"
    assert report.summary("zh_CN") == (
        "图书：读取 2 行（UTF-8 (BOM)）：新增 2，更新 0，未变 0；已忽略的列：备注"
    )
    rows = store.reader.execute(
        "SELECT barcode, title, isbn, location FROM items WHERE barcode LIKE '1000000%' "
        "ORDER BY barcode"
    ).fetchall()
    assert rows == [
        ("10000001", "夏洛的网", "9787532742004", "library"),
        ("10000002", "草房子", "9787534664120", "三(2)班图书角"),
    ]


def test_every_bad_row_is_reported_and_nothing_changes(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = write(
        tmp_path,
        "bad.csv",
        "card_id,name,class,grade,role\n"
        "0F00CAFE01,周小雨,四(1)班,4,student\n"  # row 2: good
        "0F00CAFE02,,四(1)班,4,student\n"  # row 3
        "0F00CAFE03,吴六,四(1)班,七十,student\n"  # row 4
        "0F00CAFE04,郑七,,,student\n"  # row 5
        "0F00CAFE05,冯八,四(1)班,4,boss\n"  # row 6
        "0013303297,陈九,四(1)班,4,学生\n"  # row 7: 0x00CAFE01, row 2's card as a decimal
        "0F00A1B2C3,褚十,四(1)班,4,学生\n"  # row 8: 王小明's card in the store
        f"0F00CAFE09,{'长' * 65},四(1)班,4,学生\n"  # row 9
        '0F00CAFE10,"卫\n十一",四(1)班,4,学生\n'  # row 10: a line break inside a name
        "0F00CAFE11,蒋十二,四(1)班,4,学生\n",  # row 11 (the quoted line break is one row)
    )
    report = import_csv(store, "patrons", path)
    assert reasons(report) == [
        (3, "name", "name is empty"),
        (4, "grade", "grade 七十 is not a grade (use 1 to 12 or 一年级 ... 六年级)"),
        (5, "grade", "a student needs a grade (a grade column, or a class like 三(2)班)"),
        (
            6,
            "role",
            "role boss is unknown (use student/学生, teacher/教师, helper/小图书管理员 or "
            "librarian/图书管理员)",
        ),
        (7, "card_id", "card 0013303297 is already on row 2"),
        # A card of someone else in the store is found in the same pass as the rest.
        (8, "card_id", "card 0F00A1B2C3 already belongs to 王小明 (S001)"),
        (9, "name", "name is longer than 64 characters"),
        (10, "name", "name contains a control character (like a line break or tab)"),
    ]
    assert snapshot(store) == before
    # With those rows fixed, the store check still finds the card that belongs to 王小明.
    lines = path.read_text().splitlines()
    good = "\n".join([lines[0], lines[1], lines[7], lines[-1]]) + "\n"
    report = import_csv(store, "patrons", write(tmp_path, "fixed.csv", good))
    assert reasons(report) == [
        (3, "card_id", "card 0F00A1B2C3 already belongs to 王小明 (S001)"),
    ]
    assert snapshot(store) == before


def test_missing_columns_are_named_in_both_header_languages(store: Store, tmp_path: Path) -> None:
    report = import_csv(store, "items", write(tmp_path, "i.csv", "条码号,作者\n1,x\n"))
    assert reasons(report) == [(1, "", "missing column(s): title (题名)")]
    report = import_csv(store, "patrons", write(tmp_path, "p.csv", "姓名,班级\n王,一(1)班\n"))
    assert reasons(report) == [(1, "", "missing column(s): card_id (卡号)")]
    assert report.errors[0].text("zh_CN") == "缺少列：card_id (卡号)"


def test_item_errors_duplicates_and_isbn_check_digits(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    path = write(
        tmp_path,
        "items.csv",
        "barcode,title,isbn\n"
        "B1,书一,9787020002207\n"
        "B2,书二,9787020002208\n"  # wrong check digit
        "B1,书三,\n"  # duplicate barcode
        "B4,,7020002209\n"  # empty title, and an ISBN-10 with a wrong check digit
        "B5,书\x07五,\n",
    )
    report = import_csv(store, "items", path)
    assert reasons(report) == [
        (4, "barcode", "barcode B1 is already on row 2"),
        (5, "title", "title is empty"),
        (6, "title", "title contains a control character (like a line break or tab)"),
    ]
    # A wrong ISBN does not break the record: the barcode is the key. It is a warning.
    assert warnings(report) == [
        (3, "isbn", "ISBN 9787020002208 is not valid (check digit or length); imported as written"),
        (5, "isbn", "ISBN 7020002209 is not valid (check digit or length); imported as written"),
    ]
    assert snapshot(store) == before


def test_bad_isbns_are_imported_as_written_with_a_warning(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.csv",
        "条码号,题名,ISBN\nB1,书一,978-7-02-000220-8\nB2,书二,702000220X\nB3,书三,12345\n",
    )
    report = import_csv(store, "items", path)
    assert reasons(report) == [] and [w[0] for w in warnings(report)] == [2, 4]
    assert report.summary("en") == (
        "items: 3 rows read (UTF-8): 3 new, 0 updated, 0 unchanged; "
        "2 warnings (listed above), imported as written"
    )
    isbns = store.query("SELECT barcode, isbn FROM items WHERE barcode GLOB 'B[0-9]' ORDER BY 1")
    assert isbns == [
        {"barcode": "B1", "isbn": "978-7-02-000220-8"},
        {"barcode": "B2", "isbn": "9787020002207"},
        {"barcode": "B3", "isbn": "12345"},
    ]


def test_dry_run_checks_and_counts_but_changes_nothing(store: Store, tmp_path: Path) -> None:
    before = snapshot(store)
    report = import_csv(store, "patrons", DATA / "patrons-gb18030.csv", dry_run=True)
    assert reasons(report) == [] and report.inserted == 4
    assert report.summary("en") == (
        "patrons: 4 rows read (GB18030): 4 new, 0 updated, 0 unchanged; dry run: nothing changed"
    )
    assert snapshot(store) == before


def test_reimport_updates_by_key_instead_of_duplicating(store: Store, tmp_path: Path) -> None:
    first = write(
        tmp_path,
        "p.csv",
        "card_id,name,class,grade,role\n0F00CAFE01|STU-1,周小雨,四(1)班,4,学生\n",
    )
    assert import_csv(store, "patrons", first).inserted == 1
    # Next year: a new class, and the card typed as the decimal printed on it.
    again = write(
        tmp_path,
        "p2.csv",
        f"card_id,name,class,grade,role\n{0xCAFE01:010d}|STU-1,周小雨,五(1)班,5,学生\n",
    )
    progress: list[tuple[int, int]] = []
    report = import_csv(store, "patrons", again, progress=lambda d, t: progress.append((d, t)))
    assert reasons(report) == []
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    assert progress[-1] == (1, 1)
    rows = store.query("SELECT id, class_name, grade FROM patrons WHERE name = '周小雨'")
    assert rows == [{"id": "0F00CAFE01", "class_name": "五(1)班", "grade": 5}]
    codes = store.query("SELECT code FROM cards WHERE patron_id = '0F00CAFE01' ORDER BY code")
    assert codes == [{"code": "0F00CAFE01"}, {"code": "STU-1"}]  # the decimal is not a new card
    assert import_csv(store, "patrons", again).summary("zh_CN") == (
        "读者：读取 1 行（UTF-8）：新增 0，更新 0，未变 1"
    )


def test_progress_is_reported_every_few_hundred_rows(store: Store, tmp_path: Path) -> None:
    lines = ["barcode,title"] + [f"P{i:04d},书{i}" for i in range(450)]
    path = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    seen: list[tuple[int, int]] = []
    report = import_csv(store, "items", path, progress=lambda d, t: seen.append((d, t)))
    assert report.inserted == 450
    # Checking first (the total is not known yet), then writing.
    assert seen == [(200, 0), (400, 0), (200, 450), (400, 450), (450, 450)]


def test_a_file_that_is_neither_utf8_nor_gb18030_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"barcode,title\nB1,ok\nB2,\x81\x20bad\n")
    report = import_csv(store, "items", path)
    assert reasons(report) == [
        (3, "", "the file is not UTF-8 / GB18030 text (unreadable bytes near row 3)")
    ]
    report = import_csv(store, "items", path, encoding="no-such-codec")
    assert reasons(report) == [(1, "", "unknown text encoding no-such-codec")]


def test_values_librarians_write() -> None:
    assert [parse_grade(g) for g in ("3", "三", "三年级", "3年级", "十二", "0", "七十")] == [
        3,
        3,
        3,
        3,
        12,
        None,
        None,
    ]
    assert [grade_of_class(c) for c in ("三(2)班", "3年级2班", "6-1", "四（1）班", "兴趣班")] == [
        3,
        3,
        6,
        4,
        None,
    ]
    assert normal_isbn("ISBN 978-7-02-000220-7") == "9787020002207"
    assert normal_isbn("7-02-000220-X") == "9787020002207"
    assert normal_isbn("0-306-40615-2") == "9780306406157"
    assert normal_isbn("0-306-40615-3") is None
    assert normal_isbn("1234567890123") is None


def test_cli_import_end_to_end(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
    csv_file = tmp_path / "学生名单.csv"
    shutil.copy(DATA / "patrons-gb18030.csv", csv_file)
    runner = CliRunner(env={"KIOSK_LANG": "en"})
    result = runner.invoke(main, ["--config", str(config), "import", "patrons", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "patrons: 4 rows read (GB18030): 4 new, 0 updated, 0 unchanged"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("card_id,name\nX1,\n")
    result = runner.invoke(main, ["--config", str(config), "import", "patrons", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: row 2: name is empty" in result.output
    assert "1 bad row, nothing imported" in result.output and "bad rows" not in result.output
    result = runner.invoke(main, ["--config", str(config), "export", "patrons", "--codes"])
    assert result.exit_code == 0
    assert "20260101,0A00C0FFEE|20260101,欧阳娜娜,四(1)班,4,student,active" in result.output


def test_the_installed_command_in_chinese(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n')
    kiosk = Path(sys.executable).parent / "kiosk"
    env = {**os.environ, "KIOSK_LANG": "zh_CN"}
    args = [str(kiosk), "--config", str(config), "import", "patrons"]
    done = subprocess.run(
        [*args, str(DATA / "patrons-gb18030.csv"), "--dry-run"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == (
        "读者：读取 4 行（GB18030）：新增 4，更新 0，未变 0；仅检查，未做任何修改"
    )
    bad = tmp_path / "坏.csv"
    bad.write_bytes("卡号,姓名,年级\r\n0F00CAFE01,王五,九十\r\n".encode("gb18030"))
    done = subprocess.run([*args, str(bad)], env=env, capture_output=True)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"{bad}：第 2 行：年级 九十 无效（请填 1 到 12，或 一年级 … 六年级）",
        "读者：读取 1 行（GB18030）：新增 0，更新 0，未变 0",
        "错误：有 1 行有错误，未导入任何数据",
    ]


def test_file_level_and_card_problems(store: Store, tmp_path: Path) -> None:
    report = import_csv(store, "items", write(tmp_path, "empty.csv", "\n\n"))
    assert reasons(report) == [
        (1, "", "the file is empty: it needs a header row and at least one row")
    ]
    report = import_csv(store, "items", write(tmp_path, "two.csv", "条码号,barcode,题名\n1,1,x\n"))
    assert reasons(report) == [(1, "barcode", "two columns mean barcode: 条码号 and barcode")]
    long_card = "C" * 65
    path = write(
        tmp_path,
        "p.csv",
        f"学号,卡号,姓名,年级\nA1,0F00CAFE01,甲,3\nA2,{long_card}|X 1,乙,3\nA1,0F00CAFE02,丙,3\n",
    )
    report = import_csv(store, "patrons", path)
    assert reasons(report) == [
        (3, "卡号", f"card id {long_card} is longer than 64 characters or contains a blank"),
        (3, "卡号", "card id X 1 is longer than 64 characters or contains a blank"),
        (4, "学号", "学号 A1 is already on row 2"),
    ]
