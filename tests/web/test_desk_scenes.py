"""The desk on the running kiosk in Chromium, on the kiosk's own browser (the screen's context).

A helper taps their card, opens the desk, searches, lends, packs a box for a class corner,
undoes; then goes back to the touchscreen, which must be in service at once. The daemon reads
scans from a FIFO and serves the pages with waitress on loopback (fixtures of conftest.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.circulation.records import put_item, put_patron
from web.axe import describe, violations
from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.helpers import PASSWORD, scan, wait_for

HELPER_CARD = "0F00AAAA01"
# Run before a page's own scripts: count its event streams' errors, and note whether the page
# ever says the kiosk is not working (body.is-down).
STREAM_WATCH = """
window.streamErrors = 0;
window.everDown = false;
window.EventSource = class extends window.EventSource {
  constructor(url, options) {
    super(url, options);
    this.addEventListener("error", () => { window.streamErrors += 1; });
  }
};
new MutationObserver(() => {
  if (document.body && document.body.classList.contains("is-down")) window.everDown = true;
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["class"]});
"""
# Books of this module, on the shelf, besides the school's five.
SHELF = [(f"97870000000{n:02d}", f"图书角的书{n}") for n in range(1, 10)]


@pytest.fixture(scope="module")
def desk(kiosk: dict[str, Any]) -> dict[str, Any]:
    """The running kiosk with more books on the shelf, and its broker at hand."""
    store = kiosk["daemon"].store
    with store.write() as db:
        for barcode, title in SHELF:
            put_item(db, {"barcode": barcode, "title": title, "location": "阅览室"}, store.now())
        # A teacher who borrows the books each scene needs out on loan.
        teacher = {"id": "T001", "name": "陈老师", "role": "teacher", "class_name": "三(2)班"}
        put_patron(db, teacher, [], store.now())
    broker = kiosk["daemon"].web.app.extensions["kiosk"].broker
    return {**kiosk, "broker": broker, "store": store}


@pytest.fixture
def screen(browser: Any, desk: dict[str, Any]) -> Iterator[Any]:
    """The kiosk's own touchscreen page at 800x480, in service, with the helper's desk open."""
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    page.errors = watch_errors(page)
    page.goto(desk["url"] + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    scan(desk, HELPER_CARD)
    page.wait_for_selector("#open-desk:not([hidden])", timeout=5000)
    page.click("#open-desk")
    page.wait_for_selector("body[data-stream=open]", state="attached")
    yield page
    # Closed first: a page reloading as the session ends can hold up closing its context.
    context.close()
    desk["daemon"].kiosk.done()


def lines(page: Any) -> list[str]:
    """Return the running list's lines, newest first."""
    return [
        str(t) for t in page.eval_on_selector_all("#results li", "ls => ls.map(l => l.innerText)")
    ]


def open_loans(desk: dict[str, Any], barcode: str) -> int:
    return int(
        desk["store"].value(
            "SELECT count(*) FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode]
        )
    )


def test_seven_searches_on_the_kiosks_browser_and_the_screen_is_in_service_at_once(
    screen: Any, desk: dict[str, Any]
) -> None:
    page, broker = screen, desk["broker"]
    for name in ["王", "李", "wxm", "Tom", "小王子", "红楼", "草"]:
        page.fill("form.search input", name)
        page.press("form.search input", "Enter")
        page.wait_for_load_state("domcontentloaded")
        assert page.input_value("form.search input") == name
    # The screen's stream must be taken at once: counted from the screen page's first script on,
    # not one stream error (a refused place), and never "not working" on the screen.
    page.add_init_script(STREAM_WATCH)
    page.click("header a[href='/']")
    page.wait_for_selector("#tap, #session", state="attached")
    wait_js(
        page,
        "window.kioskEvents && window.kioskEvents.length > 0 && document.getElementById('down')"
        ".hidden && !document.getElementById('session').hidden",
        timeout_s=60,  # only for failing: the answer is what counts, not how soon
    )
    assert page.evaluate("[window.streamErrors, window.everDown]") == [0, False]
    page.evaluate(
        "window.wentDown = false; new MutationObserver(() => {"
        " if (document.body.classList.contains('is-down')) window.wentDown = true; })"
        ".observe(document.body, {attributes: true})"
    )
    # Every desk stream of the searches has ended: only the screen's is left (how soon a page
    # that went away is noticed: tests/web/test_live_places.py, with no keep-alive to help).
    wait_for(lambda: [c.screen for c in broker.pages()] == [True], timeout=60)
    scan(desk, "9787530215982")  # the helper's return shows on the screen
    page.wait_for_selector("#last.ok #last-title:text('草房子')", timeout=5000)
    assert page.evaluate("window.wentDown") is False
    assert page.is_hidden("#down")
    assert page.errors == []


