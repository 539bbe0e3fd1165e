"""A helper at the desk finds a book for a child, in Chromium on the running daemon: the kiosk's
own search (pinyin initials too), where the copies are (on the shelf, back by a date, in a class
corner) and the shelf in words, never who has a book, in both languages, axe-core 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_patron
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, watch_errors
from web.helpers import fifo_settings, running, scan, wait_for
from web.test_find_screen import make_school

HELPER = "0F00AAAA01"


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The search's school with a class library helper, its daemon running on a fake clock."""
    folder = tmp_path_factory.mktemp("find-desk")
    settings, fifo = fifo_settings(folder, kiosk={"session_timeout_s": 600.0})
    now = dt.datetime.now(dt.UTC)
    make_school(settings, now)
    store = open_store(settings, FakeClock(now))
    with store.write() as db:
        row = {"id": "H001", "name": "张晨", "role": "helper", "grade": 5, "class_name": "五(1)班"}
        put_patron(db, row, [HELPER], store.now())
    store.close()
    daemon = Daemon(settings, clock=FakeClock(now))
    with running(daemon), open(fifo, "w") as fifo_out:
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon}


def test_a_helper_finds_a_book_for_a_child(browser: Any, school: dict[str, Any]) -> None:
    scan(school, HELPER)
    wait_for(lambda: school["daemon"].kiosk.mode == "desk")
    page = browser.new_page(viewport={"width": 800, "height": 480})
    errors = watch_errors(page)
    page.goto(school["url"] + "/desk/?lang=zh_CN")
    page.fill("form.search input[name=q]", "lwm")
    page.click("form.search button")
    page.wait_for_selector("table.found.books")
    row = page.locator("table.found.books tr:has(td)")
    assert row.count() == 1
    assert row.locator("td").first.inner_text() == "狼王梦 沈石溪"
    where = row.locator("td.where").inner_text()
    assert "书架上有：1 本" in where and "在三(2)班图书角" in where
    assert "借出：1 本" in where and "前还回" in where
    assert row.locator("td.shelf").inner_text() == "I 文学 · I287.45/11"
    # Who has the other copy (Tom, 五(1)班; the teacher's corner loan) is never shown.
    body = page.inner_text("body")
    assert "Tom" not in body and "陈老师" not in body and "五(1)班" not in body
    assert page.locator("table.found.people").count() == 0  # no student is called lwm
    assert_accessible(page, "desk: books found (zh)")
    page.screenshot(path=str(ARTIFACTS / "find-desk-zh.png"))

    page.goto(school["url"] + "/desk/?lang=en&q=cljs")
    row = page.locator("table.found.books tr:has(td)")
    assert row.locator("td.where").inner_text().startswith("On loan: 2, back by ")
    assert row.locator("td.shelf").inner_text() == "I stories and poems · I287.45/20"
    assert page.locator("table.found.books caption").inner_text() == "Books found for cljs"
    assert_accessible(page, "desk: all copies out (en)")
    page.screenshot(path=str(ARTIFACTS / "find-desk-en.png"))

    page.goto(school["url"] + "/desk/?lang=en&q=zzzz")
    assert page.inner_text("table.found.people tr") == "Nothing found."
    assert_accessible(page, "desk: nothing found (en)")
    assert errors == []
    page.close()
