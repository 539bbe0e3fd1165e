"""End to end in a real headless Chromium: a real daemon, a FIFO scan source, waitress on loopback.

One browser for the whole module keeps this fast. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import config
from kiosk.app import Daemon, open_store
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = [(800, 480), (1024, 600), (1280, 800)]
PASSWORD = "correct horse battery"
SCHOOL = [
    ("S001", "王小明", "student", 3, "三(2)班", "0F00A1B2C3"),
    ("S002", "李雨涵", "student", 4, "四(1)班", "0F00A1B2C4"),
    ("S003", "Tom Green", "student", 5, "五(1)班", "0F00A1B2C5"),
    ("H001", "张晨", "helper", 5, "五(1)班", "0F00AAAA01"),
]
BOOKS = [
    ("9787020002207", "红楼梦"),
    ("9787535449450", "小王子"),
    ("9787544270878", "Charlotte's Web"),
    ("9787530215982", "草房子"),
    ("9787020024759", "西游记"),
]


def _browser_or_fail() -> Any:
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(`make test` does this); the page tests need a real browser",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    return sync_playwright()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for every test of this module."""
    with _browser_or_fail() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon with a FIFO scan source and its pages on a free loopback port."""
    folder = tmp_path_factory.mktemp("e2e")
    fifo = folder / "scans"
    os.mkfifo(fifo)
    settings = config.from_dict(
        {
            "kiosk": {"session_timeout_s": 4.0, "session_after_result_s": 4.0},
            "store": {"path": "kiosk.db"},
            "scanner": {"source": f"fifo:{fifo}"},
            "indicator": {"kind": "none"},
            "web": {"listen": "127.0.0.1:0"},
        },
        base_dir=folder,
    )
    # The school, and two loans made a month ago that are overdue now.
    month_ago = FakeClock(
        time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 30 * 86400))
    )
    store = open_store(settings, month_ago)
    with store.write() as db:
        for pid, name, role, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title in BOOKS:
            put_item(db, {"barcode": barcode, "title": title}, store.now())
    circulation = Circulation(store)
    assert circulation.checkout("S002", "9787530215982").ok
    assert circulation.checkout("S003", "9787544270878").ok
    store.close()
    daemon = Daemon(settings)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while daemon.web._server is None and time.monotonic() < deadline:
        time.sleep(0.05)
    fifo_out = open(fifo, "w")  # noqa: SIM115  (kept open: the daemon reads scans line by line)
    yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "folder": folder}
    fifo_out.close()
    stop.set()
    thread.join(10)


def scan(kiosk: dict[str, Any], *codes: str) -> None:
    for code in codes:
        kiosk["fifo"].write(code + "\n")
    kiosk["fifo"].flush()


def wait_js(page: Any, expression: str, timeout_s: float = 5.0) -> None:
    """Wait until a JavaScript expression is true (page.evaluate: the page's CSP forbids eval)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.02)


def watch_errors(page: Any) -> list[str]:
    """Collect the page's script errors and console errors (a CSP refusal is one)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(50)
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
    returns = page.locator("#today .numbers div:nth-child(2) b")
    for _ in range(50):
        if returns.inner_text() == "1":
            break
        page.wait_for_timeout(100)
    assert returns.inner_text() == "1"
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
    page.wait_for_timeout(300)  # the desk's stream is connected
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
