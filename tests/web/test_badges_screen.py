"""Reading badges on the touchscreen, in Chromium on a running daemon (FIFO scans, a fake clock
the test moves): a badge shows once, in its child's own session, with its own tune on the lights;
the same child's next session, the next child's, another client on the network and the idle
screen never show it; a book out and back the same day earns nothing; with the setting off
nothing is shown or recorded. The librarian sees the badge on the patron's page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon, open_store
from kiosk.devices.base import Health
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, screen_page, wait_js
from web.clients import next_state, open_stream
from web.helpers import fifo_settings, running, scan
from web.layout import problems
from web.test_collection_e2e import login

MING, YU = "0F00A1B2C3", "0F00A1B2C4"
SCHOOL = [("S001", "王小明", 3, "三(2)班", MING), ("S002", "李雨涵", 3, "三(1)班", YU)]
RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"
BOOKS = [(RED, "红楼梦", "I242.4/1"), (PRINCE, "小王子", "I565.88/2"), (WEB, "夏洛的网", "I712/3")]
FIRST = "本学期你的第一本书！"
FIRST_EN = "Your first book of the term!"


class Lights:
    """The indicator's place at the hardware edge: the patterns the kiosk asked for, in order."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.health = Health("indicator test", connected=True)

    def show(self, pattern: str, text: str = "") -> None:
        self.shown.append(pattern)

    def close(self) -> None:
        """Nothing to release."""


@contextmanager
def kiosk_on_a_clock(folder: Path, badges: bool) -> Iterator[dict[str, Any]]:
    """Run a daemon on a fake clock; 小明 took 红楼梦 out and back within two hours, 3 days ago."""
    settings, fifo = fifo_settings(folder, reading={"badges": badges})
    clock = FakeClock(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
    store = open_store(settings, clock)
    with store.write() as db:
        for pid, name, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": "student", "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title, call in BOOKS:
            put_item(db, {"barcode": barcode, "title": title, "call_number": call}, store.now())
    c = Circulation(store)
    assert c.checkout("S001", RED).ok
    clock.advance(2 * 3600)
    assert c.checkin(RED).ok
    store.close()
    clock.advance(days=3)
    lights = Lights()
    daemon = Daemon(settings, clock=clock, indicator=lights)
    with running(daemon), open(fifo, "w") as fifo_out:
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "clock": clock,
               "lights": lights}  # fmt: skip


def session_of(page: Any, kiosk: dict[str, Any], card: str, name: str) -> None:
    seen = page.evaluate("window.kioskEvents.length")
    scan(kiosk, card)
    wait_js(page, f"window.kioskEvents.length > {seen}")
    wait_js(page, f"document.getElementById('patron-name').textContent === {name!r}")


def scan_book(page: Any, kiosk: dict[str, Any], code: str) -> None:
    seen = page.evaluate("window.kioskEvents.length")
    scan(kiosk, code)
    wait_js(page, f"window.kioskEvents.length > {seen}")


def end_session(page: Any) -> None:
    page.click("#done")
    page.wait_for_selector("#idle:not([hidden])", timeout=5000)


def badges_of(kiosk: dict[str, Any], pid: str = "S001") -> list[str]:
    rows = kiosk["daemon"].store.query("SELECT badge FROM badges WHERE patron_id = ?", [pid])
    return [r["badge"] for r in rows]


