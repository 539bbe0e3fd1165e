"""A lunch-break queue at the kiosk, end to end: a real daemon fed by a FIFO, its page in Chromium.

The daemon runs on a fake clock, so "ten seconds later" is exact and costs no waiting; the
browser, the server and the store are real. Each test plays a scene of the queue in order and
asserts what the child sees on the page at 800x480 and what the store's export holds.
Screenshots of every state go to test-artifacts/queue-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.export import QUERIES, rows
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon, open_store
from kiosk.devices.console import ConsoleIndicator
from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.helpers import fifo_settings, running

A, B, C, TEACHER, HELPER = "0F00A1B2C3", "0F00A1B2C4", "0F00A1B2C5", "0F00BBBB01", "0F00AAAA01"
SCHOOL = [
    ("S001", "王小明", "student", 3, "三(2)班", A),
    ("S002", "李雨涵", "student", 4, "四(1)班", B),
    ("S003", "Tom Green", "student", 5, "五(1)班", C),
    ("T001", "陈老师", "teacher", None, "三(2)班", TEACHER),
    ("H001", "张晨", "helper", 5, "五(1)班", HELPER),
]
RED, PRINCE, WEB, STRAW, JOURNEY, LONG = (
    "9787020002207",
    "9787535449450",
    "9787544270878",
    "9787530215982",
    "9787020024759",
    "9787000000001",
)
TOTTO = "9787544236058"
LONG_TITLE = "哈利·波特与魔法石：一个关于友谊、勇气和一所神奇学校的很长很长的故事（插图珍藏版）"
BOOKS = [
    (RED, "红楼梦"),
    (PRINCE, "小王子"),
    (WEB, "Charlotte's Web"),
    (STRAW, "草房子"),
    (JOURNEY, "西游记"),
    (LONG, LONG_TITLE),
    (TOTTO, "窗边的小豆豆"),
]
SHELF = [(f"97870100{i:05d}", f"小书架第{i}本") for i in range(1, 20)]
VIEW = {"width": 800, "height": 480}
TEACHER_MAY_BORROW = {"student": 2, "teacher": 30, "helper": 3, "librarian": 20}


def export(store: Store, kind: str) -> list[dict[str, Any]]:
    """Return `kiosk export KIND` as dicts: what the librarian would see in the CSV."""
    header = QUERIES[kind][0]
    return [dict(zip(header, row, strict=True)) for row in rows(store, kind)]


def open_loans(store: Store) -> dict[str, str]:
    """Return barcode -> patron id of every loan the export shows as not returned."""
    loans = export(store, "loans")
    return {r["item_barcode"]: r["patron_id"] for r in loans if not r["returned_at"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_school(settings: config.Settings) -> None:
    """The school, with loans made a month ago (overdue now) and a teacher's 19 shelf books."""
    now = dt.datetime.now(dt.UTC)
    store = open_store(settings, FakeClock(now - dt.timedelta(days=30)))
    with store.write() as db:
        for pid, name, role, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title in BOOKS + SHELF:
            put_item(db, {"barcode": barcode, "title": title}, store.now())
    circulation = Circulation(store)
    assert circulation.checkout("S002", STRAW).ok  # 李雨涵 will hand it back with no card
    assert circulation.checkout("S002", TOTTO).ok  # and this one during someone's session
    assert circulation.checkout("S003", WEB).ok  # Tom's book, overdue by now
    store.close()
    store = open_store(settings, FakeClock(now - dt.timedelta(days=7)))
    circulation = Circulation(store)
    for barcode, _ in SHELF:
        assert circulation.checkout("T001", barcode).ok
    store.close()


