"""Words and order on the demo school in Chromium: classes in school order (一 before 二 before
三), names in pinyin order, locations and who did it in words, the events CSV without JSON.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from pypinyin import lazy_pinyin

from kiosk.i18n import translate
from web.librarian import Demo, demo_school, log_in

GRADES = "一二三四五六"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("words"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def _grade_of(class_name: str) -> int:
    return GRADES.index(class_name[0]) + 1


def _in_school_order(classes: list[str]) -> bool:
    keys = [(_grade_of(c), c[1:]) for c in classes]
    return keys == sorted(keys)


def test_classes_come_in_school_order_in_lists_and_prints(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/admin/collection/year")
    coverage = page.locator("#coverage tr td:first-child").all_inner_texts()
    assert coverage[:4] == ["一(1)班", "一(2)班", "一(3)班", "二(1)班"], coverage
    assert _in_school_order(coverage) and len(coverage) == 18
    page.goto(demo.url + "/admin/reports/non-borrowers?period=month")
    # A whole school's list is a table of classes; a shorter one a heading per class.
    headings = page.locator("section.card table.rows td:first-child a").all_inner_texts() or [
        h.split(" ")[0] for h in page.locator("section.card h2").all_inner_texts()
    ]
    assert len(headings) == 18 and _in_school_order(headings), headings
    page.goto(demo.url + "/admin/reports/overdue/print?level=1")
    titles = page.locator("section.page h1").all_inner_texts()
    printed = [next(c for c in GRADES if c in t) for t in titles]
    assert printed == sorted(printed, key=GRADES.index), titles
    page.goto(demo.url + "/admin/patrons")
    first = page.locator("table.rows tr td:nth-child(4)").all_inner_texts()
    assert first[0] == "" or first[0].startswith("一(1)")


def test_names_come_in_pinyin_order(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/admin/reports/non-borrowers?period=month&class=三(2)班")
    names = page.locator("section.card p a").all_inner_texts()
    assert len(names) > 3 and names == sorted(names, key=lambda n: (lazy_pinyin(n), n)), names
    page.goto(demo.url + "/admin/reports/class?class=三(2)班")
    names = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert len(names) > 20 and names == sorted(names, key=lambda n: (lazy_pinyin(n), n))


def test_the_library_is_a_word_on_the_book_page_and_in_messages(page: Any, demo: Demo) -> None:
    book = demo.query("SELECT barcode FROM items WHERE location = 'library' LIMIT 1")[0][0]
    page.goto(f"{demo.url}/admin/items/{book}")
    assert page.input_value("input[name=location]") == "图书馆"
    page.click("main form.card button[type=submit]")
    page.wait_for_selector(".flash")
    assert demo.query("SELECT location FROM items WHERE barcode = ?", [book])[0][0] == "library"
    message = "Counted: {title}. It belongs elsewhere: {location} {call_number}."
    said = translate(message, "zh_CN", title="小王子", location="library", call_number="I565")
    assert said == "已清点：小王子。这本书放错了地方，应在：图书馆 I565。"
    said = translate(message, "en", title="x", location="library", call_number="I565")
    assert said.endswith("It belongs elsewhere: Library I565.")


def test_who_did_it_is_in_words_in_the_lists_and_csv(page: Any, demo: Demo) -> None:
    book = demo.query("SELECT barcode FROM items WHERE status = 'available' LIMIT 1")[0][0]
    page.goto(f"{demo.url}/admin/items/{book}")
    page.click("#item-mark button[value=lost]")
    page.wait_for_selector(".flash")
    page.goto(demo.url + "/admin/collection/list/lost")
    row = page.locator(f"tr:has-text('{book}')").first.inner_text()
    assert "图书管理员 librarian" in row and "librarian:librarian" not in row
    text = page.request.get(demo.url + "/admin/collection/list/lost?format=csv").text()
    assert "图书管理员 librarian" in text and "librarian:librarian" not in text


def test_the_events_csv_says_its_details_in_words(page: Any, demo: Demo) -> None:
    text = page.request.get(demo.url + "/admin/export/events.csv").text().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    details = [r[-1] for r in rows[1:] if r[-1]]
    assert details and not [d for d in details if d.startswith("{")]
    assert any(d.startswith("应还时间: ") for d in details)
    assert "librarian:librarian" not in text


def test_the_overdue_list_calls_its_people_borrowers(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/admin/reports/overdue?level=1")
    staff = page.locator("section.card:has(#staff)")
    assert staff.locator("th", has_text="借阅人").count() == 1
    assert staff.locator("th", has_text="学生").count() == 0


# What a saved row or the rules looked like in the log before: Python's own notation of them,
# field names and scopes as stored ('role:student').
CODE = re.compile(r"[{}']|None|True|False|call_number|item_type|\b(role|grade|type):\w")


@pytest.mark.parametrize(
    ("lang", "row", "rule", "setting"),
    [
        ("zh_CN", "索书号: ", "(适用于: 身份 学生, 借期天数: 14", "每周闭馆日: 周六, 周日"),
        ("en", "call number: ", "(for: role student, loan days: 14", "closed weekdays: Sat, Sun"),
    ],
)
def test_the_log_shows_saved_rows_and_rules_in_words(
    page: Any, demo: Demo, lang: str, row: str, rule: str, setting: str
) -> None:
    book = demo.query(
        "SELECT barcode FROM items WHERE location = 'library' AND call_number != '' LIMIT 1"
    )[0][0]
    page.goto(f"{demo.url}/admin/items/{book}?lang={lang}")
    page.click("main form.card button[type=submit]")  # saved as it is: an item_saved event
    page.wait_for_selector(".flash")
    page.goto(f"{demo.url}/admin/events?type=item_saved&lang={lang}")
    saved = page.locator("td.data").first.inner_text()
    place = "馆藏地点: 图书馆" if lang == "zh_CN" else "location: Library"
    assert row in saved and place in saved, saved
    assert not CODE.search(saved), saved
    page.goto(f"{demo.url}/admin/events?type=rules_set&lang={lang}")
    rules = page.locator("td.data").first.inner_text()
    assert rule in rules and setting in rules, rules
    assert not CODE.search(rules), rules
    page.goto(f"{demo.url}/admin/events?type=patron_saved&lang={lang}")
    patron = page.locator("td.data").first.inner_text()
    assert ("身份: " if lang == "zh_CN" else "role: ") in patron
    assert not CODE.search(patron), patron
    # The CSV the page offers says the same, without JSON.
    text = page.request.get(f"{demo.url}/admin/export/events.csv?lang={lang}").text()
    details = [r[-1] for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))][1:]
    assert any(rule in d for d in details)
    assert not [d for d in details if '{"' in d or '"role' in d]
    page.goto(f"{demo.url}/admin/?lang=zh_CN")


def test_the_events_workbook_says_who_and_what_in_words_like_its_csv(page: Any, demo: Demo) -> None:
    body = page.request.get(demo.url + "/admin/export/events.xlsx").body()
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    who, data, kind = header.index("操作人"), header.index("数据"), header.index("类型")
    details = [r[data] for r in rows if r[data]]
    assert details and not [d for d in details if d.startswith("{")]
    rules = next(r for r in rows if r[kind] == "修改规则")
    assert rules[who] == "配置文件" and "(适用于: 身份 学生, 借期天数: 14" in rules[data]
    assert any(r[data].startswith("应还时间: ") for r in rows if r[kind] == "借书")
    assert not [r for r in rows if r[who] and ":" in r[who]]  # no librarian:li, no cli:root
    assert demo.query("SELECT actor FROM events WHERE type = 'rules_set' LIMIT 1")[0][0] == "config"
    page.goto(demo.url + "/admin/events?type=rules_set")
    assert page.locator("table.rows tr:nth-child(2) td:nth-child(4)").inner_text() == "配置文件"


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        (
            "/list/damaged",
            "没有等待修补的损坏图书。",
            "No damaged book is waiting to go to repair.",
        ),
        ("/list/in_repair", "没有正在修补的图书。", "No book is away for repair."),
        ("/list/withdrawn", "还没有注销的图书。", "No book has been withdrawn."),
        ("/holds", "没有预约：可以在上面为借出的图书登记预约。", "No book is on hold: place"),
    ],
)
def test_an_empty_collection_list_says_what_it_would_hold(
    page: Any, demo: Demo, path: str, zh: str, en: str
) -> None:
    status = {"/list/damaged": "damaged", "/list/in_repair": "in_repair"}.get(path, "withdrawn")
    assert demo.query("SELECT count(*) FROM items WHERE status = ?", [status])[0][0] == 0
    assert demo.query("SELECT count(*) FROM holds")[0][0] == 0
    page.goto(f"{demo.url}/admin/collection{path}?lang=zh_CN")
    assert page.inner_text("#empty") == zh
    page.goto(f"{demo.url}/admin/collection{path}?lang=en")
    assert page.inner_text("#empty").startswith(en)
    page.goto(f"{demo.url}/admin/?lang=zh_CN")
