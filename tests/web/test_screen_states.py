"""Every state of the kiosk's touchscreen at 800x480, 1024x600 and 1280x800, in both languages.

A real daemon (FIFO scans, a fake clock so no session runs out while it is looked at), its page
in Chromium. The test plays the states in order, as a lunch queue and a stocktake would meet
them, and in each one, at every size and in each language, asserts that no text is drawn over
other text, nothing a child must read is cut off, no title is cut to under eight characters,
there is one h1, and axe-core finds nothing. Screenshots: test-artifacts/states-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.reading import lists
from kiosk.circulation.records import put_item, put_patron, set_patron_status
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible, violations
from web.chromium import ARTIFACTS, screen_page, wait_js
from web.helpers import fifo_settings, running
from web.layout import problems
from web.test_collection_e2e import login

SIZES = [(800, 480), (1024, 600), (1280, 800)]
A, B, TEACHER, LATE, HELPER, BLOCKED = (
    "0F00A1B2C3",
    "0F00A1B2C4",
    "0F00BBBB01",
    "0F00BBBB02",
    "0F00AAAA01",
    "0F00CCCC01",
)
SCHOOL = [
    ("S001", "王小明", "student", 3, "三(2)班", A),
    ("S002", "李雨涵", "student", 4, "四(1)班", B),
    ("T001", "陈老师", "teacher", None, "三(2)班", TEACHER),
    ("T002", "刘老师", "teacher", None, "五(1)班", LATE),
    ("H001", "张晨", "helper", 5, "五(1)班", HELPER),
    ("S009", "赵一", "student", 2, "二(1)班", BLOCKED),
]
# Five classes this month, for a full idle board: (class, its students, how many borrowed).
CLASSES = [
    ("二(1)班", 2, 2),
    ("一(1)班", 3, 2),
    ("三(1)班", 4, 2),
    ("四(1)班", 3, 1),
    ("五(1)班", 3, 1),
]
READERS = [
    (f"R{c}{k}", f"读者{c}{k}", "student", c + 1, name, k < borrowed)
    for c, (name, students, borrowed) in enumerate(CLASSES)
    for k in range(students)
]
LONG = [
    "中国历史故事：从远古到明清的五千年（少年彩图版）",
    "中国历史故事集：春秋战国篇（注音版）",
    "哈利·波特与魔法石：一个关于友谊、勇气和一所神奇学校的故事",
    "The Lion, the Witch and the Wardrobe (The Chronicles of Narnia)",
]
SHELF = [(f"97870100{i:05d}", t) for i, t in enumerate(LONG)] + [
    (f"97870100{i:05d}", f"小书架上的第{i}本书") for i in range(len(LONG), 19)
]
RED, PRINCE, GRASS, JOURNEY, MINE, HERS, NEW, OWN, DRIFT = (
    "9787020002207",
    "9787535449450",
    "9787530215982",
    "9787020024759",
    "9787500000001",
    "9787500000002",
    "9787500000003",
    "9787500000004",
    "D0001",
)
# Six titles of two copies each, ten of them lent this month: the board's most borrowed.
BOARD = [(f"97871000{i:05d}", f"本月热门书第{i // 2}本") for i in range(12)]
SPARE = [BOARD[10][0], BOARD[11][0]]
BOOKS = [
    (RED, "红楼梦"),
    (PRINCE, "小王子"),
    (GRASS, "草房子"),
    (JOURNEY, "西游记"),
    (MINE, "中国历史故事：秦汉三国的英雄们（少年彩图版）"),
    (HERS, "窗边的小豆豆"),
    (NEW, "夏洛的网：一只小猪和一只蜘蛛的友谊故事"),
    (OWN, "城南旧事"),
    (DRIFT, "小猪唏哩呼噜：一只小猪的奇妙冒险故事（注音版）"),  # a drifting book (图书漂流)
]


def make_school(settings: config.Settings, now: dt.datetime) -> None:
    """The school: a teacher with 20 loans, one overdue, a week-old loan of 小明's, a board."""
    old = open_store(settings, FakeClock(now - dt.timedelta(days=60)))
    with old.write() as db:
        for pid, name, role, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [card], old.now())
        for pid, name, role, grade, cls, _ in READERS:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [], old.now())
        for barcode, title in BOOKS + SHELF:
            put_item(db, {"barcode": barcode, "title": title, "location": "library"}, old.now())
        for barcode, title in BOARD:
            put_item(db, {"barcode": barcode, "title": title}, old.now())
    assert Circulation(old).checkout("T002", JOURNEY).ok  # overdue by now
    old.close()
    week = open_store(settings, FakeClock(now - dt.timedelta(days=7)))
    c = Circulation(week)
    for barcode, _ in SHELF:
        assert c.checkout("T001", barcode).ok
    assert c.checkout("S001", MINE).ok  # renewable: a long title beside its Renew button
    assert c.checkout("S002", HERS).ok and c.checkout("S002", OWN).ok
    # 李雨涵 has a drifting book too: her session lists it beside her loans, with no due date.
    assert c.set_drifting(DRIFT, True, "librarian:test").ok
    assert c.take_drifting("S002", DRIFT).ok
    # 小明's grade list (docs/reading.md): his session shows "1 / 4" and two long titles.
    made = lists.save_list(week, lists.ListForm("三年级推荐书目", 3, "", 4), 6, "librarian:test")
    for code in (MINE, NEW, PRINCE, GRASS):
        assert lists.add_title(week, made.events[0].data["list"], code, "librarian:test").ok
    week.close()
    today = open_store(settings, FakeClock(now - dt.timedelta(minutes=5)))
    c = Circulation(today)
    borrowers = [r[0] for r in READERS if r[-1]]
    for pid, (barcode, _) in zip(borrowers, BOARD, strict=False):
        assert c.checkout(pid, barcode).ok
    assert set_patron_status(today, "S009", "blocked", "librarian:test")
    today.close()


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running daemon on a fake clock, its FIFO and its pages on loopback."""
    folder = tmp_path_factory.mktemp("states")
    settings, fifo = fifo_settings(
        folder,
        kiosk={"answer_display_s": 600.0},
        rules={"max_loans": {"student": 2, "teacher": 30, "helper": 3, "librarian": 20}},
    )
    now = dt.datetime.now(dt.UTC)
    make_school(settings, now)
    daemon = Daemon(settings, clock=FakeClock(now))
    with running(daemon), open(fifo, "w") as fifo_out:
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "clock": daemon.clock}


@pytest.fixture(scope="module")
def page(browser: Any, school: dict[str, Any]) -> Iterator[Any]:
    """The kiosk's own screen, open for the whole walk."""
    with screen_page(browser, school["url"]) as p:
        yield p


