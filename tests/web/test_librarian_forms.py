"""The librarian's forms on the demo school in Chromium: a name picked from a list found by
pinyin initials (holds, card replacement, corners), an error that keeps what was typed, a
corner's class chosen from the school's classes.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.circulation.collection import lost, weeding
from kiosk.circulation.stats.search import initials
from kiosk.cli.main import ROW_AT
from kiosk.i18n import translate
from web.chromium import wait_js
from web.librarian import Demo, demo_school, log_in

COLLECTION = "/admin/collection"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("forms"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def _options(page: Any, field: str) -> list[str]:
    return list(page.eval_on_selector_all(f"#{field}-names option", "os => os.map(o => o.value)"))


def _type_and_pick(page: Any, form: str, field: str, typed: str, wanted: str) -> None:
    """Type into a name field, wait for the list to offer `wanted`, and pick it."""
    page.fill(f"#{form} input[name={field}]", "")
    page.type(f"#{form} input[name={field}]", typed)
    options = f"[...document.querySelectorAll('#{field}-names option')]"
    wait_js(page, f"{options}.some(o => o.value === {wanted!r})")
    page.fill(f"#{form} input[name={field}]", wanted)  # what choosing from the list puts there


def _student_and_book(demo: Demo) -> tuple[Any, Any]:
    """Return a student whose pinyin initials are theirs alone, and a book someone else has."""
    students = demo.query(
        "SELECT id, name, class_name FROM patrons WHERE role = 'student' AND status = 'active' "
        "ORDER BY id"
    )
    counts: dict[str, int] = {}
    for s in students:
        counts[initials(s["name"])] = counts.get(initials(s["name"]), 0) + 1
    student = next(s for s in students if counts[initials(s["name"])] == 1)
    book = demo.query(
        "SELECT item_barcode FROM loans WHERE returned_at IS NULL AND patron_id != ? LIMIT 1",
        [student["id"]],
    )[0]
    return student, book


def test_a_hold_for_a_name_picked_by_its_pinyin_initials(page: Any, demo: Demo) -> None:
    student, book = _student_and_book(demo)
    label = f"{student['name']} {student['class_name']} ({student['id']})"
    page.goto(demo.url + COLLECTION + "/holds")
    page.fill("#hold-form input[name=barcode]", book["item_barcode"])
    _type_and_pick(page, "hold-form", "patron_id", initials(student["name"]), label)
    page.click("#hold-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "预约成功。" in page.inner_text(".flash")
    held = demo.query(
        "SELECT patron_id FROM holds WHERE item_barcode = ? AND status = 'waiting'",
        [book["item_barcode"]],
    )
    assert [h["patron_id"] for h in held] == [student["id"]]
    assert student["name"] in page.inner_text("#holds")


def test_a_refused_hold_keeps_what_was_typed(page: Any, demo: Demo) -> None:
    student, _ = _student_and_book(demo)
    label = f"{student['name']} {student['class_name']} ({student['id']})"
    before = demo.query("SELECT count(*) FROM holds")[0][0]
    page.goto(demo.url + COLLECTION + "/holds")
    page.fill("#hold-form input[name=barcode]", "NO-SUCH-BOOK")
    page.fill("#hold-form input[name=patron_id]", label)
    page.click("#hold-form button[type=submit]")
    page.wait_for_selector(".flash.error")
    assert "没有条码为 NO-SUCH-BOOK 的书。" in page.inner_text(".flash.error")
    assert page.input_value("#hold-form input[name=barcode]") == "NO-SUCH-BOOK"
    assert page.input_value("#hold-form input[name=patron_id]") == label
    assert demo.query("SELECT count(*) FROM holds")[0][0] == before


def test_a_name_two_people_share_asks_which(page: Any, demo: Demo) -> None:
    twins = demo.query(
        "SELECT name, count(*) AS n FROM patrons GROUP BY name HAVING n > 1 ORDER BY name LIMIT 1"
    )[0]
    page.goto(demo.url + COLLECTION + "/holds")
    page.fill("#hold-form input[name=barcode]", "NO-SUCH-BOOK")
    page.fill("#hold-form input[name=patron_id]", twins["name"])
    page.click("#hold-form button[type=submit]")
    page.wait_for_selector(".flash.error")
    assert f"有 {twins['n']} 人符合“{twins['name']}”：请从列表中选一位。" in page.inner_text("main")
    assert len(_options(page, "patron_id")) == twins["n"]
    assert page.input_value("#hold-form input[name=patron_id]") == twins["name"]


def test_a_refused_withdrawal_keeps_its_note(page: Any, demo: Demo) -> None:
    page.goto(demo.url + COLLECTION + "/")
    page.fill("#withdraw-form input[name=barcode]", "NO-SUCH-BOOK")
    page.select_option("#withdraw-form select[name=reason]", index=1)
    reason = page.input_value("#withdraw-form select[name=reason]")
    page.fill("#withdraw-form input[name=note]", "封面撕破，家长已赔")
    page.once("dialog", lambda d: d.accept())
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_selector(".flash.error")
    assert page.input_value("#withdraw-form input[name=barcode]") == "NO-SUCH-BOOK"
    assert page.input_value("#withdraw-form select[name=reason]") == reason
    assert page.input_value("#withdraw-form input[name=note]") == "封面撕破，家长已赔"


def test_a_refused_patron_keeps_what_was_typed_and_says_why_beside_the_field(
    page: Any, demo: Demo
) -> None:
    who = demo.query("SELECT * FROM patrons WHERE role = 'student' AND grade = 3 LIMIT 1")[0]
    page.goto(f"{demo.url}/admin/patrons/{who['id']}")
    form = "#patron-details"
    page.fill(f"{form} input[name=class_name]", "四(3)班")
    page.select_option(f"{form} select[name=role]", "helper")
    page.fill(f"{form} input[name=grade]", "四年级")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".flash.error")
    # What was typed is still there, and the grade says what is wrong beside it.
    assert page.input_value(f"{form} input[name=class_name]") == "四(3)班"
    assert page.input_value(f"{form} select[name=role]") == "helper"
    assert page.input_value(f"{form} input[name=grade]") == "四年级"
    assert page.inner_text("#grade-error") == "年级请填数字，例如 3，或者留空。"
    assert page.get_attribute(f"{form} input[name=grade]", "aria-invalid") == "true"
    assert page.locator(".field-error").count() == 1
    stored = demo.query("SELECT class_name, role, grade FROM patrons WHERE id = ?", [who["id"]])
    assert dict(stored[0]) == {"class_name": who["class_name"], "role": "student", "grade": 3}
    # A name emptied is said beside the name; then put right, it is saved.
    page.fill(f"{form} input[name=name]", "")
    page.fill(f"{form} input[name=grade]", "4")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#name-error")
    assert page.inner_text("#name-error") == "请填写读者的姓名。"
    assert page.locator("#grade-error").count() == 0
    assert page.input_value(f"{form} input[name=class_name]") == "四(3)班"
    page.fill(f"{form} input[name=name]", who["name"])
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".flash:not(.error)")
    stored = demo.query(
        "SELECT name, class_name, role, grade FROM patrons WHERE id = ?", [who["id"]]
    )
    assert dict(stored[0]) == {
        "name": who["name"],
        "class_name": "四(3)班",
        "role": "helper",
        "grade": 4,
    }


def test_a_refused_withdrawal_on_the_books_page_keeps_its_note(page: Any, demo: Demo) -> None:
    barcode = demo.query("SELECT item_barcode FROM loans WHERE returned_at IS NULL LIMIT 1")[0][0]
    page.goto(f"{demo.url}/admin/items/{barcode}")
    page.select_option("#item-withdraw select[name=reason]", "outdated")
    page.fill("#item-withdraw input[name=note]", "内容过时，换新版")
    page.once("dialog", lambda d: d.accept())
    with page.expect_response(lambda r: r.url.endswith("/item/withdraw")) as sent:
        page.click("#item-withdraw button[type=submit]")
    assert sent.value.status == 400
    page.wait_for_selector(".flash.error")
    said = translate(weeding.MESSAGES["on_loan"], "zh_CN")
    assert said in page.inner_text(".flash.error")
    assert barcode in page.inner_text("h1")  # still the book's own page
    assert page.input_value("#item-withdraw select[name=reason]") == "outdated"
    assert page.input_value("#item-withdraw input[name=note]") == "内容过时，换新版"
    assert demo.query("SELECT status FROM items WHERE barcode = ?", [barcode])[0][0] == "on_loan"
    withdrawals = "SELECT count(*) FROM withdrawals WHERE item_barcode = ?"
    assert demo.query(withdrawals, [barcode])[0][0] == 0
    open_loans = "SELECT count(*) FROM loans WHERE item_barcode = ? AND returned_at IS NULL"
    assert demo.query(open_loans, [barcode])[0][0] == 1


def test_a_refused_mark_on_the_books_page_keeps_its_note(page: Any, demo: Demo) -> None:
    fresh = (
        "SELECT barcode FROM items WHERE status = 'available' "
        "AND barcode NOT IN (SELECT item_barcode FROM incidents) LIMIT 1"
    )
    barcode = demo.query(fresh)[0][0]
    page.goto(f"{demo.url}/admin/items/{barcode}")
    page.fill("#item-mark input[name=note]", "封面撕破了一半")
    # Meanwhile another tab marks it damaged: this page's button is out of date.
    other = page.context.new_page()
    other.goto(f"{demo.url}/admin/items/{barcode}")
    other.click("#item-mark button[value=damaged]")
    other.wait_for_selector(".flash:not(.error)")
    other.close()
    assert demo.query("SELECT status FROM items WHERE barcode = ?", [barcode])[0][0] == "damaged"
    with page.expect_response(lambda r: r.url.endswith("/item/mark")) as sent:
        page.click("#item-mark button[value=damaged]")
    assert sent.value.status == 400
    page.wait_for_selector(".flash.error")
    said = translate(lost.MESSAGES["already_damaged"], "zh_CN")
    assert said in page.inner_text(".flash.error")
    assert barcode in page.inner_text("h1")  # still the book's own page
    assert page.input_value("#item-mark input[name=note]") == "封面撕破了一半"
    assert page.input_value("#item-withdraw input[name=note]") == ""  # only the form sent
    incidents = "SELECT kind, note FROM incidents WHERE item_barcode = ?"
    assert [tuple(r) for r in demo.query(incidents, [barcode])] == [("damaged", "")]


# Four books, the third without a title: the whole file is refused, and said to be four rows.
FOUR_ROWS = "条码号,题名\nR-001,小王子\nR-002,草房子\nR-003,\nR-004,城南旧事\n"
RESULT = "SELECT count(*) FROM items WHERE barcode LIKE 'R-00%'"


def test_a_refused_import_says_how_many_rows_it_read(page: Any, demo: Demo, tmp_path: Path) -> None:
    csv_file = tmp_path / "新书.csv"
    csv_file.write_text(FOUR_ROWS, encoding="utf-8")
    page.goto(demo.url + "/admin/import")
    page.select_option("main select[name=kind]", "items")
    page.set_input_files("main input[name=file]", str(csv_file))
    page.click("main form button[type=submit]")
    page.wait_for_selector("#import-summary.error")
    summary = page.inner_text("#import-summary")
    assert "图书：读取 4 行（UTF-8）" in summary, summary
    assert "读取 0 行" not in summary
    cells = page.eval_on_selector_all("#import-errors td", "cs => cs.map(c => c.innerText)")
    assert cells[0] == "4", cells  # the row to fix, as Excel numbers it (the header is 1)
    assert demo.query(RESULT)[0][0] == 0


@pytest.mark.parametrize(
    ("lang", "said", "refused"),
    [
        (
            "zh_CN",
            "图书：读取 4 行（UTF-8）：新增 0，更新 0，未变 0",
            "有 1 行有错误，未导入任何数据",
        ),
        (
            "en",
            "items: 4 rows read (UTF-8): 0 new, 0 updated, 0 unchanged",
            "1 bad row, nothing imported",  # one row: the singular
        ),
    ],
)
def test_a_refused_import_at_the_command_line_says_how_many_rows_it_read(
    demo: Demo, tmp_path: Path, lang: str, said: str, refused: str
) -> None:
    csv_file = tmp_path / "books.csv"
    csv_file.write_text(FOUR_ROWS, encoding="utf-8")
    kiosk = Path(sys.executable).parent / "kiosk"
    config = demo.db.parent / "config.toml"  # the demo school's, beside its store
    done = subprocess.run(
        [str(kiosk), "--config", str(config), "import", "items", str(csv_file)],
        env={**os.environ, "KIOSK_LANG": lang},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1
    told = done.stderr.decode().splitlines()
    bad_row = translate(ROW_AT, lang, file=csv_file, row=4, reason="")
    assert told[0].startswith(bad_row), told
    assert told[1] == said and len(told) == 3, told
    assert told[2].endswith(refused), told
    assert demo.query(RESULT)[0][0] == 0


def test_a_corner_is_lent_to_a_class_from_the_list_by_a_picked_teacher(
    page: Any, demo: Demo
) -> None:
    teacher = demo.query(
        "SELECT id, name, class_name FROM patrons WHERE role = 'teacher' AND class_name = '三(2)班'"
    )[0]
    books = demo.query(
        "SELECT barcode FROM items i WHERE status = 'available' AND NOT EXISTS "
        "(SELECT 1 FROM loans l WHERE l.item_barcode = i.barcode AND l.returned_at IS NULL) "
        "ORDER BY barcode LIMIT 3"
    )
    out = "SELECT count(*) FROM loans WHERE returned_at IS NULL AND patron_id = ?"
    before = demo.query(out, [teacher["id"]])[0][0]
    page.goto(demo.url + COLLECTION + "/corners")
    classes = page.eval_on_selector_all(
        "#corner-form select[name=class_name] option", "os => os.map(o => o.value)"
    )[1:]
    assert classes[:4] == ["一(1)班", "一(2)班", "一(3)班", "二(1)班"] and "三(2)班" in classes
    page.select_option("#corner-form select[name=class_name]", "三(2)班")
    label = f"{teacher['name']} 三(2)班 ({teacher['id']})"
    _type_and_pick(page, "corner-form", "responsible", teacher["name"], label)
    page.fill("#corner-form textarea[name=barcodes]", "\n".join(b["barcode"] for b in books))
    page.click("#corner-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "error" not in (page.get_attribute(".flash", "class") or "")
    assert demo.query(out, [teacher["id"]])[0][0] == before + 3
    assert "三(2)班" in page.inner_text("#corners-out")


def test_holidays_take_a_range_and_show_it_as_one(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/admin/rules")
    page.fill("textarea[name=closed_days]", "2026-10-01 至 2026-10-07\n2026-12-25")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "规则已保存。" in page.inner_text(".flash")
    days = [r[0] for r in demo.query("SELECT day FROM closed_days ORDER BY day")]
    assert days == [f"2026-10-0{d}" for d in range(1, 8)] + ["2026-12-25"]
    page.goto(demo.url + "/admin/rules")
    assert page.input_value("textarea[name=closed_days]") == "2026-10-01 ~ 2026-10-07\n2026-12-25"
    # A range backwards is named beside the field and changes nothing.
    page.fill("textarea[name=closed_days]", "2026-10-07 - 2026-10-01")
    page.click("main form button[type=submit]")
    assert "第 1 行：2026-10-07 - 2026-10-01 要先写开始日再写结束日" in page.inner_text("main")
    assert page.input_value("textarea[name=closed_days]") == "2026-10-07 - 2026-10-01"
    assert len(demo.query("SELECT day FROM closed_days")) == 8


def test_holiday_loans_refused_keep_the_ticks_and_say_which_grade(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/admin/rules")
    end = dt.date.fromisoformat(page.input_value("input[name=term_end]"))
    after, before = (
        (end + dt.timedelta(days=10)).isoformat(),
        (end - dt.timedelta(days=5)).isoformat(),
    )
    page.goto(demo.url + COLLECTION + "/year")
    form = "#holidays form"
    page.check(f"{form} input[name=on_3]")
    page.fill(f"{form} input[name=due_3]", after)
    page.check(f"{form} input[name=on_4]")  # ticked, its date forgotten
    page.check(f"{form} input[name=on_5]")
    page.fill(f"{form} input[name=due_5]", before)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".flash.error")
    # The grade without a date is said beside its date; nothing is saved, nothing is lost.
    assert page.inner_text("#due_4-error") == "4 年级：请填写假期借阅的应还日期。"
    assert page.get_attribute(f"{form} input[name=due_4]", "aria-invalid") == "true"
    assert page.is_checked(f"{form} input[name=on_3]") and page.is_checked(
        f"{form} input[name=on_4]"
    )
    assert page.input_value(f"{form} input[name=due_3]") == after
    assert page.input_value(f"{form} input[name=due_5]") == before
    assert demo.query("SELECT * FROM holiday_loans") == []
    # With its date, the next problem is the date inside the term, beside grade 5.
    page.fill(f"{form} input[name=due_4]", after)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#due_5-error")
    assert f"5 年级：假期应还日期必须在学期末（{end.isoformat()}）之后。" == page.inner_text(
        "#due_5-error"
    )
    assert page.locator(".field-error").count() == 1
    assert page.input_value(f"{form} input[name=due_4]") == after
    assert demo.query("SELECT * FROM holiday_loans") == []
    page.fill(f"{form} input[name=due_5]", after)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".flash:not(.error)")
    assert "假期借阅已保存" in page.inner_text(".flash")
    stored = demo.query("SELECT grade, due_on FROM holiday_loans ORDER BY grade")
    assert [tuple(r) for r in stored] == [(3, after), (4, after), (5, after)]
    assert page.is_checked(f"{form} input[name=on_5]")


def test_the_surplus_list_is_weeded_in_one_step_after_a_question(page: Any, demo: Demo) -> None:
    page.goto(demo.url + COLLECTION + "/surplus")
    page.click("#weed-all")
    page.wait_for_selector("#weed-summary")
    chosen = page.eval_on_selector_all("#weed input[name=barcode]", "xs => xs.map(x => x.value)")
    assert chosen and f"将注销 {len(chosen)} 本多余复本" in page.inner_text("#weed-summary")
    placeholders = ",".join("?" * len(chosen))
    before = demo.query(f"SELECT count(*) FROM items WHERE barcode IN ({placeholders}) "
                        "AND status = 'withdrawn'", chosen)[0][0]  # fmt: skip
    assert before == 0
    # Never a copy that is out, and every title keeps a copy that is not withdrawn.
    out = demo.query(
        "SELECT count(*) FROM loans WHERE returned_at IS NULL "
        f"AND item_barcode IN ({placeholders})",
        chosen,
    )[0][0]
    assert out == 0
    # The answer is on the first screen, above the list of thousands of copies.
    box = page.locator("#confirm").bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"], box
    assert page.evaluate("window.scrollY") == 0
    page.click("#confirm")
    page.wait_for_selector(".flash")
    assert f"已注销复本：{len(chosen)} 本" in page.inner_text(".flash")
    rows = demo.query(
        f"SELECT w.reason, i.status FROM withdrawals w JOIN items i ON i.barcode = w.item_barcode "
        f"WHERE w.item_barcode IN ({placeholders})",
        chosen,
    )
    assert len(rows) == len(chosen) and {(r[0], r[1]) for r in rows} == {("surplus", "withdrawn")}
    kept = demo.query(
        "SELECT count(*) FROM (SELECT coalesce(nullif(isbn, ''), title) AS k, "
        "sum(status != 'withdrawn') AS left FROM items GROUP BY k) WHERE left = 0"
    )[0][0]
    assert kept == 0


def test_a_handheld_scanners_file_counts_as_a_stocktake(page: Any, demo: Demo) -> None:
    shelf = [
        r[0]
        for r in demo.query(
            "SELECT barcode FROM items i WHERE location = 'library' AND status = 'available' "
            "AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.item_barcode = i.barcode "
            "AND l.returned_at IS NULL) ORDER BY barcode LIMIT 3"
        )
    ]
    page.goto(demo.url + COLLECTION + "/")
    page.fill("#start-stocktake input[name=location]", "图书馆")
    page.click("#start-stocktake button[type=submit]")
    page.wait_for_selector("#scanner-file")
    # What a scanner saves: a barcode a line, some with the time after a comma, a blank line.
    lines = [shelf[0], f"{shelf[1]},2026-12-01 10:02:03", "", f"{shelf[2]}\t1", "NO-SUCH-BOOK"]
    blob = ("\ufeff" + "\r\n".join(lines)).encode("utf-8")
    page.set_input_files(
        "#scanner-file input[type=file]",
        {"name": "scans.txt", "mimeType": "text/plain", "buffer": blob},
    )
    page.click("#scanner-file button[type=submit]")
    page.wait_for_selector(".flash")
    assert "已从扫描器文件清点：4 个条码。" in page.inner_text(".flash")
    st = demo.query("SELECT id FROM stocktakes WHERE status = 'open'")[0][0]
    scanned = {
        r[0] for r in demo.query("SELECT barcode FROM stocktake_scans WHERE stocktake_id = ?", [st])
    }
    assert scanned == {*shelf, "NO-SUCH-BOOK"}
    page.goto(f"{demo.url}{COLLECTION}/stocktake/{st}?status=unknown")
    assert page.locator("#report tr[data-barcode='NO-SUCH-BOOK']").count() == 1
    # An empty file is named and counts nothing.
    page.goto(demo.url + COLLECTION + "/")
    page.set_input_files(
        "#scanner-file input[type=file]",
        {"name": "empty.txt", "mimeType": "text/plain", "buffer": b"\r\n\r\n"},
    )
    page.click("#scanner-file button[type=submit]")
    page.wait_for_selector(".flash.error")
    assert "文件里没有条码" in page.inner_text(".flash.error")
    page.click("form[action$='/stocktake/finished'] button[type=submit]")
    page.wait_for_selector("#start-stocktake")
