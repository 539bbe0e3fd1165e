"""Find a book at the kiosk, in Chromium at 800x480 on a running daemon (FIFO scans, fake clock).

A child opens 找书, types `lwm` on the on-screen letters and sees 狼王梦 with its shelf; a title
with every copy out shows the date it is back by and takes a hold with "I want this" and a card
tap (the store holds the hold, the child hears their place); a card tapped mid-search starts
the session at once; an idle search goes back to the idle screen after 30 s without a touch
(the daemon's clock moved, no waiting). Every search screen: no text over text, nothing cut,
one h1, axe-core 0, in both languages. Screenshots: test-artifacts/find-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import corners
from kiosk.circulation.reading import lists
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, screen_page, wait_js, watch_errors
from web.helpers import fifo_settings, running
from web.layout import problems
from web.test_screen_states import scan, set_language

A, B, C = "0F00A1B2C3", "0F00A1B2C4", "0F00A1B2C5"
SCHOOL = [
    ("S001", "王小明", "student", 3, "三(2)班", A),
    ("S002", "李雨涵", "student", 4, "四(1)班", B),
    ("S003", "Tom Green", "student", 5, "五(1)班", C),
    ("T001", "陈老师", "teacher", None, "三(2)班", "0F00BBBB01"),
]
BOOKS = [
    ("WOLF1", "狼王梦", "沈石溪", "I287.45/11"),
    ("WOLF2", "狼王梦", "沈石溪", "I287.45/11"),
    ("WOLF3", "狼王梦", "沈石溪", "I287.45/11"),
    ("CHA1", "查理九世 1：墨西哥死亡面具", "雷欧幻像", "I287.45/20"),
    ("CHA2", "查理九世 1：墨西哥死亡面具", "雷欧幻像", "I287.45/20"),
    ("DINO", "恐龙百科全书：远古世界的霸主们（少年彩图版）", "", "Q915.864/3"),
    ("WEB", "Charlotte's Web", "E. B. White", "I712.85/3"),
]
# A long list: 24 titles of one series, every third lent to the teacher.
SERIES = [
    (f"BUG{n:02d}", f"小书虫的第{n}本故事书：森林里的秘密", "", "I287.7/9") for n in range(24)
]


def make_school(settings: Any, now: dt.datetime) -> None:
    """狼王梦: one copy on the shelf, one lent, one in 三(2)班's corner; 查理九世 1: all out."""
    week = open_store(settings, FakeClock(now - dt.timedelta(days=7)))
    with week.write() as db:
        for pid, name, role, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [card], week.now())
        for barcode, title, author, call in BOOKS + SERIES:
            row = {"barcode": barcode, "title": title, "author": author, "call_number": call}
            put_item(db, row, week.now())
    c = Circulation(week, "Asia/Shanghai")
    assert c.checkout("S003", "WOLF2").ok
    assert c.checkout("S003", "CHA1").ok
    assert c.checkout("S002", "CHA2").ok
    for barcode, *_ in SERIES[::3]:
        assert c.checkout("T001", barcode).ok
    tz = c.tz
    due = (now + dt.timedelta(days=30)).astimezone(tz).date()
    assert corners.lend(week, "三(2)班", "T001", ["WOLF3"], due, tz, "librarian").ok
    # Grade 3's list, an older one it replaced, and grade 5's.
    for grade, name, books in [
        (3, "三年级旧书目", ["DINO"]),
        (3, "三年级推荐书目（2026秋）", ["WEB", "WOLF1", "CHA2"]),
        (5, "五年级推荐书目", ["DINO"]),
    ]:
        saved = lists.save_list(week, lists.ListForm(name, grade, "2026秋", 0), 6, "t")
        assert saved.ok
        for barcode in books:
            assert lists.add_title(week, saved.events[0].data["list"], barcode, "t").ok
        clock = week.clock
        assert isinstance(clock, FakeClock)
        clock.advance(60)  # the next list is saved later: the newest is the grade's list
    week.close()


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running daemon on a fake clock, its FIFO and its pages on loopback."""
    folder = tmp_path_factory.mktemp("find")
    settings, fifo = fifo_settings(folder, kiosk={"session_timeout_s": 600.0})
    now = dt.datetime.now(dt.UTC)
    make_school(settings, now)
    daemon = Daemon(settings, clock=FakeClock(now))
    with running(daemon), open(fifo, "w") as fifo_out:
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "clock": daemon.clock}


@pytest.fixture(scope="module")
def page(browser: Any, school: dict[str, Any]) -> Iterator[Any]:
    """The kiosk's own screen at 800x480."""
    with screen_page(browser, school["url"]) as p:
        yield p


