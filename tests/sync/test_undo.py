"""An undo at a kiosk's desk travels like any event: the hub applies it and every kiosk follows."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.circulation.desk import undo_last

from .conftest import BOOK, Hub, open_loans

pytestmark = pytest.mark.timeout(60)


def hub_loans(hub: Hub) -> dict[str, str]:
    rows = hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    return {r["item_barcode"]: r["patron_id"] for r in rows}


def status(store: Any, barcode: str) -> str:
    return str(store.value("SELECT status FROM items WHERE barcode = ?", [barcode]))


def test_undone_loan_and_undone_return_stay_undone_after_sync(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    for k in (a, b):
        k.worker.sync_once()

    # A helper lends two books for S001; both reach the hub and kiosk B.
    assert a.circulation.checkout("S001", BOOK[0], actor="S002").ok
    assert a.circulation.checkout("S001", BOOK[1], actor="T001").ok
    for k in (a, b, a):
        k.worker.sync_once()
    assert hub_loans(hub) == {BOOK[0]: "S001", BOOK[1]: "S001"} == open_loans(b.store)

    # One helper undoes the loan made by mistake; another returns a book, then undoes that.
    assert undo_last(a.store, "S002", 60).reason == "undone"
    assert a.circulation.checkin(BOOK[1], actor="T001").ok
    assert undo_last(a.store, "T001", 60).reason == "undone"
    assert open_loans(a.store) == {BOOK[1]: "S001"}

    for k in (a, b, a, b):
        k.worker.sync_once()
    assert hub_loans(hub) == {BOOK[1]: "S001"}
    assert open_loans(a.store) == {BOOK[1]: "S001"} == open_loans(b.store)
    for k in (a, b):
        assert status(k.store, BOOK[0]) == "available"
        assert status(k.store, BOOK[1]) == "on_loan"
        assert k.worker.state()["queue_length"] == 0
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[0]]) == [
        {"status": "available"}
    ]
    # The undo is kept in the hub's log, and nothing about it is a conflict.
    assert [r["type"] for r in hub.query("SELECT type FROM events ORDER BY type")].count(
        "undo"
    ) == 2
    assert hub.query("SELECT kind FROM conflicts") == []


def test_undo_arriving_with_its_loan_in_one_batch(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    for k in (a, b):
        k.worker.sync_once()
    assert a.circulation.checkout("S003", BOOK[4], actor="S002").ok
    assert undo_last(a.store, "S002", 60).reason == "undone"
    for k in (a, b):
        k.worker.sync_once()
    assert hub_loans(hub) == {} == open_loans(b.store)


def test_an_undone_transfer_gives_the_book_back_to_the_first_borrower(tmp_path: Any) -> None:
    from kiosk.circulation.clock import FakeClock
    from kiosk.circulation.store import Event
    from kiosk.sync import hubstore
    from kiosk.sync.reconcile import receive

    from .conftest import add_school

    store = hubstore.open_hub_store(tmp_path / "hub.db", clock=FakeClock())
    try:
        add_school(store)
        for k in ("A", "B"):
            hubstore.register_kiosk(store, k)
        due = {"due_at": "2026-11-30T15:59:59.000Z"}
        lent = Event("checkout", "2026-11-02T03:00:00.000Z", "A", "S001", "S001", BOOK[0], due)
        # B, offline, lends the same book to S002 by mistake, and the helper undoes it.
        wrong = Event("checkout", "2026-11-02T03:05:00.000Z", "B", "S003", "S002", BOOK[0], due)
        undo = Event(
            "undo",
            "2026-11-02T03:05:30.000Z",
            "B",
            "S003",
            "S002",
            BOOK[0],
            {"undone": wrong.uuid, "undone_type": "checkout"},
        )
        receive(store, "A", store.now(), [lent])
        receive(store, "B", store.now(), [wrong, undo])
        rows = store.query("SELECT uuid, patron_id, returned_at FROM loans")
        assert rows == [{"uuid": lent.uuid, "patron_id": "S001", "returned_at": None}]
        assert store.value("SELECT status FROM items WHERE barcode = ?", [BOOK[0]]) == "on_loan"
    finally:
        store.close()
