"""Item types, as the librarian and a child meet them: on a running daemon, in headless Chromium.

The librarian gives magazines a limit of one at a time and makes a type of her own on the
dashboard, then gives books their types on their pages; a type of hers that a book still has is
not removed (the page says why beside it), and once no book has it, it goes. At the kiosk
(FIFO scans) a child is
refused the dictionary with its own message, borrows a magazine due in a week, and is refused a
second magazine with a message naming the type. The store is read after each step.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.circulation.records import put_item, put_patron
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, answer_dialog, wait_js, watch_errors
from web.helpers import fifo_settings, running, scan
from web.layout import problems
from web.librarian import log_in

pytestmark = pytest.mark.timeout(120)

CARD = "0F00A1B2C3"
BOOKS = [
    ("R-1", "新华字典"),
    ("M-1", "儿童文学 2026年10月"),
    ("M-2", "我们爱科学 2026年10月"),
    ("B-1", "小王子"),
    ("C-1", "西游记（连环画）"),
]


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon (FIFO scans, pages on loopback) with one student and four books."""
    folder = tmp_path_factory.mktemp("types")
    settings, fifo = fifo_settings(folder, kiosk={"session_timeout_s": 60.0})
    store = open_store(settings)
    with store.write() as db:
        row = {
            "id": "S001",
            "name": "王小明",
            "role": "student",
            "grade": 3,
            "class_name": "三(2)班",
        }
        put_patron(db, row, [CARD], store.now())
        for barcode, title in BOOKS:
            put_item(db, {"barcode": barcode, "title": title}, store.now())
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w") as fifo_out:
        db = Path(settings.resolve(settings.store.path))
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "db": db}


