"""The circulation service: every action commits a loan change and exactly one event."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import (
    issue_card,
    report_card_lost,
    set_item_status,
    set_patron_status,
)
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store

RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


def snapshot(store: Store) -> dict[str, Any]:
    return {t: store.query(f"SELECT * FROM {t} ORDER BY 1") for t in ("loans", "items", "events")}


def test_checkout_commits_the_loan_its_event_and_the_item_status(
    circulation: Circulation, store: Store
) -> None:
    r = circulation.checkout("S001", RED)
    assert (r.ok, r.action, r.reason) == (True, "checkout", "ok")
    assert r.params == {"title": "红楼梦", "due_date": "2026-11-16"}
    loan = store.query("SELECT * FROM loans")[0]
    assert loan["due_at"] == "2026-11-16T15:59:59.000Z"  # 23:59:59 in Beijing
    assert loan["checked_out_at"] == "2026-11-02T01:00:00.000Z"
    assert store.value("SELECT status FROM items WHERE barcode = ?", [RED]) == "on_loan"
    events = store.query(
        "SELECT uuid, type, patron_id, item_barcode, actor FROM events WHERE type = 'checkout'"
    )
    assert events == [
        {
            "uuid": loan["uuid"],
            "type": "checkout",
            "patron_id": "S001",
            "item_barcode": RED,
            "actor": "S001",
        }
    ]
    assert r.event is not None and r.event.uuid == loan["uuid"]


@pytest.mark.parametrize(
    ("setup", "patron", "barcode", "reason"),
    [
        (lambda c: c.checkout("S003", RED), "S001", RED, "on_loan_to_other"),
        (lambda c: c.checkout("S002", RED), "S002", PRINCE, "limit_reached"),  # grade 1: one book
        (
            lambda c: set_patron_status(c.store, "S001", "blocked", "librarian"),
            "S001",
            RED,
            "patron_blocked",
        ),
        (
            lambda c: set_item_status(c.store, RED, "withdrawn", "librarian"),
            "S001",
            RED,
            "item_unavailable",
        ),
        (lambda c: None, "S001", "no-such-book", "unknown_code"),
    ],
)
def test_refused_checkout_says_why_and_changes_nothing(
    circulation: Circulation, store: Store, setup: Any, patron: str, barcode: str, reason: str
) -> None:
    setup(circulation)
    before = snapshot(store)
    r = circulation.checkout(patron, barcode)
    assert (r.ok, r.reason) == (False, reason)
    assert r.message  # a message id the screen translates
    assert snapshot(store) == before


def test_limit_message_says_how_many_books(circulation: Circulation) -> None:
    circulation.checkout("S001", RED)
    circulation.checkout("S001", PRINCE)
    r = circulation.checkout("S001", WEB)
    assert (r.reason, r.params) == ("limit_reached", {"count": 2})


def test_overdue_book_blocks_new_loans(circulation: Circulation, clock: FakeClock) -> None:
    circulation.checkout("S001", RED)
    clock.advance(days=15)
    r = circulation.checkout("S001", PRINCE)
    assert (r.ok, r.reason) == (False, "has_overdue")
    assert circulation.checkin(RED).ok
    assert circulation.checkout("S001", PRINCE).ok


def test_checkin_closes_the_loan(circulation: Circulation, store: Store, clock: FakeClock) -> None:
    circulation.checkout("S001", RED)
    clock.advance(3600)
    r = circulation.checkin(RED, actor="self-service")
    assert (r.ok, r.action, r.patron.id if r.patron else None) == (True, "checkin", "S001")
    assert store.query("SELECT returned_at FROM loans") == [
        {"returned_at": "2026-11-02T02:00:00.000Z"}
    ]
    assert store.value("SELECT status FROM items WHERE barcode = ?", [RED]) == "available"
    types = [
        e["type"]
        for e in store.query("SELECT type FROM events WHERE type LIKE 'check%' ORDER BY seq")
    ]
    assert types == ["checkout", "checkin"]


def test_checkin_of_a_book_not_on_loan_changes_nothing(
    circulation: Circulation, store: Store
) -> None:
    before = snapshot(store)
    assert circulation.checkin(RED).reason == "not_on_loan"
    assert circulation.checkin("nonsense").reason == "unknown_code"
    assert snapshot(store) == before


def test_renew_extends_once_then_refuses(
    circulation: Circulation, store: Store, clock: FakeClock
) -> None:
    circulation.checkout("S001", RED)
    clock.advance(days=10)  # Thursday 12 November
    r = circulation.renew("S001", RED)
    assert (r.ok, r.params["due_date"]) == (True, "2026-11-26")
    assert store.query("SELECT renewals FROM loans") == [{"renewals": 1}]
    before = snapshot(store)
    assert circulation.renew("S001", RED).reason == "renew_limit"
    assert circulation.renew("S003", RED).reason == "on_loan_to_other"
    assert snapshot(store) == before


def test_overdue_loan_cannot_be_renewed(circulation: Circulation, clock: FakeClock) -> None:
    circulation.checkout("S001", RED)
    clock.advance(days=20)
    assert circulation.renew("S001", RED).reason == "renew_overdue"


def test_identify_patrons_items_lost_cards_and_replacements(
    circulation: Circulation, store: Store
) -> None:
    assert circulation.identify("0F00A1B2C3").kind == "patron"
    assert circulation.identify("S001").patron.id == "S001"  # type: ignore[union-attr]
    assert circulation.identify(RED).item.title == "红楼梦"  # type: ignore[union-attr]
    assert circulation.identify("9999").kind == "unknown"
    report_card_lost(store, "0F00A1B2C3", actor="librarian")
    assert circulation.identify("0F00A1B2C3").kind == "lost_card"
    issue_card(store, "S001", "0F00A1B2FF", actor="librarian")
    found = circulation.identify("0F00A1B2FF")
    assert (found.kind, found.patron.id if found.patron else None) == ("patron", "S001")
    types = [e["type"] for e in store.query("SELECT type FROM events ORDER BY seq")]
    assert types[-2:] == ["card_lost", "card_issued"]


def test_a_rule_change_from_any_writer_reaches_the_next_checkout(
    circulation: Circulation, store: Store
) -> None:
    assert circulation.checkout("S002", RED).ok
    assert circulation.checkout("S002", PRINCE).reason == "limit_reached"  # grade 1: one book
    # Not through records.set_rules: as the hub's feed or a sqlite3 shell would change it.
    with store.write() as db:
        db.execute("UPDATE rules SET max_loans = 3 WHERE scope = 'grade:1'")
    assert circulation.checkout("S002", PRINCE).ok
    with store.write() as db:
        db.execute("INSERT INTO closed_days (day, note) VALUES ('2026-11-16', '运动会')")
    r = circulation.checkout("S002", WEB)
    assert r.params["due_date"] == "2026-11-17"