def test_the_desk_misses_no_result_across_a_forced_reconnect(
    screen: Any, desk: dict[str, Any]
) -> None:
    page, broker = screen, desk["broker"]
    scan(desk, SHELF[0][0])  # not on loan: a warning, the list has a first line
    page.wait_for_selector("#results li.warning", timeout=5000)
    # The server ends the desk's stream (a restart of the stream, a dropped connection)...
    for client in broker.pages():
        if not client.screen:
            client.end()
    wait_for(lambda: all(c.screen for c in broker.pages()))
    # ...and books are returned before the page is back.
    scan(desk, "9787544270878", "9787020024759", "9787535449450")
    wait_for(lambda: open_loans(desk, "9787544270878") == 0)
    page.wait_for_selector("body[data-stream=open]", state="attached", timeout=5000)
    wait_js(page, "document.querySelectorAll('#results li').length >= 4")
    shown = lines(page)
    assert len(shown) == 4, shown  # each once, none missed
    assert "Charlotte's Web" in shown[2] and "还书成功" in shown[2]
    assert "西游记" in shown[1] and "小王子" in shown[0]
    # A search reloads the page: its stream resumes after the last line, nothing twice.
    page.fill("form.search input", "西游")
    page.press("form.search input", "Enter")
    page.wait_for_selector("body[data-stream=open]", state="attached")
    scan(desk, SHELF[1][0])
    wait_js(page, "document.querySelectorAll('#results li').length >= 5")
    assert len(lines(page)) == 5