@pytest.fixture(scope="module")
def queue_kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon on a fake clock, a FIFO scan source and its pages on loopback."""
    folder = tmp_path_factory.mktemp("queue")
    settings, fifo = fifo_settings(
        folder,
        # Longer than the default 10 s, so that child B's scan 10 s after A's loan lands in
        # A's session: the harder case of the queue.
        kiosk={"session_after_result_s": 15.0, "answer_display_s": 600.0},
        rules={"max_loans": TEACHER_MAY_BORROW},
    )
    make_school(settings)
    clock = FakeClock(dt.datetime.now(dt.UTC))
    lights = io.StringIO()  # the console indicator: one "[pattern] words" line per answer
    daemon = Daemon(settings, clock=clock, indicator=ConsoleIndicator(lights))
    with running(daemon), open(fifo, "w") as fifo_out:
        # The FIFO is kept open for the module: the daemon reads scans line by line.
        yield {
            "url": daemon.web.url,
            "fifo": fifo_out,
            "daemon": daemon,
            "clock": clock,
            "lights": lights,
        }


@pytest.fixture(scope="module")
def page(browser: Any, queue_kiosk: dict[str, Any]) -> Iterator[Any]:
    """The touchscreen page at 800x480, open for the whole queue."""
    p = browser.new_page(viewport=VIEW)
    errors = watch_errors(p)
    p.goto(queue_kiosk["url"] + "/")
    wait_js(p, "window.kioskEvents && window.kioskEvents.length > 0")
    yield p
    assert errors == []
    p.close()


def scan(kiosk: dict[str, Any], page: Any, *codes: str) -> None:
    """Scan codes one by one, each answered on the page before the next (as at a real kiosk)."""
    for code in codes:
        seen = page.evaluate("window.kioskEvents.length")
        kiosk["fifo"].write(code + "\n")
        kiosk["fifo"].flush()
        wait_js(page, f"window.kioskEvents.length > {seen}")


def light(kiosk: dict[str, Any]) -> str:
    """Return the indicator's last pattern: the light and beep the child got with the page."""
    return str(kiosk["lights"].getvalue().splitlines()[-1].split("]")[0].lstrip("["))


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"queue-{name}-800x480.png"))


def text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector))


def fits(page: Any) -> bool:
    """Say whether the page fits its screen: nothing pushed off to the side or below."""
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= innerWidth"
            " && document.documentElement.scrollHeight <= innerHeight"
        )
    )


def end_session(kiosk: dict[str, Any], page: Any) -> None:
    """Touch Done, as the child leaving does, if a session is on the screen."""
    if page.is_visible("#session"):
        page.click("#done")
        page.wait_for_selector("#idle:not([hidden])")


def test_a_return_with_no_card_shows_its_title(queue_kiosk: dict[str, Any], page: Any) -> None:
    assert page.is_visible("#tap h1 >> text=请刷卡借书")
    shoot(page, "0-idle")
    scan(queue_kiosk, page, STRAW)
    page.wait_for_selector("#answer.ok")
    assert text(page, "#answer-title") == "草房子"
    assert text(page, "#answer-message") == "还书成功，谢谢你！"
    assert light(queue_kiosk) == "ok"  # light, beep and screen agree
    assert not page.is_visible("#tap")  # the answer takes the big card prompt's place...
    assert text(page, "#answer-next") == "请刷卡借书"  # ...which stays as a line below it
    shoot(page, "1-return-without-card")
    scan(queue_kiosk, page, PRINCE)  # not on loan, no card: the child is told what to do
    page.wait_for_selector("#answer.warning")
    assert text(page, "#answer-title") == "小王子"
    assert text(page, "#answer-message") == "请先刷卡，再扫描图书。"
    assert light(queue_kiosk) == "warning"
    shoot(page, "2-tap-your-card-first")
    scan(queue_kiosk, page, "NOT-A-CARD-42")  # an unknown card: answered too
    page.wait_for_selector("#answer.error")
    assert text(page, "#answer-message") == "无法识别，请找小图书管理员帮忙。"
    assert not page.is_visible("#answer-title")
    assert light(queue_kiosk) == "error"
    shoot(page, "2b-unknown-card")
    assert STRAW not in open_loans(queue_kiosk["daemon"].store)