def query(kiosk: dict[str, Any], sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{kiosk['db']}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def _give_type(page: Any, url: str, barcode: str, kind: str) -> None:
    page.goto(f"{url}/admin/items/{barcode}")
    page.select_option("#item-type select[name=item_type]", kind)
    page.click("#item-type button[type=submit]")
    page.wait_for_url(f"**/admin/items/{barcode}")


def _removed(kiosk: dict[str, Any], key: str) -> tuple[int, list[tuple[Any, ...]]]:
    """Return whether the type's rules row is there (1) and who removed it, from the log."""
    (row,) = query(kiosk, "SELECT count(*) FROM rules WHERE scope = ?", [f"type:{key}"])
    who = query(
        kiosk,
        "SELECT actor FROM events "
        "WHERE type = 'item_type_removed' AND json_extract(data, '$.scope') = ?",
        [f"type:{key}"],
    )
    return row[0], who


def test_the_librarian_sets_types_and_the_kiosk_keeps_them(
    browser: Any, kiosk: dict[str, Any]
) -> None:
    url = kiosk["url"]
    page = log_in(browser, url)
    errors = watch_errors(page)
    page.goto(url + "/admin/rules")
    page.click("#item-types-link")
    rows = page.inner_text("#item-types")
    assert "普通图书" in rows and "工具书" in rows and "报刊杂志" in rows
    assert "否，只在馆内阅读" in page.inner_text("#item-types tr[data-type=reference]")

    # A typo is named beside its field, what was typed stays, and nothing changes.
    page.click("#item-types tr[data-type=magazine] a")
    page.fill("input[name=max_loans]", "一")
    page.fill("input[name=loan_days]", "7")
    page.click("#item-type-form button[type=submit]")
    assert page.inner_text("#max_loans-error") == "请写一个整数，例如 2。"
    assert page.input_value("input[name=max_loans]") == "一"
    assert page.input_value("input[name=loan_days]") == "7"
    assert query(kiosk, "SELECT count(*) FROM rules WHERE scope LIKE 'type:%'") == [(0,)]
    page.fill("input[name=max_loans]", "1")
    page.click("#item-type-form button[type=submit]")
    page.wait_for_url("**/admin/rules/types")
    cells = page.locator("#item-types tr[data-type=magazine] td")
    assert [cells.nth(n).inner_text() for n in range(5)] == ["报刊杂志", "是", "7", "1", "0"]
    assert query(
        kiosk,
        "SELECT lendable, loan_days, max_loans, renewals FROM rules WHERE scope = ?",
        ["type:magazine"],
    ) == [(1, 7, 1, 0)]

    # A type of her own: a name no other type has, then its loan days.
    page.fill("input[name=name]", "报刊杂志")
    page.click("#item-type-form button[type=submit]")
    assert page.inner_text("#name-error") == "已经有一个叫 报刊杂志 的类型了。"
    page.fill("input[name=name]", "绘本")
    page.fill("input[name=loan_days]", "10")
    page.click("#item-type-form button[type=submit]")
    page.wait_for_url("**/admin/rules/types")
    assert "绘本" in page.inner_text("#item-types")
    (key,) = query(kiosk, "SELECT substr(scope, 6) FROM rules WHERE name = '绘本'")[0]

    # Each book's type on its own page.
    for barcode, kind in (
        ("R-1", "reference"),
        ("M-1", "magazine"),
        ("M-2", "magazine"),
        ("B-1", key),
    ):
        page.goto(f"{url}/admin/items/{barcode}")
        page.select_option("#item-type select[name=item_type]", kind)
        page.click("#item-type button[type=submit]")
        page.wait_for_url(f"**/admin/items/{barcode}")
    assert page.inner_text("#item-type-shown") == "绘本"
    page.goto(f"{url}/admin/items/R-1")
    assert page.inner_text("#item-type-shown") == "工具书"
    assert dict(query(kiosk, "SELECT barcode, item_type FROM items")) == {
        "R-1": "reference",
        "M-1": "magazine",
        "M-2": "magazine",
        "B-1": key,
        "C-1": "book",
    }

    # A type of hers that a book has stays when she removes it, and the page says why.
    page.goto(url + "/admin/rules/types")
    page.fill("input[name=name]", "连环画")
    page.click("#item-type-form button[type=submit]")
    page.wait_for_url("**/admin/rules/types")
    (comics,) = query(kiosk, "SELECT substr(scope, 6) FROM rules WHERE name = '连环画'")[0]
    _give_type(page, url, "C-1", comics)
    page.goto(url + "/admin/rules/types")
    assert page.locator("#item-types tr[data-type=book] .remove-type").count() == 0
    remove = f"#item-types tr[data-type={comics}] .remove-type button"
    assert page.inner_text(remove) == "删除 连环画"
    asked = answer_dialog(page, accept=False)
    page.click(remove)
    assert asked == ["删除图书类型 连环画？删除后不能再给书设这个类型；以后可以重新添加。"]
    asked = answer_dialog(page, accept=True)
    page.click(remove)
    page.wait_for_selector(f"#remove-{comics}-error")
    said = page.inner_text(f"#remove-{comics}-error")
    assert said == "还有 1 本书是这个类型：先给书换一个别的类型。"
    assert asked and _removed(kiosk, comics) == (1, [])
    assert_accessible(page, "the types page with a refused removal")
    # Given another type, the book no longer holds it: removed, and the page says so.
    _give_type(page, url, "C-1", "book")
    page.goto(url + "/admin/rules/types")
    answer_dialog(page, accept=True)
    page.click(remove)
    page.wait_for_selector(".flash")
    assert page.inner_text(".flash") == "已删除图书类型 连环画。"
    assert "连环画" not in page.inner_text("#item-types")
    assert _removed(kiosk, comics) == (0, [("librarian:librarian",)])
    # The three refused forms answer 400, as they should; nothing else went wrong on the pages.
    assert [e for e in errors if "status of 400" not in e] == []
    page.context.close()

    # At the kiosk: the child taps the card and scans the dictionary.
    screen = browser.new_page(viewport={"width": 800, "height": 480})
    screen_errors = watch_errors(screen)
    screen.goto(url + "/")
    wait_js(screen, "window.kioskEvents && window.kioskEvents.length > 0")
    scan(kiosk, CARD, "R-1")
    screen.wait_for_selector("#last.error", timeout=5000)
    assert screen.inner_text("#last-title") == "新华字典"
    assert screen.inner_text("#last-message") == "这是工具书，只能在图书馆里看。"
    assert query(kiosk, "SELECT count(*) FROM loans WHERE item_barcode = 'R-1'") == [(0,)]

    # A magazine: lent, due a week from today (a closed day moves it to the next open one).
    scan(kiosk, "M-1")
    screen.wait_for_selector("#last.ok", timeout=5000)
    due = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=7)
    while due.isoweekday() in (6, 7):
        due += dt.timedelta(days=1)
    assert screen.inner_text("#last-message") == f"借书成功！请在 {due.isoformat()} 前归还。"
    assert "报刊杂志" in screen.inner_text("#loans")
    (due_at,) = query(kiosk, "SELECT due_at FROM loans WHERE item_barcode = 'M-1'")[0]
    local_due = dt.datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    assert local_due.astimezone(ZoneInfo("Asia/Shanghai")).date() == due

    # A second magazine: over the type's limit, though the student may have two books.
    scan(kiosk, "M-2")
    wait_js(screen, "document.querySelector('#last-title').textContent === '我们爱科学 2026年10月'")
    assert screen.inner_text("#last-message") == "报刊杂志一次只能借 1 本，先还一本再借吧。"
    assert query(kiosk, "SELECT item_barcode FROM loans WHERE returned_at IS NULL") == [("M-1",)]
    assert problems(screen) == []
    ARTIFACTS.mkdir(exist_ok=True)
    screen.screenshot(path=str(ARTIFACTS / "screen-item-types-800x480.png"))
    screen.click("#lang")
    assert screen.inner_text("#last-message") == "Magazine: only 1 at a time. Return one first."
    assert "Magazine" in screen.inner_text("#loans")
    assert problems(screen) == []
    screen.screenshot(path=str(ARTIFACTS / "screen-item-types-english-800x480.png"))
    # The picture book of her own type: lent by its own rules beside the magazine.
    scan(kiosk, "B-1")
    wait_js(screen, "document.querySelector('#last-title').textContent === '小王子'")
    assert "#last.ok" and screen.is_visible("#last.ok")
    assert screen_errors == []
    screen.close()
