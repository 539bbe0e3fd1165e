"""A desk's item status reaches the hub in its place among the book's loan events, whatever
order the kiosks' batches arrive in."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock, SystemClock
from kiosk.circulation.collection import lost
from kiosk.circulation.projector import Refusal
from kiosk.circulation.records import set_item_status
from kiosk.sync.reconcile import receive

from .conftest import BOOK, Hub
from .test_reconcile import DUE, ev, hub_store

__all__ = ["hub_store"]  # the hub's store on a fake clock, from the rules' tests

pytestmark = pytest.mark.timeout(60)


def status(store_or_hub: Any, barcode: str) -> str:
    if isinstance(store_or_hub, Hub):
        return str(
            store_or_hub.query("SELECT status FROM items WHERE barcode = ?", [barcode])[0]["status"]
        )
    return str(store_or_hub.value("SELECT status FROM items WHERE barcode = ?", [barcode]))


@pytest.mark.parametrize("first", ["A", "B"])
def test_a_status_between_a_loan_and_its_return_ends_the_same_everywhere(
    hub: Hub, kiosk_factory: Any, first: str
) -> None:
    clock = FakeClock(SystemClock().now())  # both kiosks' clocks, a minute between steps
    kiosks = {
        k: kiosk_factory(hub.url, hub.register(k), kiosk_id=k, clock=clock) for k in ("A", "B")
    }
    a, b = kiosks["A"], kiosks["B"]
    for k in (a, b):
        k.worker.sync_once()

    def then(step: Any) -> None:
        clock.advance(60)
        done = step()
        assert getattr(done, "ok", not isinstance(done, Refusal)), done

    # A lends a book; B, offline, finds "its" copy damaged on the shelf; A takes the book back.
    then(lambda: a.circulation.checkout("S001", BOOK[5], actor="S001"))
    then(lambda: set_item_status(b.store, BOOK[5], "damaged", "S002"))
    then(lambda: a.circulation.checkin(BOOK[5], actor="S001"))
    # A marks another book lost on its loan; a minute later B, offline, finds it damaged.
    then(lambda: a.circulation.checkout("S003", BOOK[6], actor="S003"))
    then(lambda: lost.mark(a.store, "lost", BOOK[6], "librarian:a"))
    then(lambda: set_item_status(b.store, BOOK[6], "damaged", "S002"))
    assert status(a.store, BOOK[5]) == "available" and status(b.store, BOOK[6]) == "damaged"

    order = [kiosks[first], kiosks["B" if first == "A" else "A"]]
    for k in (*order, *order):
        k.worker.sync_once()
    # The last word in time is B's damaged, for both books, at the hub and at both kiosks.
    for barcode in (BOOK[5], BOOK[6]):
        assert status(hub, barcode) == "damaged", barcode
        assert status(a.store, barcode) == status(b.store, barcode) == "damaged", barcode
    assert hub.query("SELECT returned_at IS NOT NULL AS ended FROM loans") == [
        {"ended": 1},
        {"ended": 1},
    ]


def test_the_hubs_own_status_keeps_its_place_when_a_late_loan_replays_the_book(
    hub_store: Any,
) -> None:
    # A lends and takes back the book at 03:01-03:02 (the hub replays from there on); B finds it
    # damaged at 03:30; the hub's librarian puts it back on the shelf at 04:00 (the hub's clock);
    # then A's loan and return from 03:10 and 03:20 arrive late.
    early = [ev("A", 1, "checkout", "S002", BOOK[7], **DUE), ev("A", 2, "checkin", None, BOOK[7])]
    receive(hub_store, "A", hub_store.now(), early)
    damaged = ev("B", 30, "item_status", None, BOOK[7], status="damaged")
    receive(hub_store, "B", hub_store.now(), [damaged])
    assert status(hub_store, BOOK[7]) == "damaged"
    assert not isinstance(
        set_item_status(hub_store, BOOK[7], "available", "librarian:hub"), Refusal
    )
    late = [ev("A", 10, "checkout", "S001", BOOK[7], **DUE), ev("A", 20, "checkin", None, BOOK[7])]
    receive(hub_store, "A", hub_store.now(), late)
    assert status(hub_store, BOOK[7]) == "available"
    assert hub_store.query("SELECT returned_at FROM loans ORDER BY checked_out_at") == [
        {"returned_at": "2026-11-02T03:02:00.000Z"},
        {"returned_at": "2026-11-02T03:20:00.000Z"},
    ]