def look(page: Any, state: str) -> None:
    """Check a search screen at 800x480 in both languages; save a screenshot of each."""
    ARTIFACTS.mkdir(exist_ok=True)
    found = []
    for lang in ("zh", "en"):
        set_language(page, lang)
        page.screenshot(path=str(ARTIFACTS / f"find-{state}-{lang}.png"))
        found += [f"{lang}: {p}" for p in problems(page)]
        assert_accessible(page, f"{state} ({lang})")
    set_language(page, "zh")
    assert not found, f"{state}:\n" + "\n".join(found)


def type_letters(page: Any, letters: str) -> None:
    """Touch the on-screen keys one by one, as a child does."""
    for letter in letters:
        page.click(f'#keyboard button[data-key="{letter}"]')


def titles(page: Any) -> list[str]:
    return list(page.locator("#find-results li .t").all_inner_texts())


def open_find(page: Any) -> None:
    page.click("#find-open")
    page.wait_for_selector("#find:not([hidden])")


def close_find(page: Any) -> None:
    if page.is_visible("#find"):
        page.click("#find-close")
        page.wait_for_selector("#find", state="hidden")


def holds(school: dict[str, Any]) -> list[tuple[str, str]]:
    rows = school["daemon"].store.query(
        "SELECT patron_id, item_barcode FROM holds WHERE status = 'waiting' ORDER BY placed_at"
    )
    return [(r["patron_id"], r["item_barcode"]) for r in rows]


def test_a_child_types_lwm_and_sees_the_wolf_king_with_its_shelf(page: Any) -> None:
    open_find(page)
    assert page.is_hidden("#idle")
    look(page, "01-open")
    type_letters(page, "lwm")
    wait_js(page, "document.querySelectorAll('#find-results li').length === 1")
    assert page.inner_text("#find-q") == "lwm"
    assert titles(page) == ["狼王梦"]
    row = page.locator("#find-results li").first
    where = row.locator(".where").inner_text()
    assert "书架上有：1 本" in where
    assert "在三(2)班图书角" in where
    back = page.evaluate("document.querySelector('#find-results .out').innerText")
    assert "借出：1 本" in back and "前还回" in back
    assert row.locator(".shelf").inner_text() == "书架：I 文学 · I287.45/11"
    assert row.locator("button.want").count() == 0  # a copy is on the shelf: borrow it
    assert "Tom" not in page.inner_text("body") and "陈老师" not in page.inner_text("body")
    set_language(page, "en")
    assert row.locator(".shelf").inner_text() == "Shelf: I stories and poems · I287.45/11"
    assert "On the shelf: 1" in row.locator(".where").inner_text()
    set_language(page, "zh")
    look(page, "02-lwm")
    page.click('#keyboard button[data-key="del"]')
    wait_js(page, "document.getElementById('find-q').textContent === 'lw'")
    type_letters(page, "zzz")
    page.wait_for_selector("#find-none:not([hidden])")
    look(page, "03-nothing-found")
    close_find(page)
    page.wait_for_selector("#idle:not([hidden])")


def test_all_copies_out_shows_the_date_and_takes_a_hold_with_a_card_tap(
    page: Any, school: dict[str, Any]
) -> None:
    open_find(page)
    type_letters(page, "cljs")
    wait_js(page, "document.querySelectorAll('#find-results button.want').length === 1")
    assert titles(page) == ["查理九世 1：墨西哥死亡面具"]
    due = page.locator("#find-results .out").inner_text()
    assert due.startswith("借出：2 本，") and due.endswith("前还回")
    look(page, "04-all-out")
    page.click("#find-results button.want")
    page.wait_for_selector("#find-tap:not([hidden])")
    assert page.inner_text("#find-tap") == "请刷卡，帮你排队。"
    look(page, "05-tap-your-card")
    assert holds(school) == []
    scan(school, page, A)
    page.wait_for_selector("#session:not([hidden])")
    assert page.is_hidden("#find")
    # The copy due back first (both lent the same moment: the first barcode) is held.
    assert holds(school) == [("S001", "CHA1")]
    assert (
        page.inner_text("#last-message")
        == "你好，小明！你是《查理九世 1：墨西哥死亡面具》预约队伍里的第 1 位。"
    )
    look(page, "06-hold-placed")


