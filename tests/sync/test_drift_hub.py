"""Donated books and book drifting reach the hub like every event: stored with their kiosk, no
conflict, and no loan at the hub (a drifting book is never lent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.circulation.reading import donations

from .conftest import BOOK, Hub, wait_until

pytestmark = pytest.mark.timeout(60)
TYPES = ("donation_recorded", "item_catalogued", "item_drifting", "drift_taken", "drift_ended")


def test_donation_and_drifting_events_go_to_the_hub(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    c = a.circulation
    form = donations.DonationForm(
        kind="parent",
        name="王爸爸",
        day="2026-11-02",
        barcodes=(BOOK[3],),
        new_books=({"barcode": "D0001", "title": "夏洛的网", "isbn": "", "author": ""},),
    )
    assert donations.record_donation(a.store, form, dt.date(2026, 11, 2), "librarian:admin").ok
    assert c.set_drifting(BOOK[1], True, "librarian:admin").ok
    assert c.checkout("S001", BOOK[1]).ok and c.checkout("S002", BOOK[1]).ok
    assert c.checkin(BOOK[1]).ok
    a.worker.sync_once()

    def sent() -> list[str]:
        marks = ",".join("?" * len(TYPES))
        rows = hub.query(
            f"SELECT type FROM events WHERE kiosk_id = 'A' AND type IN ({marks}) ORDER BY seq",
            TYPES,
        )
        return [r["type"] for r in rows]

    wait_until(lambda: len(sent()) == 6, 20, "the events at the hub")
    assert sent() == [
        "item_catalogued",
        "donation_recorded",
        "item_drifting",
        "drift_taken",
        "drift_taken",
        "drift_ended",
    ]
    assert hub.query("SELECT count(*) AS n FROM conflicts")[0]["n"] == 0
    assert hub.query("SELECT count(*) AS n FROM loans WHERE item_barcode = ?", [BOOK[1]]) == [
        {"n": 0}
    ]
