"""A kiosk and a hub process: the snapshot, the outbox drained once, the feed of changes."""

from __future__ import annotations

from typing import Any

from kiosk.sync import replica

from .conftest import BOOK, Hub, open_loans


def hub_loans(hub: Hub) -> dict[str, str]:
    rows = hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    return {r["item_barcode"]: r["patron_id"] for r in rows}


def test_new_kiosk_takes_a_snapshot_then_sends_its_loans_once(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    assert k.worker.sync_once() == {"sent": 1, "pulled": 4 + 4 + 20 + 1}  # rules_set, then data
    assert k.store.value("SELECT count(*) FROM items") == 20
    assert k.circulation.checkout("S001", BOOK[0]).ok
    assert k.circulation.checkout("S002", BOOK[1]).ok
    assert k.circulation.checkin(BOOK[1]).ok
    assert k.worker.sync_once()["sent"] == 3
    state = k.worker.state()
    assert (state["online"], state["queue_length"], state["last_error"]) == (True, 0, None)
    assert hub_loans(hub) == {BOOK[0]: "S001"} == open_loans(k.store)
    got = hub.query("SELECT type, item_barcode FROM events WHERE kiosk_id = 'k1' ORDER BY at")
    assert [(r["type"], r["item_barcode"]) for r in got] == [
        ("rules_set", None),
        ("checkout", BOOK[0]),
        ("checkout", BOOK[1]),
        ("checkin", BOOK[1]),
    ]
    assert replica.pending(k.store, 10) == []


def test_the_hub_serves_the_librarians_dashboard_beside_the_sync_api(hub: Hub) -> None:
    import requests

    resp = requests.get(hub.url + "/admin/", timeout=5, allow_redirects=False)
    assert resp.status_code in (200, 302, 303), resp.text[:300]
    log = (hub.folder / "hub.log").read_text(encoding="utf-8")
    assert "dashboard could not start" not in log
