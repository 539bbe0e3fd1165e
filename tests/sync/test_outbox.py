"""The outbox: events wait until acknowledged, in order, however the acknowledgements come."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import from_dict
from kiosk.daemon.app import open_store
from kiosk.sync import replica


def test_acknowledged_events_leave_the_outbox_in_any_order(tmp_path: Path) -> None:
    store = open_store(from_dict({"store": {"path": "k.db"}}, base_dir=tmp_path))
    replica.prepare(store)
    with store.write() as db:
        for n in range(5):
            store.record(db, store.event("item_status", item_barcode=f"B{n}", data={}))
    seqs = [e.seq for e in replica.pending(store, 100)]
    assert len(seqs) == 6 and replica.queue_length(store) == 6  # with the seeded rules
    replica.acknowledge(store, [s for s in seqs[2:4] if s])
    assert [e.seq for e in replica.pending(store, 100)] == [seqs[0], seqs[1], seqs[4], seqs[5]]
    replica.acknowledge(store, [s for s in seqs[:2] if s])
    assert [e.seq for e in replica.pending(store, 2)] == seqs[4:]
    assert replica.get_state(store, "acked_through") == str(seqs[3])
    replica.acknowledge(store, [s for s in seqs[4:] if s])
    assert (replica.pending(store, 100), replica.queue_length(store)) == ([], 0)
    with store.write() as db:
        late = store.record(db, store.event("checkin", item_barcode="B1", data={}))
    assert [e.uuid for e in replica.pending(store, 100)] == [late.uuid]
    # Acknowledged events stay in the audit trail; only the acknowledgement is added.
    assert store.value("SELECT count(*) FROM events") == 7
    store.close()