def test_a_badge_shows_once_to_its_child_only(browser: Any, tmp_path: Path) -> None:
    with (
        kiosk_on_a_clock(tmp_path, badges=True) as kiosk,
        screen_page(browser, kiosk["url"]) as page,
    ):
        # The book out and back the same day earned nothing: no badge at the card tap.
        session_of(page, kiosk, MING, "小明")
        assert page.is_hidden("#badge") and badges_of(kiosk) == []
        assert "session_started" in kiosk["lights"].shown
        scan_book(page, kiosk, PRINCE)  # borrowed now: counts once it has been out a day
        page.wait_for_selector("#last.ok")
        assert page.is_hidden("#badge") and badges_of(kiosk) == []
        end_session(page)
        kiosk["clock"].advance(days=1, seconds=60)
        # The idle screen, a day later: nothing of anyone's badge.
        assert page.is_hidden("#badge") and FIRST not in page.inner_text("body")
        # 小明's next card tap: the badge, on his own session screen, with its own tune.
        kiosk["lights"].shown.clear()
        session_of(page, kiosk, MING, "小明")
        page.wait_for_selector("#badge:not([hidden])")
        assert page.inner_text("#badge-list") == FIRST
        assert page.locator("#badge-list .one[data-badge=first_book]").count() == 1
        assert kiosk["lights"].shown == ["badge"]
        assert badges_of(kiosk) == ["first_book"]
        # Another client on the network sees a session, never the child's badge.
        other = next_state(open_stream(kiosk["daemon"].web.port, source="127.0.0.2"))
        assert other["mode"] == "patron" and other["badges"] == []
        # The screen still fits its smallest size with the badge shown, in both languages.
        assert problems(page) == []
        page.screenshot(path=str(ARTIFACTS / "badge-800x480-zh.png"))
        page.click("#lang")
        assert page.inner_text("#badge-list") == FIRST_EN
        assert problems(page) == []
        page.click("#lang")
        # Shown once: the next answer in the same session has no badge, and a page opened
        # now (a reload) shows none either.
        scan_book(page, kiosk, PRINCE)  # handed back after a day: counted, nothing new
        page.wait_for_selector("#last.ok")
        assert page.is_hidden("#badge")
        mine = next_state(open_stream(kiosk["daemon"].web.port))
        assert mine["patron"]["name"] == "小明" and mine["badges"] == []
        end_session(page)
        assert page.is_hidden("#badge") and FIRST not in page.inner_text("body")
        # His next session: no badge again. The next child's: never his.
        kiosk["clock"].advance(60)
        session_of(page, kiosk, MING, "小明")
        assert page.is_hidden("#badge")
        end_session(page)
        session_of(page, kiosk, YU, "雨涵")
        assert page.is_hidden("#badge") and FIRST not in page.inner_text("body")
        end_session(page)
        assert badges_of(kiosk) == ["first_book"] and badges_of(kiosk, "S002") == []
        # The librarian sees 小明's badge on his page of the dashboard, and 雨涵 has none.
        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        login(admin, kiosk["url"])
        admin.goto(kiosk["url"] + "/admin/patrons/S001")
        assert admin.locator("#badges td").first.inner_text() == "第一本书"
        assert "2026-09-01" in admin.inner_text("#badges")
        assert_accessible(admin, "the patron page with a badge")
        admin.goto(kiosk["url"] + "/admin/patrons/S002")
        assert admin.locator("#badges").count() == 0
        admin.close()


def test_with_badges_off_nothing_is_shown_or_recorded(browser: Any, tmp_path: Path) -> None:
    with (
        kiosk_on_a_clock(tmp_path, badges=False) as kiosk,
        screen_page(browser, kiosk["url"]) as page,
    ):
        session_of(page, kiosk, MING, "小明")
        scan_book(page, kiosk, PRINCE)
        page.wait_for_selector("#last.ok")
        end_session(page)
        kiosk["clock"].advance(days=2)
        session_of(page, kiosk, MING, "小明")
        mine = next_state(open_stream(kiosk["daemon"].web.port))
        assert mine["patron"]["name"] == "小明" and mine["badges"] == []
        assert page.is_hidden("#badge") and FIRST not in page.inner_text("body")
        assert "badge" not in kiosk["lights"].shown
        end_session(page)
        store = kiosk["daemon"].store
        assert badges_of(kiosk) == []
        assert store.value("SELECT count(*) FROM events WHERE type = 'badge_awarded'") == 0


def test_an_update_sent_again_after_the_child_left_shows_no_badge(app: Any, daemon: Any) -> None:
    """A page resuming its stream gets the updates it missed: the badge's update, replayed once
    the next child's session runs (or the idle screen), carries no badge."""
    from kiosk.circulation.session import Feedback
    from kiosk.web import screen, web
    from kiosk.web.live import Update

    kiosk = daemon.kiosk
    hello = kiosk.scan(MING)
    earned = replace(hello, badges=({"badge": "first_book", "count": 1},))
    update = Update("session_started", earned, "patron", kiosk.patron, ())
    with app.test_request_context("/"):
        shown = screen.state_of(web(), update)["badges"]
        assert [b["zh"] for b in shown] == [FIRST]
        kiosk.scan(YU)  # the next child steps up
        assert screen.state_of(web(), update)["badges"] == []
        kiosk.done()
        idle = screen.state_of(web(), Update("session_ended", Feedback("session_ended", "", "")))
        assert "badges" not in idle and screen.state_of(web(), update)["badges"] == []
