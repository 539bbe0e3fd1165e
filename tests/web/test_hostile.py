"""Hostile catalogue text on the touchscreen, in a real Chromium: text is never markup.

Titles and a name holding `</script>`, `<!--`, U+2028 and quotes arrive by a CSV import, by
the hub's feed and by scans; the page must stay on the kiosk, keep updating, and show them
as plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.circulation.importers import import_csv
from kiosk.daemon.app import Daemon, open_store
from kiosk.sync.replica import apply_changes, prepare
from web.chromium import wait_js, watch_errors
from web.helpers import fifo_settings, running, scan

ESCAPE = '</script><meta http-equiv="refresh" content="0;url=http://evil.example/">'
COMMENT = "<!--<script>x = 1"
LINES = "line\u2028separator \"double\" 'single' \u2029"
FEED = "</SCRIPT ><!-- from the hub"
NAME = "</script><b>Evil</b>\u2028"
CARD = "0F00BAD001"
BOOKS = {"9787020002207": ESCAPE, "9787535449450": COMMENT, "9787544270878": LINES}


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon whose catalogue came in by import and hub feed, all of it hostile."""
    folder = tmp_path_factory.mktemp("hostile")
    settings, fifo = fifo_settings(folder)
    store = open_store(settings)
    items = folder / "items.csv"
    rows = [f'{code},"{title.replace(chr(34), chr(34) * 2)}"' for code, title in BOOKS.items()]
    items.write_text("barcode,title\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert import_csv(store, "items", items).errors == []
    patrons = folder / "patrons.csv"
    patrons.write_text(f'card_id,name,class\n{CARD},"{NAME} Smith",三(2)班\n', encoding="utf-8")
    assert import_csv(store, "patrons", patrons).errors == []
    feed_item = {
        "barcode": "9787530215982",
        "title": FEED,
        "author": "",
        "isbn": "",
        "call_number": "",
        "location": "library",
        "status": "available",
    }
    prepare(store)
    apply_changes(store, [{"kind": "item", "key": "9787530215982", "row": feed_item}])
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w") as fifo_out:
        # The FIFO is kept open for the module: the daemon reads scans line by line.
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon}


def test_hostile_titles_and_names_stay_text_and_the_screen_keeps_updating(
    browser: Any,
    kiosk: dict[str, Any],
) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 600})
    errors = watch_errors(page)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "evil" in r.url else None)
    page.goto(kiosk["url"] + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    shown = page.inner_text("#new-books")
    for title in (ESCAPE, COMMENT, FEED):
        assert title in shown
    scan(kiosk, CARD, *BOOKS)
    page.wait_for_selector("#session:not([hidden])", timeout=5000)
    wait_js(page, "document.querySelectorAll('#results li').length === 3")
    assert page.inner_text("#patron-name") == NAME.strip("\u2028")
    assert page.inner_text("#last-title") == LINES.strip(" \u2029")
    loans = page.inner_text("#loans")
    assert ESCAPE in loans and COMMENT in loans
    assert page.url == kiosk["url"] + "/"
    assert page.evaluate("document.querySelectorAll('meta[http-equiv]').length") == 0
    assert outside == [] and errors == []
    kiosk["daemon"].kiosk.done()
    page.wait_for_selector("#idle:not([hidden])", timeout=5000)
    page.close()