def test_the_next_child_returns_a_book_in_a_session_left_open(
    queue_kiosk: dict[str, Any], page: Any
) -> None:
    kiosk, clock = queue_kiosk, queue_kiosk["clock"]
    scan(kiosk, page, A, RED)  # child A borrows and walks away
    page.wait_for_selector("#last.ok")
    assert text(page, "#patron-name") == "小明"
    assert text(page, "#last-title") == "红楼梦"
    shoot(page, "3-a-borrows")
    clock.advance(10)
    scan(kiosk, page, TOTTO)  # child B, 10 s later, hands back a book of her own
    page.wait_for_selector("#idle:not([hidden]) #answer.ok")
    assert text(page, "#answer-title") == "窗边的小豆豆"
    # The session was A's, so B is told to tap her card to borrow (A's session is over).
    assert text(page, "#answer-message") == "还书成功，谢谢！要借书，请再刷一次卡。"
    assert "小明" not in text(page, "body")  # A's session is over, nothing of A is shown
    shoot(page, "4-b-returns-in-a-session")
    clock.advance(6)
    scan(kiosk, page, TOTTO)  # and scans it again: still not lent to A
    page.wait_for_selector("#answer.warning")
    assert text(page, "#answer-message") == "请先刷卡，再扫描图书。"
    loans = open_loans(kiosk["daemon"].store)
    assert loans.get(RED) == "S001" and TOTTO not in loans


def test_scanning_your_own_new_book_again_records_no_renewal(
    queue_kiosk: dict[str, Any], page: Any
) -> None:
    kiosk, clock = queue_kiosk, queue_kiosk["clock"]
    scan(kiosk, page, A, PRINCE)
    page.wait_for_selector("#last.ok")
    clock.advance(6)
    scan(kiosk, page, PRINCE)
    wait_js(page, "document.querySelector('#last-message').innerText.includes('已经借给你')")
    assert text(page, "#last-title") == "小王子"
    assert light(kiosk) == "ok"  # good news: the book is theirs
    # Dates in the messages of the list never wrap either.
    lines = page.evaluate(
        "[...document.querySelectorAll('#results [lang=zh-CN] .date')]"
        ".map(d => d.getClientRects().length)"
    )
    assert lines == [1, 1]
    shoot(page, "5-already-yours")
    store = kiosk["daemon"].store
    assert [e["type"] for e in export(store, "events") if e["item_barcode"] == PRINCE] == [
        "checkout"
    ]
    assert {r["item_barcode"]: r["renewals"] for r in export(store, "loans")}[PRINCE] == 0
    end_session(kiosk, page)


def test_an_overdue_book_is_taken_back_in_its_borrowers_session(
    queue_kiosk: dict[str, Any], page: Any
) -> None:
    kiosk = queue_kiosk
    scan(kiosk, page, C)
    page.wait_for_selector("#session:not([hidden])")
    assert text(page, "#patron-name") == "Tom"
    assert "已过期" in text(page, "#loans")
    scan(kiosk, page, JOURNEY)  # Tom wants a new book: first the overdue one
    page.wait_for_selector("#last.error")
    assert text(page, "#last-message") == "你有一本书已经超期，请先还书。"
    shoot(page, "6-overdue-return-it-first")
    scan(kiosk, page, WEB)
    wait_js(page, "document.querySelector('#last-message').innerText.includes('还书成功')")
    assert text(page, "#last-title") == "Charlotte's Web"
    scan(kiosk, page, JOURNEY)
    wait_js(page, "document.querySelector('#last-title').innerText === '西游记'")
    assert "借书成功" in text(page, "#last-message")
    assert "Charlotte" not in text(page, "#loans") and "西游记" in text(page, "#loans")
    shoot(page, "7-overdue-returned-then-borrowed")
    loans = open_loans(kiosk["daemon"].store)
    assert WEB not in loans and loans[JOURNEY] == "S003"


def test_english_chosen_by_one_child_is_gone_for_the_next(
    queue_kiosk: dict[str, Any], page: Any
) -> None:
    kiosk = queue_kiosk
    if not page.is_visible("#session"):
        scan(kiosk, page, C)
    page.click("#lang")
    assert "Your books" in text(page, "#session")
    shoot(page, "8-english")
    end_session(kiosk, page)
    assert page.is_visible("#tap h1 >> text=请刷卡借书")
    scan(kiosk, page, B)
    page.wait_for_selector("#session:not([hidden])")
    assert text(page, "#patron-name") == "雨涵"
    assert "你好" in text(page, "#last-message") and "Hello" not in text(page, "#last-message")
    # English again, and the next card (no Done) takes it away too.
    page.click("#lang")
    scan(kiosk, page, A)
    wait_js(page, "document.querySelector('#patron-name').innerText === '小明'")
    assert "你好" in text(page, "#last-message")
    end_session(kiosk, page)


