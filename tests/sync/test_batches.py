"""Batch sizes: a hub that takes fewer events, and one event too large to ever send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.circulation.records import put_item

from .conftest import BOOK, OWN_EVENTS, Hub, add_school


def small_hub(tmp_path: Path) -> Hub:
    h = Hub(tmp_path / "hub", max_batch=20)
    h.folder.mkdir()
    s = h.store()
    add_school(s)
    s.close()
    h.start()
    return h


def lend_and_return(k: Any, rounds: int) -> None:
    for _ in range(rounds):
        assert k.circulation.checkout("S001", BOOK[0]).ok
        assert k.circulation.checkin(BOOK[0]).ok


def test_a_hub_that_takes_smaller_batches_still_gets_everything(
    tmp_path: Path, kiosk_factory: Any
) -> None:
    hub = small_hub(tmp_path)
    try:
        k = kiosk_factory(hub.url, hub.register("k1"), batch_size=64)
        k.worker.sync_once()  # take the hub's school first
        lend_and_return(k, 30)  # 60 events, three times what the hub takes at once
        k.worker.sync_once()
        assert k.worker.state()["queue_length"] == 0
        uuids = [r["uuid"] for r in k.store.query(OWN_EVENTS)]
        assert len(uuids) > 60
        got = hub.query("SELECT uuid FROM events WHERE kiosk_id = 'k1'")
        assert sorted(uuids) == sorted(r["uuid"] for r in got)
        assert k.worker.batch_size == 64  # back to full size for the next backlog
    finally:
        hub.stop()


def test_one_event_too_large_to_send_is_held_and_the_rest_go(
    tmp_path: Path, kiosk_factory: Any
) -> None:
    hub = small_hub(tmp_path)
    try:
        k = kiosk_factory(hub.url, hub.register("k1"), batch_size=8)
        k.worker.sync_once()
        lend_and_return(k, 2)
        with k.store.write() as db:
            put_item(db, {"barcode": "B-HUGE", "title": "大书"}, k.store.now())
            huge = k.store.event("item_note", item_barcode="B-HUGE", data={"note": "字" * 200_000})
            huge = k.store.record(db, huge)
        lend_and_return(k, 2)
        k.worker.sync_once()
        state = k.worker.state()
        # Only the huge event waits, held back: the hub will never take it.
        assert (state["queue_length"], state["held_back"]) == (1, 1)
        assert huge.uuid in state["held_reason"]
        mine = {r["uuid"] for r in k.store.query(OWN_EVENTS)}
        sent = {r["uuid"] for r in hub.query("SELECT uuid FROM events WHERE kiosk_id = 'k1'")}
        assert sent == mine - {huge.uuid}
    finally:
        hub.stop()
