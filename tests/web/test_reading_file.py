"""Adding a file's titles to a reading list, in Chromium on a running daemon.

The librarian uploads a real MARC file (ISO 2709, then MARCXML, from tests/data/real/) or an
Excel sheet with Chinese column names (made here with openpyxl): the titles the catalogue has
(by a copy's barcode, an ISBN or the exact title) go on the list; every row that is not added
is listed by its number with the reason; a file that cannot be read adds nothing. A sheet whose
columns have names we do not know goes through the imports' column mapping, remembered.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kiosk.circulation.reading import lists
from kiosk.circulation.records import put_item, put_patron
from kiosk.codes import isbn10_to_13
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import watch_errors
from web.helpers import PASSWORD, fifo_settings, running

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
KAVALIER = "The amazing adventures of Kavalier and Clay : a novel"
BOOKS = [
    {"barcode": "B0001", "title": KAVALIER, "isbn": isbn10_to_13("0679450041")},
    {"barcode": "B0002", "title": "小王子", "author": "圣埃克苏佩里"},
    {"barcode": "B0003", "title": "昆虫记", "author": "法布尔", "isbn": "9787020090006"},
    {"barcode": "B0004", "title": "草房子", "author": "曹文轩"},
]


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon whose catalogue holds four books."""
    folder = tmp_path_factory.mktemp("listfile")
    settings, fifo = fifo_settings(folder)
    store = open_store(settings)
    with store.write() as db:
        row = {"id": "S001", "name": "王小明", "role": "student", "grade": 3}
        put_patron(db, row, ["CARD-S001"], store.now())
        for book in BOOKS:
            put_item(db, book, store.now())
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w"):
        yield {"url": daemon.web.url, "daemon": daemon, "folder": folder}


@pytest.fixture(scope="module")
def librarian(browser: Any, school: dict[str, Any]) -> Iterator[Any]:
    """The librarian's browser, the first password set and logged in."""
    p = browser.new_page(viewport={"width": 1024, "height": 800})
    errors = watch_errors(p)
    p.goto(school["url"] + "/admin/setup?lang=en")
    p.fill("input[name=password]", PASSWORD)
    p.fill("input[name=again]", PASSWORD)
    p.click("form button[type=submit]")
    p.wait_for_url("**/admin/login**")
    p.fill("input[name=user]", "librarian")
    p.fill("input[name=password]", PASSWORD)
    p.click("form button[type=submit]")
    p.wait_for_url("**/admin/")
    school["errors"] = errors  # the console's errors: a refused file's 400 only where expected
    yield p
    assert errors == []
    p.close()