def scan(school: dict[str, Any], page: Any, *codes: str) -> None:
    """Scan codes one by one, each answered on the page before the next."""
    for code in codes:
        seen = page.evaluate("window.kioskEvents.length")
        school["fifo"].write(code + "\n")
        school["fifo"].flush()
        wait_js(page, f"window.kioskEvents.length > {seen}")


def set_language(page: Any, lang: str) -> None:
    """Show the page in one language, as the language button does, and let it lay out."""
    page.evaluate(
        "(en) => { document.body.classList.toggle('show-en', en);"
        " document.body.classList.toggle('show-zh', !en); dispatchEvent(new Event('resize')); }",
        lang == "en",
    )
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def look(page: Any, state: str) -> None:
    """Check the state at every size in both languages; save a screenshot of each."""
    ARTIFACTS.mkdir(exist_ok=True)
    found = []
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        for lang in ("zh", "en"):
            set_language(page, lang)
            page.screenshot(path=str(ARTIFACTS / f"states-{state}-{lang}-{w}x{h}.png"))
            found += [f"{w}x{h} {lang}: {p}" for p in problems(page)]
            if (w, h) == SIZES[0]:
                assert_accessible(page, f"{state} ({lang})")
    page.set_viewport_size({"width": 800, "height": 480})
    set_language(page, "zh")
    assert not found, f"{state}:\n" + "\n".join(found)