def test_a_teacher_sees_all_twenty_loans_readably_and_renews_one_by_touch(
    queue_kiosk: dict[str, Any], page: Any
) -> None:
    kiosk = queue_kiosk
    scan(kiosk, page, TEACHER, LONG)
    page.wait_for_selector("#last.ok")
    rows_ = page.query_selector_all("#loans li")
    assert len(rows_) == 20 and text(page, "#loans-count") == "· 20"
    # Renewing a book borrowed a moment ago would move nothing: no button for it.
    assert page.evaluate(
        "[...document.querySelectorAll('#loans li')].filter(li => li.innerText.startsWith('哈利'))"
        ".map(li => li.querySelector('button'))"
    ) == [None]
    assert fits(page)
    # Every row readable: 20 px text at least, one line, the date never wrapped.
    for li in rows_:
        assert li.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 20
        assert li.evaluate("e => e.querySelector('.due').getClientRects().length") == 1
    # The long title is cut with an ellipsis, on the big answer and in the list.
    assert text(page, "#last-title") == LONG_TITLE
    assert page.evaluate(
        "(() => { const t = document.querySelector('#last-title');"
        " return t.scrollWidth > t.clientWidth"
        " && getComputedStyle(t).textOverflow === 'ellipsis'; })()"
    )
    shoot(page, "9-teacher-twenty-loans")
    last = rows_[-1]
    last.scroll_into_view_if_needed()
    assert page.evaluate(
        "(() => { const ul = document.querySelector('#loans'), li = ul.lastElementChild;"
        " const a = ul.getBoundingClientRect(), b = li.getBoundingClientRect();"
        " return b.top >= a.top - 1 && b.bottom <= a.bottom + 1; })()"
    )
    shoot(page, "10-teacher-list-scrolled")
    first_renewable = page.query_selector("#loans button.renew")
    assert first_renewable is not None
    code = first_renewable.get_attribute("data-code")
    first_renewable.click()
    wait_js(page, "document.querySelector('#last-message').innerText.includes('续借成功')")
    shoot(page, "11-renewed-by-touch")
    store = kiosk["daemon"].store
    assert {r["item_barcode"]: r["renewals"] for r in export(store, "loans")}[code] == 1
    end_session(kiosk, page)


def test_a_language_chosen_on_the_idle_screen_goes_back_after_a_while(
    browser: Any, queue_kiosk: dict[str, Any]
) -> None:
    kiosk = queue_kiosk
    p = browser.new_page(viewport=VIEW)
    p.clock.install()  # the page's own timers and Date, moved by the test: no waiting
    p.goto(kiosk["url"] + "/")
    wait_js(p, "window.kioskEvents && window.kioskEvents.length > 0")
    p.clock.pause_at(p.evaluate("Date.now()") + 100)  # from here time moves only when told
    p.click("#lang")
    assert p.is_visible("#tap h1 >> text=Tap your card to borrow books")
    p.clock.run_for(5_000)
    assert p.is_visible("#tap h1 >> text=Tap your card to borrow books")
    p.clock.run_for(8_000)  # nobody came: the next child finds the school's language
    assert p.is_visible("#tap h1 >> text=请刷卡借书")
    assert p.is_hidden("#down")
    p.close()


