"""Library cards and book labels printed to PDF by a real headless Chromium, barcodes read back.

The librarian issues the missing cards of a class on the running daemon's dashboard; Chromium
prints the sheet to PDF; pypdfium2 renders each page and zxing-cpp reads every barcode on it.
"""

from __future__ import annotations

import csv
import ctypes
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymarc
import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner

from kiosk import config
from kiosk.circulation.records import put_item, put_patron
from kiosk.cli import main
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.helpers import PASSWORD, running

CLASS = "三(2)班"
STUDENTS = [(f"S{i:03d}", f"学生{i:02d}") for i in range(1, 24)]  # 23: three have cards already
PEOPLE = [
    ({"id": "H01", "name": "李小管", "role": "helper", "grade": 3}, ["0F00A1B2FF"]),
    ({"id": "T01", "name": "王老师", "role": "teacher"}, []),
]
EVERYONE = STUDENTS + [(row["id"], row["name"]) for row, _ in PEOPLE]
BOOKS = [(f"7{i:05d}", f"书{i}", f"I287.{i}/W{i}") for i in range(1, 71)]  # 70 books


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon on loopback: a class of 23, its helper and teacher; 70 books."""
    folder = tmp_path_factory.mktemp("cards")
    raw = {
        "kiosk": {"school": "实验小学"},
        "store": {"path": "kiosk.db"},
        "scanner": {"source": "none:"},
        "indicator": {"kind": "none"},
        "web": {"listen": "127.0.0.1:0"},
    }
    (folder / "config.toml").write_text(
        '[kiosk]\nschool = "实验小学"\n[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n',
        encoding="utf-8",
    )
    settings = config.from_dict(raw, base_dir=folder)
    store = open_store(settings)
    with store.write() as db:
        for n, (pid, name) in enumerate(STUDENTS):
            row = {"id": pid, "name": name, "role": "student", "grade": 3, "class_name": CLASS}
            put_patron(db, row, [f"0F00A1B2{n:02d}"] if n < 3 else [], store.now())
        # The class's helper and teacher borrow with a card like the students: on the sheet too.
        for row, cards in PEOPLE:
            put_patron(db, {**row, "class_name": CLASS}, cards, store.now())
        row = {"id": "S099", "name": "转走的", "role": "student", "status": "left"}
        put_patron(db, {**row, "class_name": CLASS}, [], store.now())  # left: no card
        for barcode, title, call in BOOKS:
            put_item(db, {"barcode": barcode, "title": title, "call_number": call}, store.now())
    store.close()
    with running(Daemon(settings)) as daemon:
        yield {"url": daemon.web.url, "daemon": daemon, "folder": folder}


@pytest.fixture(scope="module")
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    """A logged-in librarian's page."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = context.new_page()
    p.goto(site["url"] + "/admin/")
    p.fill("input[name=password]", PASSWORD)
    p.fill("input[name=again]", PASSWORD)
    p.click("button[type=submit]")
    p.fill("input[name=user]", "librarian")
    p.fill("input[name=password]", PASSWORD)
    p.click("main button[type=submit]")
    p.wait_for_url("**/admin/")
    yield p
    context.close()


class _Gray:
    """A rendered page as zxing-cpp reads it (the array interface, without numpy)."""

    def __init__(self, bitmap: Any) -> None:
        self.bitmap = bitmap  # keeps the pixels alive
        self.__array_interface__ = {
            "shape": (bitmap.height, bitmap.width),
            "typestr": "|u1",
            "data": (ctypes.addressof(bitmap.buffer), True),
            "strides": (bitmap.stride, 1),
            "version": 3,
        }