def text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector))


def open_loans(school: dict[str, Any]) -> dict[str, str]:
    rows = school["daemon"].store.query(
        "SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL"
    )
    return {r["item_barcode"]: r["patron_id"] for r in rows}


def done(page: Any) -> None:
    if page.is_visible("#session"):
        page.click("#done")
        page.wait_for_selector("#idle:not([hidden])")


def test_idle_with_a_full_board_in_a_childs_words(page: Any) -> None:
    wait_js(page, "!document.getElementById('board').hidden")
    ranking = page.locator("#ranking li").all_inner_texts()
    assert [r.split("每")[0].strip() for r in ranking] == [
        "一(1)班",  # 2 of 3 students borrowed: 0.7 each
        "二(1)班",  # 2 of 3 (赵一 too): the same
        "三(1)班",
        "五(1)班",
        "四(1)班",  # 李雨涵 is a fourth student there
    ]
    assert "每人 0.7 本" in ranking[0] and "每人 0.3 本" in ranking[3], ranking
    assert text(page, "#ranking-box h2") == "本月哪个班读书最多"
    look(page, "01-idle")


def test_answers_without_a_session(page: Any, school: dict[str, Any]) -> None:
    scan(school, page, GRASS)  # not on loan, no card
    page.wait_for_selector("#answer.warning")
    look(page, "02-tap-your-card-first")
    scan(school, page, "NOT-A-CARD-42")
    page.wait_for_selector("#answer.error")
    look(page, "03-unknown-code")
    scan(school, page, BLOCKED)
    wait_js(
        page, "document.getElementById('answer-message').innerText.includes('借书卡已暂停使用')"
    )
    look(page, "04-blocked-card")


def test_a_childs_session_every_answer_and_the_renew_row(page: Any, school: dict[str, Any]) -> None:
    clock = school["clock"]
    scan(school, page, A)
    page.wait_for_selector("#session:not([hidden])")
    # His week-old loan is his first book of the term: the badge shows with the hello, once.
    page.wait_for_selector("#badge:not([hidden])")
    assert text(page, "#badge-list") == "本学期你的第一本书！"
    look(page, "05-session-started-with-a-badge")
    # The week-old loan keeps its long title readable beside its Renew button.
    row = page.locator("#loans li", has_text="中国历史故事")
    assert row.locator("button.renew").is_visible()
    scan(school, page, RED)
    page.wait_for_selector("#last.ok")
    assert page.is_hidden("#badge")
    look(page, "06-borrowed")
    clock.advance(6)
    scan(school, page, PRINCE)  # a third book: the limit of two
    page.wait_for_selector("#last.error")
    look(page, "07-limit-reached")
    clock.advance(6)
    scan(school, page, "NOT-A-BOOK-7")  # an unknown code is listed with the books
    page.wait_for_selector("#last.error")
    assert page.locator("#results li", has_text="NOT-A-BOOK-7").count() == 1
    look(page, "08-unknown-in-session")
    clock.advance(6)
    page.locator("#loans li", has_text="中国历史故事").locator("button.renew").click()
    wait_js(page, "document.getElementById('last-message').innerText.includes('续借成功')")
    look(page, "09-renewed")
    clock.advance(6)
    scan(school, page, HERS)  # 李雨涵's book, handed in during 小明's session
    page.wait_for_selector("#idle:not([hidden]) #answer.ok")
    assert text(page, "#answer-title") == "窗边的小豆豆"
    assert text(page, "#answer-message") == "还书成功，谢谢！要借书，请再刷一次卡。"
    look(page, "10-someone-elses-book")
    assert HERS not in open_loans(school) and open_loans(school)[RED] == "S001"


