"""A child's own reading on the touchscreen, in Chromium on a running daemon (FIFO scans): after
their card tap, their books this term, their grade list's progress and two list books on the
shelf now; never on the idle screen, never to the next child or another client on the network,
nothing with the setting off. And the list's classroom bulletin prints to one A4 page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pypdf
import pytest

from kiosk.circulation.reading import lists
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.clients import next_state, open_stream
from web.helpers import fifo_settings, running, scan
from web.layout import problems
from web.test_collection_e2e import login

MING, YU = "0F00A1B2C3", "0F00A1B2C4"  # two children of grade 3
SCHOOL = [
    ("S001", "王小明", 3, "三(2)班", MING),
    ("S002", "李雨涵", 3, "三(1)班", YU),
    ("S003", "Tom Green", 5, "五(1)班", "0F00A1B2C5"),
]
# The grade's list: four titles (红楼梦 read by 小明 this term); 草房子 is out, so the books on
# the shelf to suggest are 小王子 and 西游记.
LISTED = [
    ("9787020002207", "红楼梦", "I242.4/1"),
    ("9787530215982", "草房子", "I287.45/4"),
    ("9787535449450", "小王子", "I565.88/2"),
    ("9787020024759", "西游记", "I242.4/5"),
]
OTHER = ("9787544270878", "Charlotte's Web", "I712.85/3")
# A long list for the bulletin: it must still print on one A4 page.
LONG = [
    (f"97871000{i:05d}", f"推荐书第{i}本：一个很长的书名，说的是少年读书的故事", "I287/9")
    for i in range(30)
]


@contextmanager
def kiosk_with_lists(folder: Path, show: bool) -> Iterator[dict[str, Any]]:
    """Run a daemon whose school has a grade-3 list; 小明 read one of its books this term."""
    settings, fifo = fifo_settings(
        folder,
        kiosk={"session_timeout_s": 60.0, "session_after_result_s": 60.0},
        reading={"show_progress": show},
    )
    store = open_store(settings)
    with store.write() as db:
        for pid, name, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": "student", "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title, call in [*LISTED, OTHER, *LONG]:
            put_item(db, {"barcode": barcode, "title": title, "call_number": call}, store.now())
    grade_list = lists.save_list(store, lists.ListForm("三年级推荐书目", 3, "2026秋", 4), 6, "t")
    list_id = grade_list.events[0].data["list"]
    for barcode, _, _ in LISTED:
        assert lists.add_title(store, list_id, barcode, "t").ok
    long_list = lists.save_list(store, lists.ListForm("读书节书目", None, "", 10), 6, "t")
    long_id = long_list.events[0].data["list"]
    for barcode, _, _ in LONG:
        assert lists.add_title(store, long_id, barcode, "t").ok
    c = Circulation(store)
    assert c.checkout("S001", "9787020002207").ok and c.checkin("9787020002207").ok
    assert c.checkout("S001", OTHER[0]).ok  # read this term too, not on the list
    assert c.checkout("S003", "9787530215982").ok  # 草房子 is out (with a grade-5 child)
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w") as fifo_out:
        ids = (list_id, long_id)
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "lists": ids}


def open_screen(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(url + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    return page


def session_of(page: Any, kiosk: dict[str, Any], card: str, name: str) -> None:
    scan(kiosk, card)
    wait_js(page, f"document.getElementById('patron-name').textContent === {name!r}")


def end_session(page: Any) -> None:
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])", timeout=5000)


def test_the_child_sees_their_own_reading_and_nobody_else_does(
    browser: Any, tmp_path: Path
) -> None:
    with kiosk_with_lists(tmp_path, show=True) as kiosk:
        page = open_screen(browser, kiosk["url"])
        errors = watch_errors(page)
        assert not page.is_visible("#reading")
        assert "本学期" not in page.inner_text("body")
        session_of(page, kiosk, MING, "小明")
        page.wait_for_selector("#reading:not([hidden])", timeout=5000)
        assert page.inner_text("#reading-read") == "本学期你读了 2 本书"
        assert page.inner_text("#reading-list") == "三年级推荐书目：1 / 4"
        books = page.inner_text("#reading-suggest")
        assert "小王子" in books and "西游记" in books and "文学" in books
        assert "草房子" not in books and "红楼梦" not in books  # out now / read already
        # The screen's layout rules hold with the strip shown, at the smallest screen too.
        for w, h in [(800, 480), (1024, 600), (1280, 800)]:
            page.set_viewport_size({"width": w, "height": h})
            wait_js(page, f"innerWidth === {w} && innerHeight === {h}")
            assert problems(page) == [], (w, h)
            page.screenshot(path=str(ARTIFACTS / f"reading-session-{w}x{h}.png"))
        assert page.locator("h1:visible").count() == 1
        assert_accessible(page, "the session with the child's reading")
        page.click("#lang")
        assert page.inner_text("#reading-read") == "You read 2 books this term"
        assert page.inner_text("#reading-list") == "三年级推荐书目: 1 / 4"
        assert "Literature" in page.inner_text("#reading-suggest")
        assert problems(page) == []
        # Another client on the network sees that a session runs, nothing of the child's reading.
        other = next_state(open_stream(kiosk["daemon"].web.port, source="127.0.0.2"))
        assert other["mode"] == "patron" and other["reading"] is None
        mine = next_state(open_stream(kiosk["daemon"].web.port))
        assert mine["reading"]["list"]["zh"] == "三年级推荐书目：1 / 4"
        end_session(page)
        # Idle: nothing of the child's numbers stays, and the idle screen shows none.
        assert not page.is_visible("#reading")
        body = page.inner_text("body")
        assert "1 / 4" not in body and "本学期" not in body and "this term" not in body
        assert page.inner_text("#reading-read") == "" and page.inner_text("#reading-suggest") == ""
        # The next child of the same grade sees their own progress, never 小明's.
        session_of(page, kiosk, YU, "雨涵")
        wait_js(page, "document.getElementById('reading-list').textContent.includes('0 / 4')")
        assert page.inner_text("#reading-read") == "本学期你读了 0 本书"
        assert "1 / 4" not in page.inner_text("body")
        end_session(page)
        assert errors == []
        page.close()


def test_with_the_setting_off_nothing_is_shown(browser: Any, tmp_path: Path) -> None:
    with kiosk_with_lists(tmp_path, show=False) as kiosk:
        page = open_screen(browser, kiosk["url"])
        session_of(page, kiosk, MING, "小明")
        assert kiosk["daemon"].kiosk.mode == "patron"
        mine = next_state(open_stream(kiosk["daemon"].web.port))
        assert mine["patron"]["name"] == "小明" and mine["reading"] is None
        assert not page.is_visible("#reading")
        body = page.inner_text("body")
        assert "本学期" not in body and "1 / 4" not in body and "书架上有" not in body
        end_session(page)
        page.close()


@pytest.mark.parametrize("which", [0, 1], ids=["grade-list", "thirty-titles"])
def test_the_bulletin_prints_on_one_a4_page(browser: Any, tmp_path: Path, which: int) -> None:
    with kiosk_with_lists(tmp_path, show=True) as kiosk:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        login(page, kiosk["url"])
        list_id = kiosk["lists"][which]
        page.goto(f"{kiosk['url']}/admin/reading/{list_id}/print")
        printed_pdf = page.pdf(prefer_css_page_size=True)
        (ARTIFACTS / f"reading-bulletin-{which}.pdf").write_bytes(printed_pdf)
        pdf = pypdf.PdfReader(io.BytesIO(printed_pdf))
        assert len(pdf.pages) == 1
        box = pdf.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
        printed = pdf.pages[0].extract_text()
        titles = [t for _, t, _ in (LISTED if which == 0 else LONG)]
        name = "三年级推荐书目" if which == 0 else "读书节书目"
        assert name in printed
        # Every title, in the order added (pypdf may break a long title's line).
        flat = printed.replace("\n", "").replace(" ", "")
        at = [flat.find(t.replace(" ", "")) for t in titles]
        assert -1 not in at and at == sorted(at)
        assert "Charlotte" not in printed
        page.close()


def test_a_book_on_the_hold_shelf_for_another_child_is_not_suggested(
    browser: Any, tmp_path: Path
) -> None:
    with kiosk_with_lists(tmp_path, show=True) as kiosk:
        page = open_screen(browser, kiosk["url"])
        errors = watch_errors(page)
        prince = LISTED[2][0]
        # Tom borrows 小王子 (the list's book, its only copy); 雨涵 asks for it at the desk.
        session_of(page, kiosk, "0F00A1B2C5", "Tom")
        scan(kiosk, prince)
        page.wait_for_selector("#last.ok")
        end_session(page)
        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        login(admin, kiosk["url"])
        admin.goto(kiosk["url"] + "/desk/collection/")
        admin.fill("#hold-form input[name=barcode]", prince)
        admin.fill("#hold-form input[name=patron_id]", "S002")
        admin.click("#hold-form button[type=submit]")
        admin.wait_for_selector(".flash:not(.error)")
        admin.close()
        # Tom hands it in: it goes to the hold shelf, kept for 雨涵.
        scan(kiosk, prince)
        wait_js(page, "document.getElementById('answer-message').innerText.includes('预约书架')")
        held = kiosk["daemon"].store.query(
            "SELECT patron_id, status FROM holds WHERE item_barcode = ?", [prince]
        )
        assert [(r["patron_id"], r["status"]) for r in held] == [("S002", "ready")]
        # 小明 is not sent to look on the shelf for it: only 西游记 is suggested.
        session_of(page, kiosk, MING, "小明")
        page.wait_for_selector("#reading:not([hidden])", timeout=5000)
        books = page.inner_text("#reading-suggest")
        assert "西游记" in books and "小王子" not in books, books
        assert page.inner_text("#reading-list") == "三年级推荐书目：1 / 4"
        end_session(page)
        assert errors == []
        page.close()
