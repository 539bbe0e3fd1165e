"""Removing an item type over real HTTP (waitress), in English: refused while books have it.

The librarian's own type with two books is refused with how many, in the plural, beside the
type; with one, in the singular; with none it goes, the page says so and the log has the event.
A built-in type has no Remove button and a forged removal of one is refused in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest

from kiosk.circulation.commands import SaveItemType
from kiosk.circulation.projector import Refusal
from kiosk.circulation.records import save_item_type, set_item_type
from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon
from kiosk.web import create_app
from kiosk.web.server import WebServer
from web.clients import Browser
from web.helpers import LOOPBACK, PASSWORD

RED, PRINCE = "9787020002207", "9787535449450"


@pytest.fixture
def site(daemon: Daemon, web_settings) -> Iterator[tuple[Browser, Store, str]]:  # type: ignore[no-untyped-def]
    """The dashboard served on loopback, logged in, in English; a type "Comics" with two books."""
    store = daemon.store
    saved = save_item_type(store, SaveItemType("", "Comics", True, 7, None, None, "L01"))
    assert not isinstance(saved, Refusal)
    key = store.value("SELECT substr(scope, 6) FROM rules WHERE name = 'Comics'")
    for barcode in (RED, PRINCE):
        assert not isinstance(set_item_type(store, barcode, key, "L01"), Refusal)
    app = create_app(store=store, settings=web_settings, daemon=daemon, networks=LOOPBACK)
    app.extensions["kiosk"].passwords.set("librarian", PASSWORD)
    server = WebServer(app, "127.0.0.1:0", threads=4)
    server.start()
    browser = Browser(server.port)
    assert browser.login("librarian", PASSWORD)[0] == 302
    assert browser.get("/admin/?lang=en")[0] == 200  # the pages in English from here on
    yield browser, store, key
    server.stop()


def _row(html: str, key: str) -> str:
    """Return the text of one type's row of the table, tags left out."""
    found = re.search(rf'<tr data-type="{key}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {key}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _remove(browser: Browser, key: str) -> tuple[int, dict[str, str], str]:
    t = browser.token("/admin/rules/types")
    status, headers, html, _ = browser.request(
        "POST", f"/admin/rules/types/{key}/remove", form={"csrf_token": t}
    )
    return status, headers, unescape(html)


def _type_rows(store: Store, key: str) -> int:
    return int(store.value("SELECT count(*) FROM rules WHERE scope = ?", [f"type:{key}"]))


def _removals(store: Store) -> list[tuple[str, dict[str, object]]]:
    rows = store.query("SELECT actor, data FROM events WHERE type = 'item_type_removed'")
    return [(r["actor"], json.loads(r["data"])) for r in rows]


def test_a_type_in_use_stays_and_the_page_says_why_then_goes(
    site: tuple[Browser, Store, str],
) -> None:
    browser, store, key = site
    html = unescape(browser.get("/admin/rules/types")[2])
    assert "Remove Comics" in _row(html, key)
    for built_in in ("book", "reference", "magazine"):
        assert "Remove" not in _row(html, built_in)

    status, _, html = _remove(browser, key)
    assert status == 400
    assert "2 books are of this type: give them another type first." in _row(html, key)
    assert _type_rows(store, key) == 1 and _removals(store) == []

    assert not isinstance(set_item_type(store, RED, "book", "L01"), Refusal)
    status, _, html = _remove(browser, key)
    assert status == 400
    assert "1 book is of this type: give it another type first." in _row(html, key)
    assert _type_rows(store, key) == 1 and _removals(store) == []

    assert not isinstance(set_item_type(store, PRINCE, "magazine", "L01"), Refusal)
    status, headers, _ = _remove(browser, key)
    assert (status, headers["Location"]) == (302, "/admin/rules/types")
    html = unescape(browser.get("/admin/rules/types")[2])
    assert "Item type Comics removed." in html
    table = html.split('id="item-types"', 1)[1].split("</table>", 1)[0]
    assert f'data-type="{key}"' not in table and "Comics" not in table
    assert _type_rows(store, key) == 0
    assert _removals(store) == [("librarian:librarian", {"name": "Comics", "scope": f"type:{key}"})]
    log = unescape(browser.get("/admin/events?type=item_type_removed")[2])
    assert "item type removed" in log and "Comics" in log
    # A book's page no longer offers it; a removal sent again finds no such type.
    assert "Comics" not in unescape(browser.get(f"/admin/items/{PRINCE}")[2])
    assert _remove(browser, key)[0] == 404


def test_a_built_in_type_is_never_removed_and_a_forged_post_changes_nothing(
    site: tuple[Browser, Store, str],
) -> None:
    browser, store, _ = site
    assert not isinstance(
        save_item_type(store, SaveItemType("magazine", None, True, 5, 1, 0, "L01")), Refusal
    )
    status, _, html = _remove(browser, "magazine")
    assert status == 400
    assert "Magazine is built into the kiosk: it cannot be removed." in _row(html, "magazine")
    status, _, html = _remove(browser, "book")
    assert "Ordinary book is built into the kiosk: it cannot be removed." in _row(html, "book")
    assert _type_rows(store, "magazine") == 1 and _removals(store) == []
    # Without the form's token: refused before anything is read.
    status, _, _, _ = browser.request("POST", "/admin/rules/types/magazine/remove", form={})
    assert status == 400 and _type_rows(store, "magazine") == 1