def test_a_childs_drifting_book_beside_her_loans(page: Any, school: dict[str, Any]) -> None:
    school["clock"].advance(6)
    scan(school, page, B)
    wait_js(page, "document.getElementById('patron-name').innerText === '雨涵'")
    assert page.locator("#loans li").count() == 2
    loan = text(page, "#loans li:not(.drifting)")
    drifting = text(page, "#loans li.drifting")
    assert "城南旧事" in loan and "前还" in loan
    assert "小猪唏哩呼噜" in drifting and "漂流书" in drifting and "前还" not in drifting
    assert page.locator("#loans li.drifting button.renew").count() == 0
    look(page, "10b-drifting-book-beside-the-loans")
    done(page)


def test_a_teacher_with_twenty_loans(page: Any, school: dict[str, Any]) -> None:
    school["clock"].advance(6)
    scan(school, page, TEACHER, PRINCE)
    page.wait_for_selector("#last.ok")
    assert page.locator("#loans li").count() == 20
    look(page, "11-teacher-twenty-loans")
    page.locator("#loans li").last.scroll_into_view_if_needed()
    look(page, "12-teacher-list-scrolled")
    done(page)


def test_an_overdue_teacher_reads_the_refusal_once_per_place(
    page: Any, school: dict[str, Any]
) -> None:
    clock = school["clock"]
    scan(school, page, LATE)
    for code in (GRASS, NEW, *SPARE):
        clock.advance(6)
        scan(school, page, code)
    page.wait_for_selector("#last.error")
    said = page.locator("#results .msg [lang=zh-CN]").all_inner_texts()
    refusal = "你有一本书已经超期，请先还书。"
    # Four refusals listed: the sentence once in the list, once in the big answer.
    assert page.locator("#results li").count() == 4
    assert said.count(refusal) == 1 and text(page, "#last-message") == refusal
    look(page, "13-overdue-teacher")
    done(page)


def test_the_desk_mode_and_lending_for_a_student(page: Any, school: dict[str, Any]) -> None:
    scan(school, page, HELPER)
    page.wait_for_selector("#session:not([hidden])")
    look(page, "14-desk-mode")
    scan(school, page, B)
    wait_js(page, "document.getElementById('patron-name').innerText === '雨涵'")
    look(page, "15-lend-for")
    school["daemon"].kiosk.done()
    page.wait_for_selector("#idle:not([hidden])")


def test_a_stocktake_started_during_a_session_ends_it_and_counts_every_scan(
    browser: Any, page: Any, school: dict[str, Any]
) -> None:
    clock = school["clock"]
    clock.advance(6)
    scan(school, page, A)
    page.wait_for_selector("#session:not([hidden])")
    # The librarian starts the stocktake on the dashboard while 小明's session is open.
    admin = browser.new_page(viewport={"width": 1280, "height": 800})
    login(admin, school["url"])
    admin.goto(school["url"] + "/admin/collection/")
    admin.fill("#start-stocktake input[name=location]", "library")
    admin.click("#start-stocktake button[type=submit]")
    page.wait_for_selector("body.is-counting #counting:not([hidden])")
    assert page.is_hidden("#session") and "小明" not in text(page, "body")
    assert text(page, "#counting h1") == "正在盘点，暂停借书"
    assert school["daemon"].kiosk.mode == "idle"
    look(page, "16-stocktake")
    loans_before = open_loans(school)
    # A child taps a card and scans a book: told to come back, the book counted, not lent.
    clock.advance(6)
    scan(school, page, B)
    page.wait_for_selector("#answer.warning")
    assert text(page, "#answer-message") == "现在正在盘点图书，暂停借书，请稍后再来。"
    assert page.is_visible("#counting-flag") and page.is_hidden("#session")
    look(page, "17-stocktake-card")
    clock.advance(6)
    scan(school, page, GRASS)
    page.wait_for_selector("#answer.ok")
    assert text(page, "#answer-message") == "已清点：草房子。"
    assert text(page, "#answer-next") == "正在盘点，暂停借书"
    look(page, "18-stocktake-scan")
    clock.advance(6)
    scan(school, page, "NOT-OURS-9")
    page.wait_for_selector("#answer.warning")
    look(page, "19-stocktake-unknown")
    scan(school, page, HELPER)
    page.wait_for_selector("#session:not([hidden])")
    assert "盘点" in text(page, "#mode-title")
    assert text(page, "#last-message") == "盘点：请扫描书架上的书，每本都会清点。"
    look(page, "20-stocktake-desk")
    assert open_loans(school) == loans_before  # nothing lent, nothing returned
    counted = school["daemon"].store.query("SELECT barcode FROM stocktake_scans ORDER BY barcode")
    assert [r["barcode"] for r in counted] == [GRASS, "NOT-OURS-9"]
    # Paused on the dashboard: the helper keeps the desk, out of counting; Done ends it and
    # lending is back.
    admin.goto(school["url"] + "/admin/collection/")
    admin.click("#stocktake >> text=暂停")
    page.wait_for_selector("body:not(.is-counting) #open-desk:not([hidden])")
    assert school["daemon"].kiosk.mode == "desk"
    page.click("#done")
    page.wait_for_selector("body:not(.is-counting) #tap:not([hidden])")
    assert school["daemon"].kiosk.mode == "idle"
    admin.close()


