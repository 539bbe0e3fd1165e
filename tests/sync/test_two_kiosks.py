"""Two kiosks and one hub: both cut off, lending and returning the same books, then reconnected."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import report_card_lost

from .conftest import BOOK, Hub, open_loans

pytestmark = pytest.mark.timeout(60)

EXPECTED_LOANS = {
    BOOK[0]: "S002",  # lent at A, then at B to another student: the later loan stands
    BOOK[1]: "S001",  # lent to S001 at both: one loan, renewed
    BOOK[3]: "S003",
    BOOK[5]: "S003",
    BOOK[6]: "S003",  # over the limit, reported
    BOOK[7]: "S002",  # after S002's card was reported lost, reported
}
EXPECTED_CONFLICTS = [
    ("lost_card", BOOK[7], "S002", None),
    ("over_limit", BOOK[6], "S003", None),
    ("same_patron", BOOK[1], "S001", "S001"),
    ("transfer", BOOK[0], "S002", "S001"),
]


def hub_loans(hub: Hub) -> dict[str, str]:
    rows = hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    return {r["item_barcode"]: r["patron_id"] for r in rows}


@pytest.mark.parametrize("first", ["A", "B"])
def test_offline_lending_at_two_kiosks_is_reconciled(
    hub: Hub, kiosk_factory: Any, first: str
) -> None:
    clock = FakeClock()
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A", clock=clock)
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B", clock=clock)
    a.worker.sync_once()
    b.worker.sync_once()

    def at(kiosk: Any, action: str, *args: str) -> None:
        clock.advance(60)
        result = getattr(kiosk.circulation, action)(*args)
        assert result.event is not None, (action, args, result.reason)

    # Both cut off from here on.
    at(a, "checkout", "S001", BOOK[0])
    at(b, "checkout", "S002", BOOK[0])  # B believes the book is on the shelf
    at(a, "checkout", "S001", BOOK[1])
    at(b, "checkout", "S001", BOOK[1])
    at(a, "checkout", "S003", BOOK[2])
    at(b, "checkin", BOOK[2])  # returned at B, which never saw the loan
    at(a, "checkout", "S003", BOOK[3])
    at(b, "checkout", "S003", BOOK[5])
    at(b, "checkout", "S003", BOOK[6])  # S003 now has three books across both kiosks
    clock.advance(60)
    assert report_card_lost(a.store, "CARD-S002", actor="T001") is not None
    at(b, "checkout", "S002", BOOK[7])  # B does not know the card was lost

    # Reconnect, in either order: the outcome follows when things happened, not arrival.
    kiosks = [a, b] if first == "A" else [b, a]
    for k in kiosks + kiosks:
        k.worker.sync_once()

    assert hub_loans(hub) == EXPECTED_LOANS
    assert open_loans(a.store) == EXPECTED_LOANS == open_loans(b.store)
    for k in (a, b):
        assert k.worker.state()["queue_length"] == 0
        assert k.store.value("SELECT status FROM cards WHERE code = 'CARD-S002'") == "lost"
        assert k.store.value("SELECT status FROM items WHERE barcode = ?", [BOOK[2]]) == "available"
    got = hub.query(
        "SELECT kind, item_barcode, patron_id, other_patron_id FROM conflicts ORDER BY kind"
    )
    assert [tuple(r.values()) for r in got] == EXPECTED_CONFLICTS


def test_the_librarian_sees_the_conflicts_as_json_and_on_the_command_line(
    hub: Hub, kiosk_factory: Any
) -> None:
    import json

    import requests

    from .conftest import run_cli

    token_a, token_b = hub.register("A"), hub.register("B")
    # One clock that moves between the loans: on the real clock both could fall in the same
    # millisecond, and which loan is the later one (the transfer) would be a coin toss.
    clock = FakeClock()
    a = kiosk_factory(hub.url, token_a, kiosk_id="A", clock=clock)
    b = kiosk_factory(hub.url, token_b, kiosk_id="B", clock=clock)
    a.worker.sync_once()
    b.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[0]).ok
    clock.advance(60)
    assert b.circulation.checkout("S002", BOOK[0]).ok
    a.worker.sync_once()
    b.worker.sync_once()
    resp = requests.get(
        hub.url + "/api/v1/sync/conflicts",
        headers={"Authorization": f"Bearer {token_a}"},
        timeout=5,
    )
    (row,) = resp.json()["conflicts"]
    assert (row["kind"], row["item_barcode"], row["title"], row["kiosk_id"]) == (
        "transfer",
        BOOK[0],
        "书 1",
        "B",
    )
    assert (row["patron_id"], row["other_patron_id"]) == ("S002", "S001")
    out = run_cli("--config", str(hub.config), "hub", "conflicts", "--json")
    assert json.loads(out.stdout) == resp.json()["conflicts"]
    # Read by a person, the conflict says what happened in words.
    said = run_cli("--config", str(hub.config), "hub", "conflicts").stdout
    assert "Lent again to another student: the later loan stands" in said and "transfer" not in said
    listed = run_cli("--config", str(hub.config), "hub", "kiosks")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["A", "B"]