def test_in_a_session_a_second_child_in_the_queue_hears_their_place(
    page: Any, school: dict[str, Any]
) -> None:
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])")
    scan(school, page, "0F00BBBB01")  # the teacher
    page.wait_for_selector("#session:not([hidden])")
    open_find(page)
    look(page, "07-in-a-session")
    type_letters(page, "chali")
    page.wait_for_selector("#find-results button.want")
    page.click("#find-results button.want")
    page.wait_for_selector("#find", state="hidden")
    wait_js(page, "document.getElementById('last-message').innerText.includes('第 1 位')")
    # CHA1 has 小明 waiting: the teacher waits for CHA2, where nobody waits yet.
    assert holds(school) == [("S001", "CHA1"), ("T001", "CHA2")]
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])")


def test_a_long_list_scrolls_in_its_box(page: Any) -> None:
    open_find(page)
    type_letters(page, "xsc")
    wait_js(page, "document.querySelectorAll('#find-results li').length === 20")
    page.wait_for_selector("#find-more:not([hidden])")
    assert titles(page)[:2] == [
        "小书虫的第0本故事书：森林里的秘密",
        "小书虫的第1本故事书：森林里的秘密",
    ]
    look(page, "08-long-list")
    page.locator("#find-results li").last.scroll_into_view_if_needed()
    look(page, "09-long-list-scrolled")
    close_find(page)


def test_before_typing_a_child_browses_the_shelves(page: Any) -> None:
    open_find(page)
    page.wait_for_selector("#find-results button.browse")
    chips = page.locator("#find-results button.browse").all_inner_texts()
    # Idle: the lists of every grade that has one, never anything about a child.
    assert chips == ["三年级推荐书目", "五年级推荐书目", "新书", "本月借阅最多", "I 文学", "Q 生物"]
    look(page, "10-browse")
    page.click("#find-results button.browse >> text=Q 生物")
    wait_js(page, "document.querySelectorAll('#find-results li .t').length === 1")
    assert titles(page) == ["恐龙百科全书：远古世界的霸主们（少年彩图版）"]
    assert page.inner_text("#find-q") == "Q 生物"
    assert page.locator("#find-results .shelf").inner_text() == "书架：Q 生物 · Q915.864/3"
    look(page, "11-browse-shelf")
    type_letters(page, "w")  # a letter starts a search again
    wait_js(page, "document.getElementById('find-q').textContent === 'w'")
    close_find(page)


def test_in_a_childs_session_their_grades_list_is_one_touch_away(
    page: Any, school: dict[str, Any]
) -> None:
    scan(school, page, A)  # 小明, grade 3
    page.wait_for_selector("#session:not([hidden])")
    open_find(page)
    page.wait_for_selector("#find-results button.browse")
    chips = page.locator("#find-results button.browse").all_inner_texts()
    # Their own grade's list only, first; grade 5's is not theirs.
    assert chips == ["三年级推荐书目", "新书", "本月借阅最多", "I 文学", "Q 生物"]
    page.click("#find-results button.browse >> text=三年级推荐书目")
    wait_js(page, "document.querySelectorAll('#find-results li .t').length === 3")
    # The newest grade-3 list (the reading strip's), in its order, each with where it stands.
    assert titles(page) == ["Charlotte's Web", "狼王梦", "查理九世 1：墨西哥死亡面具"]
    assert page.inner_text("#find-q") == "三年级推荐书目"
    rows = page.locator("#find-results li")
    assert "书架上有：1 本" in rows.nth(0).locator(".where").inner_text()
    assert rows.nth(0).locator(".shelf").inner_text() == "书架：I 文学 · I712.85/3"
    assert rows.nth(2).locator(".where").inner_text().startswith("借出：2 本，")
    assert rows.nth(2).locator("button.want").count() == 1
    assert "Tom" not in page.inner_text("#find") and "陈老师" not in page.inner_text("#find")
    set_language(page, "en")
    assert page.inner_text("#find-q") == "Grade 3 reading list"
    set_language(page, "zh")
    look(page, "12-grade-list")
    close_find(page)
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])")