def test_pinyin_initials_find_a_student_and_the_banner_stays_until_the_helper_ends_it(
    screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    page.fill("form.search input", "wxm")
    page.press("form.search input", "Enter")
    page.wait_for_selector("table.found td:text-is('小明')")
    assert "三(2)班" in page.inner_text("table.found")
    page.fill("form.search input", "小")  # part of a name, and of titles
    page.press("form.search input", "Enter")
    page.wait_for_selector("table.found td:text-is('小明')")
    assert "小王子" in page.inner_text(".found-box")
    page.click("table.found tr:has(td:text-is('小明')) .lend-card")
    page.wait_for_selector("#banner:not([hidden])", timeout=5000)
    assert page.inner_text("#banner-text") == "正在为 小明 借书"
    page.click("header a[href='?lang=en']")
    page.wait_for_selector("body[data-stream=open]", state="attached")
    assert page.inner_text("#banner-text") == "Lending to 小明"  # still there after a reload
    scan(desk, SHELF[2][0])
    page.wait_for_selector(f"#results li.ok:has-text('{SHELF[2][1]}')", timeout=5000)
    assert (
        desk["store"].value(
            "SELECT patron_id FROM loans WHERE item_barcode = ? AND returned_at IS NULL",
            [SHELF[2][0]],
        )
        == "S001"
    )
    assert page.inner_text("#banner-text") == "Lending to 小明"
    page.screenshot(path=str(ARTIFACTS / "desk-lending-english-800x480.png"))
    page.click("#stop-lending")
    page.wait_for_selector("#banner", state="hidden", timeout=5000)
    assert desk["daemon"].kiosk.mode == "desk"
    page.click("header a[href='?lang=zh_CN']")
    page.wait_for_selector("body[data-stream=open]", state="attached")
    assert page.is_hidden("#banner")


def test_an_undone_line_is_shown_undone_and_the_desk_speaks_to_the_helper(
    screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    barcode, title = SHELF[7]
    assert desk["daemon"].circulation.checkout("T001", barcode).ok
    for key in barcode:  # returned on the keypad
        page.click(f'.keys button[data-key="{key}"]')
    page.click(".enter")
    returned = f"#results li:has-text('{title}')"
    page.wait_for_selector(f"{returned}.ok", timeout=5000)
    page.click(".undo")
    page.wait_for_selector("#results li:nth-child(1):has-text('已撤销')", timeout=5000)
    undone = page.locator(f"{returned}:not(:has-text('已撤销：'))")
    assert undone.get_attribute("class") == "undone"
    assert undone.locator(".icon").inner_text() == "\u21b6"  # no green tick left on it
    assert page.locator(f"#results li.ok:has-text('{title}')").count() == 0
    assert open_loans(desk, barcode) == 1
    page.fill("#code", "12345")
    page.click(".enter")
    page.wait_for_selector("#results li.error", timeout=5000)
    first = page.inner_text("#results li:nth-child(1)")
    # The code as typed, to check, and what the helper does about it; not the children's words.
    assert first.startswith("\u271612345 ")
    assert "不是本馆的书或借书卡" in first and "小图书管理员帮忙" not in first
    # A reload keeps the undone line undone.
    page.reload()
    page.wait_for_selector("body[data-stream=open]", state="attached")
    assert page.locator(f"{returned}.undone").count() == 1
    page.screenshot(path=str(ARTIFACTS / "desk-undone-800x480.png"))


def test_a_box_of_books_is_lent_to_a_class_corner_from_the_desk(
    screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    lent = SHELF[6][0]
    assert desk["daemon"].circulation.checkout("T001", lent).ok  # a book that is out
    page.click("#corner summary")
    page.fill("#corner-open input[name=class_name]", "三(2)班")
    page.click("#corner-open button")
    page.wait_for_selector("#banner:not([hidden]) #box-lend:not([hidden])", timeout=5000)
    scan(desk, SHELF[3][0], SHELF[4][0], SHELF[3][0], lent)
    page.wait_for_selector("#results li:nth-child(4)", timeout=5000)
    assert "已装进三(2)班的箱子（2）" in lines(page)[2]
    assert "已经在箱子里了" in lines(page)[1]
    assert "不在书架上" in lines(page)[0]  # on loan: not packed
    assert page.inner_text("#banner-text") == "正在为 三(2)班 图书角装书，已装 2 本"
    assert open_loans(desk, SHELF[3][0]) == 0  # nothing lent while packing
    page.fill("#box-lend input[name=due]", (dt.date.today() + dt.timedelta(days=60)).isoformat())
    page.screenshot(path=str(ARTIFACTS / "desk-box-800x480.png"))
    page.click("#box-lend button[type=submit]")
    page.wait_for_selector("#corners-out td:text-is('三(2)班')", timeout=5000)
    assert page.inner_text("#corners-out tr:has(td:text-is('三(2)班'))").split("\t")[1] == "2"
    page.wait_for_selector("#results li.ok:has-text('已借给三(2)班')", timeout=5000)
    assert page.is_hidden("#banner")
    rows = desk["store"].query(
        "SELECT c.class_name, l.item_barcode, l.patron_id FROM corner_loans c "
        "JOIN loans l ON l.uuid = c.loan_uuid WHERE l.returned_at IS NULL ORDER BY 2"
    )  # the helper who packed it is responsible
    assert rows == [
        {"class_name": "三(2)班", "item_barcode": SHELF[3][0], "patron_id": "H001"},
        {"class_name": "三(2)班", "item_barcode": SHELF[4][0], "patron_id": "H001"},
    ]
    assert desk["daemon"].kiosk.mode == "desk"


def test_a_boxs_due_date_that_is_no_day_or_years_ahead_is_said_so_and_nothing_is_lent(
    screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    page.click("#corner summary")
    page.fill("#corner-open input[name=class_name]", "五(1)班")
    page.click("#corner-open button")
    page.wait_for_selector("#banner:not([hidden]) #box-lend:not([hidden])", timeout=5000)
    scan(desk, SHELF[8][0])
    page.wait_for_selector("#results li:has-text('已装进五(1)班的箱子')", timeout=5000)
    # A year typed with a digit too many: no such day, not "must be after today".
    page.fill("#box-lend input[name=due]", "99999-01-01")
    page.click("#box-lend button[type=submit]")
    page.wait_for_selector("#results li.error:has-text('应还日期不是一个有效的日期')", timeout=5000)
    assert "今天之后" not in lines(page)[0]
    # A real day, but three years ahead: a typing slip the desk refuses with its own words.
    today = dt.date.today()
    far = today.replace(year=today.year + 3, day=min(today.day, 28))
    try:
        latest = today.replace(year=today.year + 2)
    except ValueError:  # 29 February: the 28th two years on
        latest = today.replace(year=today.year + 2, day=28)
    page.fill("#box-lend input[name=due]", far.isoformat())
    page.click("#box-lend button[type=submit]")
    page.wait_for_selector("#results li.error:has-text('应还日期在两年以后')", timeout=5000)
    assert f"请选择 {latest.isoformat()} 或更早的一天" in lines(page)[0]
    # The same in English, the box still packed.
    page.goto(desk["url"] + "/desk/?lang=en")
    page.wait_for_selector("#banner:not([hidden]) #box-lend:not([hidden])", timeout=5000)
    page.fill("#box-lend input[name=due]", "99999-01-01")
    page.click("#box-lend button[type=submit]")
    page.wait_for_selector("#results li.error:has-text('The due date is not a date')", timeout=5000)
    page.fill("#box-lend input[name=due]", far.isoformat())
    page.click("#box-lend button[type=submit]")
    page.wait_for_selector(
        "#results li.error:has-text('The due date is more than two years ahead')", timeout=5000
    )
    page.screenshot(path=str(ARTIFACTS / "desk-box-due-refused-800x480.png"))
    assert open_loans(desk, SHELF[8][0]) == 0
    corner = "SELECT count(*) FROM corner_loans c JOIN loans l ON l.uuid = c.loan_uuid "
    assert desk["store"].value(corner + "WHERE l.item_barcode = ?", [SHELF[8][0]]) == 0
    assert desk["daemon"].kiosk.box == [SHELF[8][0]]  # still packed, ready for a right date
    page.click("#box-cancel")
    page.wait_for_selector("#banner", state="hidden", timeout=5000)


def test_axe_finds_nothing_on_the_desk_in_any_state(
    browser: Any, screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    found: dict[str, list[dict[str, Any]]] = {}

    def check(state: str) -> None:
        found[state] = violations(page)

    check("helper")
    page.fill("form.search input", "小")
    page.press("form.search input", "Enter")
    page.wait_for_selector("table.found")
    page.click("#corner summary")
    check("search and corners")
    page.click("table.found tr:has(td:text-is('小明')) .lend-card")
    page.wait_for_selector("#banner:not([hidden])", timeout=5000)
    scan(desk, SHELF[5][0], "12345")
    page.wait_for_selector("#results li.error", timeout=5000)
    check("lending")
    page.click(".undo")
    page.wait_for_selector("#results li.undone", timeout=5000)
    check("undone")
    page.click("#stop-lending")
    page.wait_for_selector("#banner", state="hidden", timeout=5000)
    assert page.get_attribute("#corner", "open") is not None  # still open from before
    page.fill("#corner-open input[name=class_name]", "四(1)班")
    page.click("#corner-open button")
    page.wait_for_selector("#box-lend:not([hidden])", timeout=5000)
    check("box")
    page.goto(desk["url"] + "/desk/?lang=en")
    page.wait_for_selector("body[data-stream=open]", state="attached")
    check("box, English")
    page.set_viewport_size({"width": 1280, "height": 800})
    check("1280x800")
    desk["daemon"].kiosk.done()
    page.wait_for_selector("p.closed", timeout=5000)
    check("closed")
    librarian = browser.new_context(viewport={"width": 1024, "height": 600})
    other = librarian.new_page()
    other.goto(desk["url"] + "/admin/")
    other.fill("input[name=password]", PASSWORD)
    other.fill("input[name=again]", PASSWORD)
    other.click("button[type=submit]")
    other.fill("input[name=user]", "librarian")
    other.fill("input[name=password]", PASSWORD)
    other.click("main button[type=submit]")
    other.wait_for_url("**/admin/")
    other.goto(desk["url"] + "/desk/?q=wxm")
    other.click("table.found button")
    other.wait_for_selector(".lend-to b")
    other.click("#corner summary")
    page = other
    check("librarian")
    librarian.close()
    bad = {state: describe(v) for state, v in found.items() if v}
    assert bad == {}