def new_list(page: Any, school: dict[str, Any], name: str) -> str:
    """Make an ad-hoc list on the dashboard and return its id."""
    page.goto(school["url"] + "/admin/reading/?lang=en")
    form = page.locator("form").filter(has=page.locator("input[name=name]")).first
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/reading/*")
    return str(page.url.rsplit("/", 1)[1].split("?")[0])


def upload(page: Any, path: Path) -> str:
    """Choose a file in the list's file form, send it and return what the page says."""
    page.locator("#add-file input[type=file]").set_input_files(str(path))
    page.locator("#add-file button[type=submit]").click()
    page.wait_for_selector("#file-result")
    return str(page.locator("#file-result").inner_text())


def listed(school: dict[str, Any], list_id: str) -> list[str]:
    return [t["title"] for t in lists.titles(school["daemon"].store.reader, list_id)]


def skipped_rows(page: Any) -> list[list[str]]:
    rows = page.locator("#skipped tr").all()[1:]
    return [[c.inner_text() for c in r.locator("td").all()] for r in rows]


def test_a_marc_file_adds_the_books_the_catalogue_has(
    librarian: Any, school: dict[str, Any]
) -> None:
    list_id = new_list(librarian, school, "Chabon")
    said = upload(librarian, REAL / "marc4j-chabon.mrc")  # ISO 2709: two records
    assert "1 title added from the file." in said
    assert listed(school, list_id) == [KAVALIER]
    assert skipped_rows(librarian) == [
        [
            "2",
            "0786808772 / 0786816155 / Summerland",
            "No book in the catalogue has the barcode, ISBN or title "
            "0786808772 / 0786816155 / Summerland.",
        ]
    ]
    # The same records as MARCXML: nothing twice.
    said = upload(librarian, REAL / "marc4j-chabon.xml")
    assert "0 titles added from the file." in said
    assert [r[0] for r in skipped_rows(librarian)] == ["1", "2"]
    assert skipped_rows(librarian)[0][2] == f"{KAVALIER} is on this list already."
    assert listed(school, list_id) == [KAVALIER]


def sheet(tmp: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    path = tmp / "书单.xlsx"
    path.write_bytes(out.getvalue())
    return path


def test_a_sheet_with_chinese_columns_matches_by_barcode_isbn_and_title(
    librarian: Any, school: dict[str, Any]
) -> None:
    list_id = new_list(librarian, school, "三年级书单")
    path = sheet(
        school["folder"],
        [
            ["序号", "条形码", "国际标准书号", "书名", "备注"],
            [1, "", "", "小王子", ""],
            [2, "", "978-7-02-009000-6", "", ""],
            [3, "B0004", "", "", "老师推荐"],
            [4, "", "", "不存在的书", ""],
            [5, "", "", "", "没写书名"],
            [6, "", "", "小王子", ""],
        ],
    )
    said = upload(librarian, path)
    assert "3 titles added from the file." in said
    assert listed(school, list_id) == ["小王子", "昆虫记", "草房子"]
    assert skipped_rows(librarian) == [
        ["5", "不存在的书", "No book in the catalogue has the barcode, ISBN or title 不存在的书."],
        ["6", "", "The row names no barcode, ISBN or title."],
        ["7", "小王子", "小王子 is on this list already."],
    ]
    assert_accessible(librarian, "a list's page with the rows of a file not added")
    # In Chinese too, as every page is first.
    librarian.goto(school["url"] + f"/admin/reading/{list_id}?lang=zh_CN")
    said = upload(librarian, path)
    assert "从文件加入了 0 本书。" in said
    librarian.goto(school["url"] + f"/admin/reading/{list_id}?lang=en")


def test_a_file_that_cannot_be_read_adds_nothing(librarian: Any, school: dict[str, Any]) -> None:
    list_id = new_list(librarian, school, "坏文件")
    store = school["daemon"].store
    before = store.value("SELECT count(*) FROM events")
    said = upload(librarian, REAL / "marc4j-error.mrc")
    assert said.startswith("Nothing was added: the MARC record is broken")
    broken = school["folder"] / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    said = upload(librarian, broken)
    assert said.startswith("Nothing was added: the file is not an Excel .xlsx workbook")
    header_only = sheet(school["folder"], [["书名", "作者"]])
    said = upload(librarian, header_only)
    assert said == (
        "Nothing was added: the file is empty: it needs a header row and at least one row"
    )
    assert listed(school, list_id) == []
    assert store.value("SELECT count(*) FROM events") == before
    # Each refusal was answered 400 (the browser logs it); nothing else went wrong.
    assert (
        school["errors"]
        == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"] * 3
    )
    school["errors"].clear()


def test_a_sheet_with_unknown_column_names_is_mapped_once(
    librarian: Any, school: dict[str, Any]
) -> None:
    list_id = new_list(librarian, school, "Leseliste")
    path = sheet(school["folder"], [["Nr", "Buchtitel", "Bemerkung"], [1, "草房子", "gut"]])
    librarian.locator("#add-file input[type=file]").set_input_files(str(path))
    librarian.locator("#add-file button[type=submit]").click()
    librarian.wait_for_selector("#mapping")
    assert "Buchtitel" in librarian.locator("#preview").inner_text()
    assert_accessible(librarian, "the column mapping of a list's sheet")
    # Saying nothing is refused with a reason; then the title column is said.
    librarian.locator("#mapping button[type=submit]").click()
    librarian.wait_for_selector("#mapping")
    said = librarian.locator(".flash.error").inner_text()
    assert said == "Say which column holds the barcodes, the ISBNs or the titles."
    assert school["errors"] == [
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]
    school["errors"].clear()
    librarian.select_option("select[name=title_1]", "Buchtitel")
    librarian.locator("#mapping button[type=submit]").click()
    said = str(librarian.locator("#file-result").inner_text())
    assert "1 title added from the file." in said
    assert listed(school, list_id) == ["草房子"]
    # The next sheet with the same columns is read without asking.
    again = sheet(school["folder"], [["Nr", "Buchtitel", "Bemerkung"], [1, "小王子", ""]])
    said = upload(librarian, again)
    assert "1 title added from the file." in said
    assert listed(school, list_id) == ["草房子", "小王子"]
