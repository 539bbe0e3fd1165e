"""Forged collection events with their data missing or of the wrong shape get no 5xx at the hub."""

from __future__ import annotations

import pytest

from .conftest import BOOK, Hub
from .test_hub_input import batch, event, post


@pytest.fixture
def token(hub: Hub) -> str:
    return hub.register("k1")


@pytest.mark.parametrize(
    "type_, data",
    [
        ("corner_lent", {}),
        ("corner_lent", {"items": [BOOK[0]]}),
        ("corner_lent", {"items": "x", "due_at": 5}),
        ("item_lost", {}),
        ("item_damaged", {"loan_uuid": 7}),
        ("item_found", {}),
        ("hold_placed", {}),
        ("stocktake_scanned", {}),
        ("card_replaced", {}),
    ],
)
def test_forged_collection_events_get_no_5xx(hub: Hub, token: str, type_: str, data: dict) -> None:
    resp = post(hub, token, batch("k1", event("k1", type_, data=data)))
    assert resp.status_code < 500, resp.text


def test_a_hold_without_its_details_is_listed_and_changes_nothing(hub: Hub, token: str) -> None:
    before = hub.query("SELECT * FROM holds")
    resp = post(hub, token, batch("k1", event("k1", "hold_placed", data={})))
    assert resp.status_code == 200
    assert hub.query("SELECT * FROM holds") == before
    assert [r["kind"] for r in hub.query("SELECT kind FROM conflicts")] == ["malformed"]
