"""End to end in a real headless Chromium: a real daemon, a FIFO scan source, waitress on loopback.

The browser (one for the whole module keeps this fast) and the running kiosk are fixtures of
conftest.py. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.helpers import PASSWORD, scan

SIZES = [(800, 480), (1024, 600), (1280, 800)]


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        wait_js(page, f"innerWidth === {w} && innerHeight === {h}")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{w}x{h}.png"))


def test_a_scan_appears_on_the_touchscreen_and_the_page_clears(
    browser: Any, kiosk: dict[str, Any]
) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 600})
    errors = watch_errors(page)
    page.goto(kiosk["url"] + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    assert page.is_visible("#tap h1 >> text=请刷卡借书")
    shoot(page, "screen-idle")
    page.set_viewport_size({"width": 1024, "height": 600})
    scan(kiosk, "0F00A1B2C3", "9787020002207")
    page.wait_for_selector("#last.ok", timeout=5000)
    assert page.inner_text("#patron-name") == "小明"
    assert page.inner_text("#patron-class") == "三(2)班"
    assert page.inner_text("#last-title") == "红楼梦"
    assert "借书成功" in page.inner_text("#last-message")
    assert "红楼梦" in page.inner_text("#loans")
    scan(kiosk, "9787535449450", "9787020024759")  # the third one is over the limit of two
    page.wait_for_selector("#last.error", timeout=5000)
    assert page.inner_text("#last-title") == "西游记"
    assert page.inner_text("#last-message") == "你已经借了 2 本书，请先还一本再借。"
    shoot(page, "screen-session")
    page.click("#lang")
    assert page.inner_text("#last-message") == "You already have 2 books. Return one first."
    page.set_viewport_size({"width": 800, "height": 480})
    page.screenshot(path=str(ARTIFACTS / "screen-session-english-800x480.png"))
    page.click("#lang")
    # No more scans: the session times out and nothing of the student stays on the screen.
    page.wait_for_selector("#idle:not([hidden])", timeout=8000)
    assert page.inner_text("#patron-name") == ""
    assert page.inner_text("#results") == ""
    assert "红楼梦" not in page.inner_text("body").replace(page.inner_text("#new-books"), "")
    assert errors == []
    page.close()


def test_done_button_ends_the_session(browser: Any, kiosk: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(kiosk["url"] + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    scan(kiosk, "0F00A1B2C5")
    page.wait_for_selector("#session:not([hidden])", timeout=5000)
    assert page.inner_text("#patron-name") == "Tom"
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])", timeout=3000)
    assert kiosk["daemon"].kiosk.mode == "idle"
    page.close()


def test_librarian_logs_in_imports_a_csv_and_prints_overdue(
    browser: Any, kiosk: dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(kiosk["url"] + "/admin/")
    assert page.url.endswith("/admin/setup")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=again]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=user]", "librarian")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.is_visible("text=本学期每天借书量")
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard-1280x800.png"), full_page=True)
    # A book returned at the kiosk shows up in "today" without a reload.
    page.wait_for_selector("#live:not([hidden])")
    assert page.inner_text("#today .numbers div:nth-child(2) b") == "0"
    scan(kiosk, "9787020002207")
    returns = "#today .numbers div:nth-child(2) b"
    wait_js(page, f"document.querySelector('{returns}').textContent === '1'")
    assert page.inner_text(returns) == "1"
    csv_file = kiosk["folder"] / "books.csv"
    csv_file.write_text(
        "barcode,title,author\n9787101003048,史记,司马迁\n9787020008735,水浒传,施耐庵\n",
        encoding="utf-8",
    )
    page.goto(kiosk["url"] + "/admin/import")
    page.select_option("select[name=kind]", "items")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("main button[type=submit]")
    page.wait_for_selector("#import-summary:not([hidden])", timeout=10000)
    summary = page.inner_text("#import-summary")
    assert "2" in summary
    assert page.is_hidden("#import-errors")
    page.screenshot(path=str(ARTIFACTS / "admin-import-1280x800.png"))
    page.goto(kiosk["url"] + "/admin/overdue/print")  # the old address leads to the report's
    assert page.url.endswith("/admin/reports/overdue/print")
    notices = page.locator("section.page")
    assert notices.count() == 2
    assert "四(1)班图书馆催还通知" in notices.nth(0).inner_text()
    assert "草房子" in notices.nth(0).inner_text()
    assert "五(1)班图书馆催还通知" in notices.nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-overdue-print-1280x800.png"))
    page.emulate_media(media="print")
    assert page.is_hidden("button")  # the print button does not print
    assert errors == []
    context.close()


def test_a_helper_returns_a_book_on_the_desk_keypad_and_undoes_it(
    browser: Any, kiosk: dict[str, Any]
) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 600})
    page.goto(kiosk["url"] + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    scan(kiosk, "0F00AAAA01")
    page.wait_for_selector("#open-desk:not([hidden])", timeout=5000)
    page.click("#open-desk")
    page.wait_for_selector("#keypad")
    assert "操作人：晨" in page.inner_text("header")
    # The desk's stream is connected: the answers to what the helper types will show.
    page.wait_for_selector("body[data-stream=open]", state="attached")
    for key in "9787530215982":
        page.click(f'.keys button[data-key="{key}"]')
    page.click(".enter")
    page.wait_for_selector("#results li.ok", timeout=5000)
    assert "草房子" in page.inner_text("#results")
    assert "还书成功，谢谢你！" in page.inner_text("#results")
    page.click(".undo")
    page.wait_for_selector("#results li:nth-child(1):has-text('已撤销')", timeout=5000)
    shoot(page, "desk")
    store = kiosk["daemon"].store
    undo = store.query("SELECT actor, data FROM events WHERE type = 'undo'")
    assert [u["actor"] for u in undo] == ["H001"]
    assert (
        store.value(
            "SELECT count(*) FROM loans "
            "WHERE item_barcode = '9787530215982' AND returned_at IS NULL"
        )
        == 1
    )
    kiosk["daemon"].kiosk.done()
    page.close()


@pytest.mark.parametrize("path", ["/", "/admin/login"])
def test_pages_render_chinese_with_the_font_they_ship(
    browser: Any, kiosk: dict[str, Any], path: str
) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(kiosk["url"] + path)
    page.evaluate("document.fonts.ready")
    wait_js(page, "document.fonts.check('20px \"Kiosk Sans\"', '借书')")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert '"Kiosk Sans"' in loaded or "Kiosk Sans" in loaded
    assert any(u.endswith("/fonts/wqy-microhei-subset.woff2") for u in requests)
    assert all(u.startswith(kiosk["url"]) for u in requests)  # nothing from outside
    page.close()