def test_a_card_tap_mid_search_starts_the_session_at_once(
    page: Any, school: dict[str, Any]
) -> None:
    open_find(page)
    type_letters(page, "kl")
    page.wait_for_selector("#find-results li")
    scan(school, page, B)
    page.wait_for_selector("#session:not([hidden])")
    assert page.is_hidden("#find") and page.inner_text("#patron-name") == "雨涵"
    assert school["daemon"].kiosk.mode == "patron"
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])")


def test_an_idle_search_goes_back_to_the_idle_screen_after_30_s_without_a_touch(
    page: Any, school: dict[str, Any]
) -> None:
    clock = school["clock"]
    open_find(page)
    type_letters(page, "char")
    # "cha" finds 查理九世 too; wait for the answer to the last letter, not any answer.
    wait_js(page, "document.querySelectorAll('#find-results li').length === 1")
    assert titles(page) == ["Charlotte's Web"]
    clock.advance(20)
    type_letters(page, "l")  # a touch: 30 s from now
    wait_js(page, "document.getElementById('find-q').textContent === 'charl'")
    page.wait_for_selector("#find-results li")
    clock.advance(20)
    # 40 s after opening, 20 s after the last touch: still open.
    assert page.is_visible("#find") and not school["daemon"].kiosk.search_over()
    clock.advance(11)
    page.wait_for_selector("#find", state="hidden")
    page.wait_for_selector("#idle:not([hidden]) #tap:not([hidden])")
    assert page.inner_text("#find-results") == ""


def test_the_catalogue_page_in_both_languages(browser: Any, school: dict[str, Any]) -> None:
    p = browser.new_page(viewport={"width": 1024, "height": 600})
    errors = watch_errors(p)
    p.goto(school["url"] + "/catalogue?lang=zh_CN")
    assert p.inner_text("h1") == "图书馆藏书目录"
    assert_accessible(p, "/catalogue (zh)")
    p.fill("#q", "lwm")
    p.click("form[role=search] button[type=submit]")
    p.wait_for_selector("table.catalogue-results")
    row = p.locator("table.catalogue-results tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts()[:2] == ["狼王梦", "沈石溪"]
    where = row.locator("td").nth(2).inner_text()
    assert "书架上有：1 本" in where and "在三(2)班图书角" in where and "前还回" in where
    assert row.locator("td").nth(3).inner_text() == "I 文学 · I287.45/11"
    assert "Tom" not in p.inner_text("body")  # never who has a book
    assert_accessible(p, "/catalogue?q=lwm (zh)")
    grades = p.locator("nav.browse a").all_inner_texts()[:2]
    assert grades == ["三年级推荐书目", "五年级推荐书目"]
    p.click("nav.browse a >> text=三年级推荐书目")
    p.wait_for_selector("nav.browse a[aria-current=page] >> text=三年级推荐书目")
    shown = p.locator("table.catalogue-results tbody tr td:first-child").all_inner_texts()
    assert shown == ["Charlotte's Web", "狼王梦", "查理九世 1：墨西哥死亡面具"]
    assert_accessible(p, "/catalogue?browse=grade:3 (zh)")
    p.screenshot(path=str(ARTIFACTS / "find-catalogue-zh.png"))
    p.goto(school["url"] + "/catalogue?lang=en&q=cljs")
    assert p.inner_text("h1") == "Library catalogue"
    where = p.locator("table.catalogue-results tbody tr td").nth(2).inner_text()
    assert where.startswith("On loan: 2, back by ")
    assert_accessible(p, "/catalogue?q=cljs (en)")
    p.click("nav.browse a >> text=Q living things")
    p.wait_for_selector("table.catalogue-results")
    assert p.locator("table.catalogue-results caption").inner_text() == "Books to browse"
    assert (
        p.locator("table.catalogue-results tbody td").first.inner_text().startswith("恐龙百科全书")
    )
    assert_accessible(p, "/catalogue?browse=Q (en)")
    p.click("nav.browse a >> text=Grade 5 reading list")
    p.wait_for_selector("nav.browse a[aria-current=page] >> text=Grade 5 reading list")
    shown = p.locator("table.catalogue-results tbody tr td:first-child").all_inner_texts()
    assert shown == ["恐龙百科全书：远古世界的霸主们（少年彩图版）"]
    p.goto(school["url"] + "/catalogue?q=zzzz")
    assert p.inner_text("[role=status]") == "No book found. Try other letters."
    assert_accessible(p, "/catalogue nothing found (en)")
    p.screenshot(path=str(ARTIFACTS / "find-catalogue-en.png"))
    assert errors == []
    p.close()
