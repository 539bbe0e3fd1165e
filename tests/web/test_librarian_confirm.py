"""Actions that change a lot, or a person's borrowing, ask first on the demo school in Chromium:
the new school year says how many move up and leave (and warns out of season), block, card lost
and withdraw say what will happen; saying no changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.circulation.collection.promotion import usual_time
from web.chromium import answer_dialog
from web.librarian import Demo, demo_school, log_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("confirm"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def test_blocking_a_student_says_who_and_asks(page: Any, demo: Demo) -> None:
    s = demo.query(
        "SELECT p.id, p.name, count(l.uuid) AS n FROM patrons p JOIN loans l ON l.patron_id = p.id "
        "AND l.returned_at IS NULL WHERE p.role = 'student' AND p.status = 'active' "
        "GROUP BY p.id ORDER BY p.id LIMIT 1"
    )[0]
    page.goto(f"{demo.url}/admin/patrons/{s['id']}")
    asked = answer_dialog(page, accept=False)
    page.click("button[name=status][value=blocked]")
    words = f"停用 {s['name']} 的借书？恢复之前不能借书，还书照常。现在借着的书：{s['n']} 本。"
    assert asked == [words]

    def status() -> str:
        return str(demo.query("SELECT status FROM patrons WHERE id = ?", [s["id"]])[0][0])

    assert status() == "active"
    asked = answer_dialog(page, accept=True)
    page.click("button[name=status][value=blocked]")
    page.wait_for_selector(".flash")
    assert asked and status() == "blocked"


def test_reporting_a_card_lost_asks_with_its_number(page: Any, demo: Demo) -> None:
    c = demo.query(
        "SELECT c.code, p.id, p.name FROM cards c JOIN patrons p ON p.id = c.patron_id "
        "WHERE c.status = 'active' AND p.role = 'student' ORDER BY p.id LIMIT 1"
    )[0]
    page.goto(f"{demo.url}/admin/patrons/{c['id']}")
    asked = answer_dialog(page, accept=False)
    page.click("button:has-text('挂失')")
    assert asked and c["code"] in asked[0] and c["name"] in asked[0]
    assert demo.query("SELECT status FROM cards WHERE code = ?", [c["code"]])[0][0] == "active"


def test_withdrawing_a_book_asks_with_its_title(page: Any, demo: Demo) -> None:
    i = demo.query("SELECT barcode, title FROM items WHERE status = 'available' LIMIT 1")[0]
    page.goto(f"{demo.url}/admin/items/{i['barcode']}")
    asked = answer_dialog(page, accept=False)
    page.click("#item-withdraw button[type=submit]")
    assert asked == [
        f"注销《{i['title']}》（{i['barcode']}）？注销后它不再属于馆藏：自助机不再借出，盘点也不再查找它。"
    ]
    assert demo.query("SELECT status FROM items WHERE barcode = ?", [i["barcode"]])[0][0] == (
        "available"
    )
    # The collection page's form names the barcode typed.
    page.goto(f"{demo.url}/admin/collection/")
    page.fill("#withdraw-form input[name=barcode]", i["barcode"])
    asked = answer_dialog(page, accept=False)
    page.click("#withdraw-form button[type=submit]")
    assert asked and f"注销图书 {i['barcode']}？" in asked[0]
    assert demo.query("SELECT status FROM items WHERE barcode = ?", [i["barcode"]])[0][0] == (
        "available"
    )


def test_the_new_school_year_says_how_many_and_asks(page: Any, demo: Demo) -> None:
    students = demo.query(
        "SELECT p.grade, (SELECT count(*) FROM loans l WHERE l.patron_id = p.id "
        "AND l.returned_at IS NULL) AS loans FROM patrons p "
        "WHERE p.role IN ('student', 'helper') AND p.status = 'active'"
    )
    moves = sum(1 for s in students if s["grade"] < 6)
    leavers = sum(1 for s in students if s["grade"] == 6 and not s["loans"])
    kept = sum(1 for s in students if s["grade"] == 6 and s["loans"])
    assert moves > 500 and leavers and kept
    page.goto(demo.url + "/admin/collection/year")
    page.click("#promote")
    page.wait_for_selector("#promote-summary")
    summary = page.inner_text("#promote-summary")
    assert f"将把 {moves} 名学生升一年级，{leavers} 名毕业生离校。" in summary
    assert f"{kept} 名毕业生还有书未还" in summary
    # Out of season (June to September is the usual time) the page warns first.
    out_of_season = not usual_time(dt.date.today())
    assert page.locator("#season").count() == (1 if out_of_season else 0)
    assert not demo.query("SELECT 1 FROM events WHERE type = 'year_promoted'")
    page.click("text=取消")
    page.wait_for_url("**/admin/collection/year")
    assert not demo.query("SELECT 1 FROM events WHERE type = 'year_promoted'")
    page.click("#promote")
    page.click("#confirm")
    page.wait_for_selector(".flash")
    assert "新学年已开始：各班已升级。" in page.inner_text("main")
    assert len(demo.query("SELECT 1 FROM events WHERE type = 'year_promoted'")) == 1
