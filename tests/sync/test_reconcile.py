"""The hub's rules, one per situation, applied to events as they happened (docs/sync.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import seed_rules, set_patron_status
from kiosk.circulation.store import Event, Store
from kiosk.config import RulesSettings
from kiosk.sync import hubstore
from kiosk.sync.reconcile import receive

from .conftest import BOOK, add_school

DUE = {"due_at": "2026-11-30T15:59:59.000Z"}
LATER_DUE = {"due_at": "2026-12-14T15:59:59.000Z"}


@pytest.fixture
def hub_store(tmp_path: Path) -> Any:
    clock = FakeClock("2026-11-02T12:00:00+08:00")
    store = hubstore.open_hub_store(tmp_path / "hub.db", clock=clock)
    seed_rules(store, RulesSettings())
    add_school(store)
    for k in ("A", "B"):
        hubstore.register_kiosk(store, k)
    yield store
    store.close()


def ev(
    kiosk: str, minute: int, type_: str, patron: str | None, book: str | None, **data: Any
) -> Event:
    return Event(
        type=type_,
        at=f"2026-11-02T03:{minute:02d}:00.000Z",
        kiosk_id=kiosk,
        patron_id=patron,
        item_barcode=book,
        data=data,
    )


def send(store: Store, *events: Event) -> None:
    by_kiosk: dict[str, list[Event]] = {}
    for e in events:
        by_kiosk.setdefault(e.kiosk_id, []).append(e)
    for kiosk, batch in by_kiosk.items():
        receive(store, kiosk, store.now(), batch)  # the hub's own clock: no skew


def loans(store: Store) -> list[tuple[str, str, str | None]]:
    rows = store.query("SELECT item_barcode, patron_id, returned_at FROM loans ORDER BY id")
    return sorted((r["item_barcode"], r["patron_id"], r["returned_at"]) for r in rows)


def conflicts(store: Store) -> list[tuple[str, str, str | None]]:
    rows = store.query("SELECT kind, patron_id, other_patron_id FROM conflicts ORDER BY kind")
    return [(r["kind"], r["patron_id"], r["other_patron_id"]) for r in rows]


def test_a_later_checkout_by_another_patron_transfers_whatever_arrives_first(
    hub_store: Store,
) -> None:
    send(hub_store, ev("B", 10, "checkout", "S002", BOOK[0], **DUE))
    send(hub_store, ev("A", 5, "checkout", "S001", BOOK[0], **DUE))  # earlier, arrives later
    assert loans(hub_store) == [
        (BOOK[0], "S001", "2026-11-02T03:10:00.000Z"),
        (BOOK[0], "S002", None),
    ]
    assert conflicts(hub_store) == [("transfer", "S002", "S001")]


def test_the_same_patron_twice_is_one_loan_renewed(hub_store: Store) -> None:
    send(
        hub_store,
        ev("A", 5, "checkout", "S001", BOOK[0], **DUE),
        ev("B", 9, "checkout", "S001", BOOK[0], **LATER_DUE),
    )
    rows = hub_store.query("SELECT patron_id, due_at, renewals FROM loans")
    assert rows == [{"patron_id": "S001", "due_at": LATER_DUE["due_at"], "renewals": 1}]
    assert conflicts(hub_store) == [("same_patron", "S001", "S001")]


def test_a_return_anywhere_ends_the_loan_open_at_that_moment(hub_store: Store) -> None:
    send(hub_store, ev("B", 7, "checkin", None, BOOK[0], loan_uuid=None))
    send(hub_store, ev("A", 5, "checkout", "S001", BOOK[0], **DUE))
    assert loans(hub_store) == [(BOOK[0], "S001", "2026-11-02T03:07:00.000Z")]
    assert conflicts(hub_store) == []
    assert hub_store.value("SELECT status FROM items WHERE barcode = ?", [BOOK[0]]) == "available"


def test_a_return_or_renewal_of_a_book_not_on_loan_is_reported(hub_store: Store) -> None:
    send(
        hub_store,
        ev("A", 5, "checkin", None, BOOK[0]),
        ev("A", 6, "renew", "S001", BOOK[1], **DUE),
    )
    assert loans(hub_store) == []
    assert conflicts(hub_store) == [
        ("renew_not_on_loan", "S001", None),
        ("return_not_on_loan", None, None),
    ]


def test_unknown_items_and_patrons_are_stored_and_reported_not_applied(hub_store: Store) -> None:
    send(
        hub_store,
        ev("A", 5, "checkout", "S001", "NO-SUCH-BOOK", **DUE),
        ev("A", 6, "checkout", "NOBODY", BOOK[0], **DUE),
    )
    assert loans(hub_store) == []
    assert conflicts(hub_store) == [
        ("unknown_item", "S001", None),
        ("unknown_patron", "NOBODY", None),
    ]
    assert hub_store.value("SELECT count(*) FROM received") == 2


def test_a_blocked_patrons_offline_loan_stands_and_is_reported(hub_store: Store) -> None:
    set_patron_status(hub_store, "S003", "blocked", "librarian:hub")  # only the hub blocks
    send(hub_store, ev("B", 5, "checkout", "S003", BOOK[0], **DUE))
    assert loans(hub_store) == [(BOOK[0], "S003", None)]
    assert conflicts(hub_store) == [("patron_blocked", "S003", None)]
