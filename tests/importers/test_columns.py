"""Columns by any name: Chinese library programs, Koha, OpenLibry's real export, and --map."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kiosk.circulation.importers import import_file
from kiosk.circulation.importers.checks import parse_class
from kiosk.circulation.store import Store
from kiosk.cli import main

REAL = Path(__file__).parent.parent / "data" / "real"


def patrons(store: Store, like: str) -> list[tuple]:
    rows = store.reader.execute(
        "SELECT p.id, p.name, p.role, p.grade, p.class_name, group_concat(c.code) FROM patrons p "
        "LEFT JOIN cards c ON c.patron_id = p.id WHERE p.id LIKE ? GROUP BY p.id ORDER BY p.id",
        [like],
    )
    return [tuple(r) for r in rows]


def books(store: Store, like: str) -> list[tuple]:
    rows = store.reader.execute(
        "SELECT barcode, title, author, isbn, call_number, location FROM items "
        "WHERE barcode LIKE ? ORDER BY barcode",
        [like],
    )
    return [tuple(r) for r in rows]


def sheet(path: Path, *rows: list[object]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_a_chinese_library_programs_export(store: Store, tmp_path: Path) -> None:
    items = sheet(
        tmp_path / "馆藏.xlsx",
        ["登录号", "正题名", "著者", "国际标准书号", "分类号", "馆藏位置", "价格"],
        ["C0001", "草房子", "曹文轩著", "978-7-5346-2449-0", "I287.45", "二楼阅览室", "25.00"],
    )
    report = import_file(store, "items", items)
    assert report.errors == [] and report.ignored_columns == ["价格"]
    assert books(store, "C0001") == [
        ("C0001", "草房子", "曹文轩著", "9787534624490", "I287.45", "二楼阅览室")
    ]
    readers = sheet(
        tmp_path / "读者.xlsx",
        ["读者证号", "姓名", "所在班级", "读者类型"],
        ["0F00AA0001", "李雷", "三年级二班", "学生"],
        ["0F00AA0002", "韩梅梅", "3年2班", "学生"],
        ["0F00AA0003", "王老师", "三年级二班", "教职工"],
    )
    report = import_file(store, "patrons", readers)
    assert report.errors == []
    assert patrons(store, "0F00AA%") == [
        ("0F00AA0001", "李雷", "student", 3, "三年级二班", "0F00AA0001"),
        ("0F00AA0002", "韩梅梅", "student", 3, "3年2班", "0F00AA0002"),
        ("0F00AA0003", "王老师", "teacher", None, "三年级二班", "0F00AA0003"),
    ]


def test_kohas_patron_and_item_columns(store: Store, tmp_path: Path) -> None:
    header = "cardnumber,surname,firstname,branchcode,categorycode,dateofbirth,sort1,sort2,userid"
    lines = [
        "K0001,张,小明,MAIN,ST,2016-03-01,3-2,,zxm",
        "K0002,Bell,Ida Carlotta,MAIN,J,2017-05-02,Grade 2 Class 1,,ibell",
        "K0003,王,芳,MAIN,T,,3-2,,wangf",
        "K0004,Smith,Jo,MAIN,S,,,,jsmith",
        "K0005,李,四,MAIN,K,2018-01-01,302,,lisi",
    ]
    path = tmp_path / "borrowers.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    report = import_file(store, "patrons", path)
    assert report.errors == []
    assert [p for p in patrons(store, "%") if (p[5] or "").startswith("K")] == [
        ("ibell", "Ida Carlotta Bell", "student", 2, "Grade 2 Class 1", "K0002"),
        ("jsmith", "Jo Smith", "teacher", None, "", "K0004"),
        ("lisi", "李四", "student", 3, "302", "K0005"),
        ("wangf", "王芳", "teacher", None, "3-2", "K0003"),
        ("zxm", "张小明", "student", 3, "3-2", "K0001"),
    ]
    items = tmp_path / "items.csv"
    items.write_text(
        "barcode,title,author,itemcallnumber,holdingbranch,homebranch\n"
        '39999000001,Matilda,"Dahl, Roald",FIC DAH,MAIN,MAIN\n',
        encoding="utf-8",
    )
    report = import_file(store, "items", items)
    assert report.errors == [] and report.ignored_columns == ["homebranch"]
    assert books(store, "3999%") == [
        ("39999000001", "Matilda", "Dahl, Roald", "", "FIC DAH", "MAIN")
    ]


def test_openlibrys_own_sample_export(store: Store, tmp_path: Path) -> None:
    path = REAL / "openlibry-sample_export.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    theirs = list(book["Bücherliste"].iter_rows(values_only=True))
    report = import_file(store, "items", path, sheet="Bücherliste")
    assert report.errors == [] and report.inserted == len(theirs) - 1 == 8
    # One of their ISBNs has a wrong check digit: imported as written, and said.
    assert [(w.row, w.column) for w in report.warnings] == [(9, "ISBN")]
    assert books(store, "4129") == [
        (
            "4129",
            "Die fabelhaften Zauberfeen. Bd. 17: Greta Glitzerglanz : Erlebe die Magie",
            "Meadows, Daisy",
            "9783785564417",
            "",
            "library",
        )
    ]
    users = list(book["Userliste"].iter_rows(values_only=True))
    rejects = tmp_path / "users-to-fix.xlsx"
    report = import_file(store, "patrons", path, sheet="Userliste", rejects=rejects)
    # Two users are in Klasse 0, which gives no grade: they are named and set aside.
    assert [(e.row, e.text("en")) for e in report.errors] == [
        (row, "a student needs a grade (a grade column, or a class like 三(2)班)")
        for row in (27, 44)
    ]
    assert report.inserted == len(users) - 1 - 2 == 97
    assert patrons(store, "1408") == [("1408", "Ida Carlotta Bell", "student", 3, "3", "1408")]
    back = openpyxl.load_workbook(rejects, read_only=True)
    assert [r[2:6] for r in back["Userliste"].iter_rows(values_only=True)] == [
        ("Nummer", "Nachname", "Vorname", "Klasse"),
        ("1230", "Geppert", "Zentrum", "0"),
        ("1348", "Kirch", "Susanne", "0"),
    ]


def test_any_other_sheet_with_map(store: Store, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{store.path}"\n[scanner]\nsource = "none:"\n')
    runner = CliRunner(env={"KIOSK_LANG": "en"})
    path = tmp_path / "schueler.csv"
    path.write_text(
        "Schüler-Nr;Familienname;Rufname;Lerngruppe\nM-001;Bell;Ida;3b\nM-002;Kirch;Jo;4a\n",
        encoding="utf-8",
    )
    base = ["--config", str(config), "import", "patrons", str(path)]
    result = runner.invoke(main, base)
    assert result.exit_code == 1
    assert "missing column(s): card_id (卡号), name (姓名)" in result.output
    assert (
        "the file's other columns are: Schüler-Nr, Familienname, Rufname, Lerngruppe; say which "
        "is which with --map COLUMN=HEADER"
    ) in result.output
    args = ["--map", "card_id=Schüler-Nr", "--map", "name=Familienname+Rufname"]
    result = runner.invoke(main, [*base, *args, "--map", "class=Lerngruppe"])
    assert result.exit_code == 0, result.output
    assert patrons(store, "M-%") == [
        ("M-001", "Ida Bell", "student", 3, "3b", "M-001"),
        ("M-002", "Jo Kirch", "student", 4, "4a", "M-002"),
    ]
    # The same as a mapping file, kept beside the school's files.
    mapping = tmp_path / "schueler.map"
    mapping.write_text(
        "# Schülerliste from the school office\ncard_id = Schüler-Nr\nname = Familienname + Rufname"
        "\nclass = Lerngruppe\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, [*base, "--map", str(mapping), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "0 new, 0 updated, 2 unchanged" in result.output
    result = runner.invoke(main, [*base, "--map", "klasse=Lerngruppe"])
    assert result.exit_code == 1
    assert "--map names klasse, which is not one of ours" in result.output
    result = runner.invoke(main, [*base, "--map", "name=Nachname"])
    assert "--map names column(s) the file does not have: Nachname" in result.output
    result = runner.invoke(main, [*base, "--map", "nonsense"])
    assert "--map takes COLUMN=HEADER (or a file of such lines), not nonsense" in result.output


@pytest.mark.parametrize(
    ("written", "grade_and_class"),
    [
        ("三(2)班", (3, "2")),
        ("三（2）班", (3, "2")),
        ("三年级二班", (3, "2")),
        ("3年2班", (3, "2")),
        ("3年级2班", (3, "2")),
        ("302", (3, "2")),
        ("1002", (10, "2")),
        ("3.2", (3, "2")),
        ("3-2", (3, "2")),
        ("Grade 3 Class 2", (3, "2")),
        ("G3C2", (3, "2")),
        ("3b", (3, "B")),
        ("Klasse 4a", (4, "A")),
        ("三年级", (3, "")),
        ("3", (3, "")),
        ("十二年级一班", (12, "1")),
        ("兴趣班", None),
        ("0", None),
        ("13", None),
    ],
)
def test_classes_as_schools_write_them(written: str, grade_and_class: tuple | None) -> None:
    assert parse_class(written) == grade_and_class