def test_a_helper_searching_at_the_desk_keeps_the_running_list_unclipped(
    browser: Any, queue_kiosk: dict[str, Any]
) -> None:
    kiosk = queue_kiosk
    desk = browser.new_page(viewport=VIEW)
    errors = watch_errors(desk)
    desk.goto(kiosk["url"] + "/")
    wait_js(desk, "window.kioskEvents && window.kioskEvents.length > 0")
    scan(kiosk, desk, HELPER)
    desk.click("#open-desk")
    desk.wait_for_selector("#keypad")
    # The desk's stream is connected: the answers to what the helper types will show.
    desk.wait_for_selector("body[data-stream=open]", state="attached")
    returned = [barcode for barcode, _ in SHELF[1:13]]  # twelve of the teacher's books come back
    for barcode in returned:
        kiosk["fifo"].write(barcode + "\n")
    kiosk["fifo"].flush()
    wait_js(desk, "document.querySelectorAll('#results li.ok').length === 12")
    desk.fill("input[name=q]", "小书架")
    desk.click(".search button")
    desk.wait_for_selector(".found")
    desk.wait_for_load_state()  # the page's script has put the kept list back by then
    assert len(desk.query_selector_all("#results li.ok")) == 12  # the search kept the list
    assert "小书架第13本" in text(desk, "#results li:first-child")
    assert fits(desk)
    for box in ("#results", ".found-box"):
        # Whatever does not fit scrolls inside its own box: the last line can be brought in.
        assert desk.evaluate(
            f"(() => {{ const box = document.querySelector('{box}');"
            " const last = box.querySelector('li:last-child, tr:last-child');"
            " last.scrollIntoView({block: 'end'});"
            " const a = box.getBoundingClientRect(), b = last.getBoundingClientRect();"
            " return b.bottom <= a.bottom + 1 && a.bottom <= innerHeight; })()"
        ), box
    shoot(desk, "14-desk-search-keeps-the-list")
    loans = open_loans(kiosk["daemon"].store)
    assert not set(returned) & set(loans)
    kiosk["daemon"].kiosk.done()
    assert errors == []
    desk.close()


def test_a_killed_or_hung_daemon_shows_out_of_service_and_recovery_clears_it(
    browser: Any, tmp_path: Path
) -> None:
    port = free_port()
    os.mkfifo(tmp_path / "scans")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[scanner]\nsource = "fifo:scans"\n[indicator]\nkind = "none"\n'
        f'[web]\nlisten = "127.0.0.1:{port}"\n'
        "[rules]\nmax_loans = {student = 2, teacher = 30, helper = 3, librarian = 20}\n",
        encoding="utf-8",
    )
    settings = config.load(cfg)
    make_school(settings)

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--config", str(cfg), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return proc
            assert time.monotonic() < deadline, "the kiosk did not start"
            time.sleep(0.1)

    proc = start()
    page = browser.new_page(viewport=VIEW)
    try:
        page.clock.install()
        page.goto(f"http://127.0.0.1:{port}/")
        wait_js(page, "window.kioskEvents.length > 0")
        # First, with the default answer_display_s (8 s) on the page's own clock: an answer
        # with no session stays long enough to read, then gives the screen back.
        page.clock.pause_at(page.evaluate("Date.now()") + 100)
        with open(tmp_path / "scans", "w") as fifo:
            fifo.write(STRAW + "\n")
        page.wait_for_selector("#answer:not([hidden])")
        page.clock.run_for(7_000)
        assert text(page, "#answer-title") == "草房子"
        page.clock.run_for(1_500)
        assert page.is_hidden("#answer") and page.is_visible("#tap h1 >> text=请刷卡借书")
        page.clock.resume()
        with open(tmp_path / "scans", "w") as fifo:
            fifo.write(A + "\n")
        page.wait_for_selector("#session:not([hidden])")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        page.wait_for_selector("#down:not([hidden])", timeout=10_000)
        assert "这台借还机现在不能用" in text(page, "#down")
        assert not page.is_visible("#session") and not page.is_visible("#idle")
        assert "小明" not in text(page, "body")
        shoot(page, "12-out-of-service")
        proc = start()
        page.wait_for_selector("#down", state="hidden", timeout=15_000)
        assert page.is_visible("#tap h1 >> text=请刷卡借书")
        shoot(page, "13-back-in-service")
        # A kiosk that hangs (stopped, not dead) keeps the connection open and says nothing:
        # the page notices the silence (a keep-alive is due every 10 s) and says so as well.
        proc.send_signal(signal.SIGSTOP)
        page.wait_for_selector("#down:not([hidden])", timeout=30_000)
        proc.send_signal(signal.SIGCONT)
        page.wait_for_selector("#down", state="hidden", timeout=15_000)
        assert page.is_visible("#tap h1 >> text=请刷卡借书")
    finally:
        page.close()
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
