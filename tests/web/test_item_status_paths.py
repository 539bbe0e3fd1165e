"""The book page's status buttons go through the collection's commands: one path per change."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from kiosk.daemon.app import Daemon
from kiosk.web.server import WebServer

PASSWORD = "correct horse battery"
RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


@pytest.fixture
def site(app: Flask) -> Iterator[str]:
    """The daemon's pages served by waitress on loopback, with a librarian account."""
    app.extensions["kiosk"].passwords.set("librarian", PASSWORD)
    srv = WebServer(app, "127.0.0.1:0", threads=4)
    srv.start()
    yield f"http://127.0.0.1:{srv.port}"
    srv.stop()


def logged_in(url: str) -> requests.Session:
    s = requests.Session()
    s.get(url + "/admin/login?lang=en", timeout=5)  # the language cookie: English from here on
    form = {"csrf_token": csrf(s, url + "/admin/login"), "user": "librarian", "password": PASSWORD}
    assert s.post(url + "/admin/login", data=form, timeout=5).status_code == 200
    return s


def csrf(s: requests.Session, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', s.get(page, timeout=5).text)
    assert found, page
    return found.group(1)


def form_of(page: str, form_id: str) -> tuple[str, dict[str, str]]:
    """Return the action and hidden fields of one form of a page, as a browser would send them."""
    pattern = rf'<form method="post" action="([^"]+)" id="{form_id}">(.*?)</form>'
    found = re.search(pattern, page, re.S)
    assert found, form_id
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(2))
    return html.unescape(found.group(1)), {k: html.unescape(v) for k, v in hidden}


def submit(s: requests.Session, url: str, page_path: str, form_id: str, **fields: str) -> str:
    action, hidden = form_of(s.get(url + page_path, timeout=5).text, form_id)
    r = s.post(url + action, data={**hidden, **fields}, timeout=5)
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def incident_rows(daemon: Daemon, barcode: str) -> list[dict[str, Any]]:
    """What a book marked lost leaves in the store, without its own ids and times."""
    store = daemon.store
    rows = store.query(
        "SELECT i.kind, i.patron_id, i.actor, i.note, i.loan_uuid = l.uuid AS its_loan, "
        "l.closed_as, l.returned_at IS NOT NULL AS ended, it.status FROM incidents i "
        "JOIN loans l ON l.uuid = i.loan_uuid JOIN items it ON it.barcode = i.item_barcode "
        "WHERE i.item_barcode = ?",
        [barcode],
    )
    events = store.query(
        "SELECT type, actor, patron_id, data FROM events WHERE item_barcode = ? "
        "AND type NOT IN ('checkout') ORDER BY seq",
        [barcode],
    )
    return rows + [{**e, "data": re.sub(r'"loan_uuid": "[^"]+"', "", e["data"])} for e in events]


def test_a_book_on_loan_marked_lost_on_its_page_is_the_collections_lost_book(
    site: str, daemon: Daemon
) -> None:
    assert daemon.circulation.checkout("S001", RED).ok
    assert daemon.circulation.checkout("S003", WEB).ok
    s = logged_in(site)

    page = submit(s, site, f"/admin/items/{RED}", "item-mark", kind="lost", note="left on bus")
    assert "Marked lost: 9787020002207." in page
    assert f"{RED} · lost" in page  # back on the book's page, its status shown
    # The same from the collection page, for the other book.
    coll = s.post(
        site + "/admin/collection/item/mark",
        data={
            "csrf_token": csrf(s, site + "/admin/collection/"),
            "barcode": WEB,
            "kind": "lost",
            "note": "left on bus",
        },
        timeout=5,
    )
    assert coll.status_code == 200

    lost_list = html.unescape(s.get(site + "/admin/collection/list/lost", timeout=5).text)
    for barcode, name in ((RED, "王小明"), (WEB, "Tom Green")):
        assert re.search(rf"{barcode}.*?{name}", lost_list, re.S), barcode
    assert daemon.circulation.open_loan(RED) is None
    book = incident_rows(daemon, RED)
    assert book[0] == {
        "kind": "lost",
        "patron_id": "S001",
        "actor": "librarian:librarian",
        "note": "left on bus",
        "its_loan": 1,
        "closed_as": "lost",
        "ended": 1,
        "status": "lost",
    }
    other = incident_rows(daemon, WEB)
    assert other[0] == {**book[0], "patron_id": "S003"}
    assert [(e["type"], e["actor"], e["data"]) for e in book[1:]] == [
        (e["type"], e["actor"], e["data"]) for e in other[1:]
    ]
    assert [e["type"] for e in book[1:]] == ["item_lost"]

    # Back from lost by "Found again" on the book page, not by a bare status.
    r = s.post(
        site + f"/admin/items/{RED}/status",
        data={"csrf_token": csrf(s, site + f"/admin/items/{RED}"), "status": "available"},
        timeout=5,
    )
    assert "Use the buttons of the book's page" in html.unescape(r.text)
    assert daemon.store.value("SELECT status FROM items WHERE barcode = ?", [RED]) == "lost"
    page = submit(s, site, f"/admin/items/{RED}", "item-found")
    assert f"Restored: {RED} is back on the shelf." in page
    assert daemon.store.query(
        "SELECT resolved_as FROM incidents WHERE item_barcode = ?", [RED]
    ) == [{"resolved_as": "found"}]


def test_the_old_status_button_changes_nothing_and_withdrawal_keeps_its_reason(
    site: str, daemon: Daemon
) -> None:
    s = logged_in(site)
    before = daemon.store.query("SELECT * FROM events ORDER BY seq")
    r = s.post(
        site + f"/admin/items/{PRINCE}/status",
        data={"csrf_token": csrf(s, site + f"/admin/items/{PRINCE}"), "status": "lost"},
        timeout=5,
    )
    assert "Use the buttons of the book's page" in html.unescape(r.text)
    assert daemon.store.query("SELECT * FROM events ORDER BY seq") == before

    page = submit(s, site, f"/admin/items/{PRINCE}", "item-withdraw", reason="worn", note="torn")
    assert f"Withdrawn: {PRINCE}." in page
    assert daemon.store.query("SELECT reason, note FROM withdrawals") == [
        {"reason": "worn", "note": "torn"}
    ]
    # Back on the shelf: the one change with no other path stays on the book page.
    page = submit(s, site, f"/admin/items/{PRINCE}", "item-available", status="available")
    assert "Saved." in page
    assert daemon.store.value("SELECT status FROM items WHERE barcode = ?", [PRINCE]) == "available"