def read_pdf(pdf: bytes) -> list[tuple[list[str], str]]:
    """Return, per page, the Code 128 barcodes read from a 300 dpi rendering, and the text."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    for i in range(len(doc)):
        page = doc[i]
        w, h = page.get_size()
        assert (round(w / 72 * 25.4), round(h / 72 * 25.4)) == (210, 297)  # A4
        bitmap = page.render(scale=300 / 72, grayscale=True)
        found = zxingcpp.read_barcodes(_Gray(bitmap), formats=zxingcpp.BarcodeFormat.Code128)
        text = page.get_textpage().get_text_range()
        pages.append((sorted(r.text for r in found), text))
    return pages


def test_cards_are_issued_to_who_has_none_and_every_barcode_reads_back(
    page: Any, site: dict[str, Any]
) -> None:
    store = site["daemon"].store
    page.goto(site["url"] + "/admin/cards")
    row = page.locator("#classes tr", has_text=CLASS)
    assert row.locator("td").nth(1).inner_text() == "25"
    assert row.locator("td").nth(2).inner_text() == "21"  # 20 students and the teacher
    row.locator("button").click()  # 发卡 21 张并打印
    page.wait_for_url("**/admin/cards/print**")
    assert page.inner_text("p.flash") == "已发借书证：21 张。"
    issued = store.query("SELECT patron_id, data FROM events WHERE type = 'card_issued'")
    newly = {p for p, _ in STUDENTS[3:]} | {"T01"}
    assert len(issued) == 21 and {e["patron_id"] for e in issued} == newly
    codes = {
        r["patron_id"]: r["code"]
        for r in store.query("SELECT patron_id, code FROM cards WHERE status = 'active'")
    }
    assert sorted(codes[p] for p in newly) == [f"L{n:08d}" for n in range(1, 22)]
    assert "卡 25 张，A4 纸 3 张" in page.inner_text("p.noprint:not(.flash)")
    sheets = page.locator("section.sheet")
    assert [sheets.nth(i).locator(".card").count() for i in range(3)] == [10, 10, 5]
    shown = page.locator(".card .name").all_inner_texts()
    assert shown == [name for _, name in sorted(EVERYONE, key=lambda s: (s[1], s[0]))]
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    read = read_pdf(pdf)
    assert len(read) == 3
    expected = [codes[p] for p, _ in sorted(EVERYONE, key=lambda s: (s[1], s[0]))]
    assert [barcodes for barcodes, _ in read] == [
        sorted(expected[0:10]),
        sorted(expected[10:20]),
        sorted(expected[20:25]),
    ]
    # The helper and the teacher are printed with their names, on the last sheet (by name).
    assert "李小管" in read[2][1] and "王老师" in read[2][1] and "转走的" not in read[2][1]
    assert codes["H01"] in read[2][0] and codes["T01"] in read[2][0]
    assert "学生01" in read[0][1] and "实验小学" in read[0][1] and CLASS in read[0][1]
    # Nobody is left without a card: the button is gone, the counts say so.
    page.goto(site["url"] + "/admin/cards")
    row = page.locator("#classes tr", has_text=CLASS)
    assert row.locator("td").nth(2).inner_text() == "0" and row.locator("button").count() == 0


def test_barcode_and_spine_labels_on_a4_sheets(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/admin/labels")
    page.select_option("select[name=kind]", "barcode")
    page.select_option("select[name=layout]", "L7651")
    page.fill("textarea[name=barcodes]", "\n".join([*(b for b, _, _ in BOOKS), "NOSUCH"]))
    page.fill("input[name=skip]", "3")  # three labels of the first sheet are used already
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/labels/print**")
    assert page.inner_text("#missing") == "没有这些图书：NOSUCH"
    sheets = page.locator("section.sheet")
    assert sheets.count() == 2
    assert sheets.nth(0).locator(".label.book").count() == 62  # 65 - 3 used
    assert sheets.nth(1).locator(".label.book").count() == 8
    read = read_pdf(page.pdf(format="A4", prefer_css_page_size=True))
    wanted = [b for b, _, _ in BOOKS]
    assert [barcodes for barcodes, _ in read] == [sorted(wanted[:62]), sorted(wanted[62:])]
    # Spine labels: the call number in large type, 21 to a sheet.
    url = site["url"] + "/admin/labels/print?kind=spine&layout=L7160&barcodes=" + "+".join(wanted)
    page.goto(url)
    assert page.locator("section.sheet").count() == 4
    assert page.locator(".label.spine .call").nth(0).inner_text() == "I287.1\nW1"
    read = read_pdf(page.pdf(format="A4", prefer_css_page_size=True))
    assert len(read) == 4 and "I287.21" in read[0][1] and "I287.22" in read[1][1]
    assert "I287.22" not in read[0][1]
    # Books added or changed since a day, by call number.
    page.goto(site["url"] + "/admin/labels/print?kind=spine&layout=L7651&since=2000-01-01")
    assert page.locator(".label.spine").count() == 70


def test_labels_for_unknown_barcodes_keep_the_form_and_say_which(
    page: Any, site: dict[str, Any]
) -> None:
    page.goto(site["url"] + "/admin/labels")
    page.select_option("select[name=kind]", "spine")
    page.select_option("select[name=layout]", "L7160")
    page.fill("textarea[name=barcodes]", "NOSUCH1\nNOSUCH2\nNOSUCH1")  # a typo, scanned twice
    page.fill("input[name=skip]", "5")
    page.click("main button[type=submit]")
    page.wait_for_selector("#barcodes-error")
    assert page.inner_text("#barcodes-error") == "没有条码号为这些的图书：NOSUCH1, NOSUCH2。"
    assert page.get_attribute("textarea[name=barcodes]", "aria-invalid") == "true"
    # Everything chosen and typed is still there, to be put right rather than typed again.
    assert page.input_value("select[name=kind]") == "spine"
    assert page.input_value("select[name=layout]") == "L7160"
    assert page.input_value("textarea[name=barcodes]") == "NOSUCH1\nNOSUCH2\nNOSUCH1"
    assert page.input_value("input[name=skip]") == "5"
    assert page.locator("section.sheet").count() == 0
    page.fill("textarea[name=barcodes]", BOOKS[0][0])
    page.click("main button[type=submit]")
    page.wait_for_selector("section.sheet")
    assert page.locator(".label.spine").count() == 1
    # A day with no new books says so; nothing typed says what to give.
    page.goto(site["url"] + "/admin/labels/print?kind=barcode&since=2999-01-01")
    assert page.inner_text("#barcodes-error") == "2999-01-01 以来没有新增的图书。"
    assert page.input_value("input[name=since]") == "2999-01-01"
    page.goto(site["url"] + "/admin/labels/print?kind=barcode&lang=en")
    assert page.inner_text(".flash.error").startswith("No books found: give barcodes")
    page.goto(site["url"] + "/admin/labels?lang=zh_CN")


def test_cli_prints_a_class_to_a_file(site: dict[str, Any], tmp_path: Path) -> None:
    folder = site["folder"]
    out = tmp_path / "cards.html"
    result = CliRunner(env={"KIOSK_LANG": "en"}).invoke(
        main,
        [
            "--config",
            str(folder / "config.toml"),
            "cards",
            "print",
            "--class",
            CLASS,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"25 cards of {CLASS} written to {out}")
    html = out.read_text(encoding="utf-8")
    assert html.count('class="label card"') == 25 and "L00000020" in html
    # The CSS is inlined as CSS (not HTML-escaped), with the font where the package has it.
    assert 'font-family: "Kiosk Sans"' in html and 'url("file:///' in html
    assert ".sheet.C32011 { padding: 13.5mm 0 0 17mm;" in html
    pdf = tmp_path / "labels.pdf"
    result = CliRunner(env={"KIOSK_LANG": "en"}).invoke(
        main,
        [
            "--config",
            str(folder / "config.toml"),
            "labels",
            "--kind",
            "barcode",
            "--layout",
            "L7160",
            "--out",
            str(pdf),
            *(b for b, _, _ in BOOKS[:30]),
        ],
    )
    assert result.exit_code == 0, result.output
    read = read_pdf(pdf.read_bytes())  # 30 labels, 21 a sheet
    assert [barcodes for barcodes, _ in read] == [
        sorted(b for b, _, _ in BOOKS[:21]),
        sorted(b for b, _, _ in BOOKS[21:30]),
    ]


def test_odd_upload_names_and_oversized_cells_over_real_http(
    page: Any, site: dict[str, Any]
) -> None:
    """Names a browser should never send get a 400; a huge cell is a row error, not a 500."""
    page.goto(site["url"] + "/admin/import")
    csrf = page.get_attribute("input[name=csrf_token]", "value")

    def upload(name: str, body: bytes) -> Any:
        return page.request.post(
            site["url"] + "/admin/import",
            multipart={
                "csrf_token": csrf,
                "kind": "items",
                "file": {"name": name, "mimeType": "text/csv", "buffer": body},
            },
            max_redirects=0,
        )

    for name in (".", "..", "a\x00b.csv"):
        r = upload(name, b"barcode,title\nX1,x\n")
        assert r.status == 400, name
        assert "文件名无法使用" in r.text(), name
    huge = b'barcode,title\nH1,ok\nH2,"' + "长".encode() * 140_000 + b'"\n'
    r = upload("huge.csv", huge)
    assert r.status == 302
    job_url = site["url"] + r.headers["location"] + ".json"
    for _ in range(200):
        job = page.request.get(job_url).json()
        if job["finished"]:
            break
        time.sleep(0.05)
    assert job["ok"] is False
    assert job["errors"] == [
        {"row": 3, "column": "", "reason": "有一个单元格超过 131,072 个字符；文件选对了吗？"}
    ]
    assert site["daemon"].store.value("SELECT count(*) FROM items WHERE barcode = 'H1'") == 0


def test_import_page_shows_warnings_and_marc_record_numbers(
    page: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    import openpyxl
    from importers.test_marc_xlsx_import import cnmarc

    book = openpyxl.Workbook()
    book.active.append(["条码号", "题名", "ISBN"])
    book.active.append([50001, "城南旧事", "9787020002208"])  # wrong check digit
    xlsx = tmp_path / "新书.xlsx"
    book.save(xlsx)
    page.goto(site["url"] + "/admin/import")
    page.select_option("select[name=kind]", "items")
    page.set_input_files("input[name=file]", str(xlsx))
    page.click("main button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=20000)
    assert "新增 1" in page.inner_text("#import-summary")
    assert page.is_visible("#import-warnings") and page.is_hidden("#import-errors")
    assert "9787020002208 无效" in page.inner_text("#import-warnings")
    good = cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["Q1"], gbk=True).as_marc()
    marc = tmp_path / "供应商.iso"
    marc.write_bytes(good + good[:-30])
    page.goto(site["url"] + "/admin/import")
    page.select_option("select[name=kind]", "items")
    page.set_input_files("input[name=file]", str(marc))
    page.click("main button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=20000)
    assert page.inner_text("#import-errors th.unit") == "记录"
    assert page.inner_text("#import-errors tr:nth-child(2) td:first-child") == "2"
    assert page.is_visible("#import-nothing")
    assert site["daemon"].store.value("SELECT count(*) FROM items WHERE barcode = 'Q1'") == 0


def test_a_new_book_at_the_desk_as_a_scanner_types_it(page: Any, site: dict[str, Any]) -> None:
    """A USB scanner types the code and Enter into the focused field; the form does the rest."""
    from kiosk.circulation.importers import import_file

    rows = site["folder"] / "records.csv"
    rows.write_text("ISBN,题名,责任者,索书号\n9787020042494,小王子,圣埃克苏佩里,I565.88/S12\n")
    assert import_file(site["daemon"].store, "records", rows).ok
    focused = "name => document.activeElement && document.activeElement.name === name"
    page.goto(site["url"] + "/desk/new-book")
    page.wait_for_function(focused, arg="isbn")  # autofocus: the scanner types into it
    page.keyboard.type("9787020042494\n")
    page.wait_for_function(focused, arg="barcode")
    assert page.input_value("input[name=title]") == "小王子"
    page.keyboard.type("N7001\n")  # the new label
    page.wait_for_selector("p.flash")
    assert page.inner_text("p.flash") == "已上架：小王子（N7001）。"
    page.wait_for_function(focused, arg="isbn")  # ready for the next book
    item = site["daemon"].store.query(
        "SELECT title, author, call_number FROM items WHERE barcode = 'N7001'"
    )
    assert item == [{"title": "小王子", "author": "圣埃克苏佩里", "call_number": "I565.88/S12"}]


def test_the_librarian_imports_the_good_rows_and_downloads_the_bad_ones(
    page: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    """A sheet with two bad rows: the problems on screen, then the choice to import the rest."""
    sheet = tmp_path / "新书.csv"
    sheet.write_bytes("条码号,题名\nG1,城南旧事\nG2,\nG3,稻草人\nG1,重复\n".encode("gb18030"))
    page.goto(site["url"] + "/admin/import")
    page.select_option("select[name=kind]", "items")
    page.set_input_files("input[name=file]", str(sheet))
    page.click("main button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=20000)
    rows = page.locator("#import-errors tr")
    assert [rows.nth(i).inner_text().split("\t")[0] for i in (1, 2)] == ["3", "5"]
    assert page.is_visible("#import-nothing") and page.is_visible("#import-good")
    store = site["daemon"].store
    assert store.value("SELECT count(*) FROM items WHERE barcode LIKE 'G_'") == 0
    page.click("#import-good button")
    page.wait_for_selector("#import-rejects:not([hidden])", timeout=20000)
    assert page.is_hidden("#import-nothing") and page.is_hidden("#import-good")
    assert "新增 2" in page.inner_text("#import-summary")
    titles = store.query("SELECT barcode, title FROM items WHERE barcode LIKE 'G_' ORDER BY 1")
    assert titles == [{"barcode": "G1", "title": "城南旧事"}, {"barcode": "G3", "title": "稻草人"}]
    with page.expect_download() as info:
        page.click("#import-rejects a")
    download = info.value
    assert download.suggested_filename == "新书-要修改的行.csv"
    got = Path(download.path()).read_bytes().decode("gb18030").splitlines()
    assert got == ["条码号,题名", "G2,", "G1,重复"]


def test_the_librarian_maps_an_unknown_sheet_once(
    page: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    """A sheet from the school office: its columns mapped once, the next one imports at once."""
    first = tmp_path / "schueler.csv"
    first.write_text(
        "Schüler-Nr;Familienname;Rufname;Lerngruppe\nM-001;Bell;Ida;3b\nM-002;张;小明;三(2)班\n",
        encoding="utf-8",
    )
    page.goto(site["url"] + "/admin/import")
    page.select_option("select[name=kind]", "patrons")
    page.set_input_files("input[name=file]", str(first))
    page.click("main button[type=submit]")
    page.wait_for_selector("#mapping")
    assert "/admin/import/map/" in page.url
    assert page.inner_text("#preview tr:nth-child(2)").split("\t") == ["M-001", "Bell", "Ida", "3b"]
    assert_accessible(page, "the column mapping page")  # not reachable by test_librarian_axe
    page.select_option("select[name=card_id_1]", "Schüler-Nr")
    page.select_option("select[name=name_1]", "Familienname")
    page.select_option("select[name=name_2]", "Rufname")
    page.select_option("select[name=class_1]", "Lerngruppe")
    page.click("#mapping button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=20000)
    assert "新增 2" in page.inner_text("#import-summary")
    store = site["daemon"].store
    rows = store.query("SELECT id, name, grade, class_name FROM patrons WHERE id LIKE 'M-%'")
    assert sorted(rows, key=lambda r: r["id"]) == [
        {"id": "M-001", "name": "Ida Bell", "grade": 3, "class_name": "3b"},
        {"id": "M-002", "name": "张小明", "grade": 3, "class_name": "三(2)班"},
    ]
    # Next term's list from the same office: the same columns, so no question this time.
    second = tmp_path / "schueler-neu.csv"
    second.write_text(
        "Schüler-Nr;Familienname;Rufname;Lerngruppe\nM-003;Kirch;Jo;4a\n", encoding="utf-8"
    )
    page.goto(site["url"] + "/admin/import")
    page.select_option("select[name=kind]", "patrons")
    page.set_input_files("input[name=file]", str(second))
    page.click("main button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=20000)
    assert "/admin/import/map/" not in page.url
    assert "新增 1" in page.inner_text("#import-summary")
    assert store.query("SELECT name, grade FROM patrons WHERE id = 'M-003'") == [
        {"name": "Jo Kirch", "grade": 4}
    ]


def test_the_librarian_downloads_the_school_for_koha(
    page: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    """The dashboard's Koha exports: the patron CSV and the catalogue as MARC 21 with 952s."""
    store = site["daemon"].store
    page.goto(site["url"] + "/admin/")
    form = page.locator("#koha-export")
    form.locator("input[name=branch]").fill("实验 1")  # not a Koha branch code
    form.locator("select[name=holdings]").select_option("852")
    exports = "SELECT count(*) FROM events WHERE type = 'export' AND data LIKE '%koha%'"
    before = store.value(exports)
    form.locator("button[value=patrons]").click()
    # Said beside the code, which stays as typed (with the field chosen), and nothing is exported.
    page.wait_for_selector("#branch-error")
    assert page.inner_text("#branch-error") == "Koha 分馆代码是 1 到 10 个字母、数字、- 或 _。"
    assert form.locator("input[name=branch]").input_value() == "实验 1"
    assert form.locator("select[name=holdings]").input_value() == "852"
    assert store.value(exports) == before
    form.locator("select[name=holdings]").select_option("952")
    form.locator("input[name=branch]").fill("SYXX")
    with page.expect_download() as info:
        form.locator("button[value=patrons]").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert store.value(exports) == before + 1
    rows = {r["userid"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (rows["H01"]["surname"], rows["H01"]["categorycode"]) == ("李小管", "ST")
    assert (rows["T01"]["surname"], rows["T01"]["categorycode"]) == ("王老师", "T")
    assert rows["H01"]["sort1"] == rows["S001"]["sort1"] == CLASS and "S099" not in rows
    assert {r["branchcode"] for r in rows.values()} == {"SYXX"}
    with page.expect_download() as info:
        form.locator("button[value=marc]").click()
    records = list(pymarc.MARCReader(Path(info.value.path()).read_bytes(), to_unicode=True))
    held = [(r.title, f) for r in records for f in r.get_fields("952")]
    copies = {f["p"]: (title, f.get("o"), f.get("a")) for title, f in held}
    items = store.query("SELECT barcode, title, call_number FROM items")
    assert copies == {i["barcode"]: (i["title"], i["call_number"] or None, "SYXX") for i in items}