def test_the_axe_helper_finds_what_it_should(page: Any) -> None:
    # The screen as it was before: zooming forbidden. axe-core must say so, or it checks nothing.
    page.evaluate(
        "document.querySelector('meta[name=viewport]').content ="
        " 'width=device-width, initial-scale=1, user-scalable=no'"
    )
    try:
        assert "meta-viewport" in {v["id"] for v in violations(page)}
    finally:
        page.evaluate(
            "document.querySelector('meta[name=viewport]').content ="
            " 'width=device-width, initial-scale=1'"
        )
    assert violations(page) == []


def test_the_layout_check_finds_text_over_text_and_cut_titles(page: Any) -> None:
    # The idle boards pulled up over the card prompt, and the new books squeezed: both found.
    page.evaluate(
        "document.getElementById('idle-lists').style.marginTop = '-25vh';"
        " document.getElementById('new-books-box').style.maxWidth = '90px'"
    )
    try:
        found = problems(page)
        assert any(p.startswith("text over text: ") for p in found), found
        assert any(p.startswith("cut to ") for p in found), found
    finally:
        page.evaluate(
            "document.getElementById('idle-lists').style.marginTop = '';"
            " document.getElementById('new-books-box').style.maxWidth = ''"
        )
    assert problems(page) == []


def test_out_of_service(browser: Any, school: dict[str, Any]) -> None:
    p = browser.new_page(viewport={"width": 800, "height": 480})
    p.route("**/events", lambda route: route.abort())  # the kiosk's stream is gone
    p.goto(school["url"] + "/")
    p.wait_for_selector("#down:not([hidden])", timeout=10_000)
    look(p, "21-out-of-service")
    p.close()


class OfflineSync:
    """The sync worker as it is when the hub cannot be reached (the network is the edge)."""

    def state(self) -> dict[str, Any]:
        return {"online": False, "last_success": None, "queue_length": 3, "last_error": "refused"}


def test_the_offline_sign_says_so_in_both_languages(
    browser: Any, school: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(school["daemon"], "sync", OfflineSync(), raising=False)
    p = browser.new_page(viewport={"width": 800, "height": 480})
    p.goto(school["url"] + "/")
    p.wait_for_selector("#offline:not([hidden])", timeout=10_000)
    # Its tooltip, as its words, Chinese first and English too: no English-only title.
    assert p.get_attribute("#offline", "title") == "离线 / offline"
    set_language(p, "zh")
    assert "离线" in text(p, "#offline") and "offline" not in text(p, "#offline")
    set_language(p, "en")
    assert "offline" in text(p, "#offline") and "离线" not in text(p, "#offline")
    look(p, "22-offline")
    p.close()
