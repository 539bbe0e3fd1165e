"""Faults between a kiosk and a hub process; after each the hub has every event exactly once,
the kiosk's outbox is empty and both agree on the loans."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.circulation.clock import SystemClock
from kiosk.circulation.store import Store
from kiosk.config import from_dict
from kiosk.daemon.app import open_store
from kiosk.sync import replica
from kiosk.sync.client import HubError

from .conftest import (
    BOOK,
    OWN_EVENTS,
    PYTHON,
    ROOT,
    Hub,
    KioskSide,
    environ,
    open_loans,
    wait_until,
)
from .proxy import ERROR_500, RESET_AFTER_STORE, SLOW, TWICE, FaultProxy

pytestmark = pytest.mark.timeout(60)


def hub_loans(hub: Hub) -> dict[str, str]:
    rows = hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    return {r["item_barcode"]: r["patron_id"] for r in rows}


def assert_converged(hub: Hub, store: Store, kiosk_id: str = "k1") -> None:
    """The hub has each of the kiosk's events once, nothing waits, and the loans agree."""
    mine = [r["uuid"] for r in store.query(OWN_EVENTS)]
    held = [r["uuid"] for r in hub.query("SELECT uuid FROM events WHERE kiosk_id = ?", [kiosk_id])]
    assert sorted(held) == sorted(mine) and len(held) == len(set(held))
    assert replica.queue_length(store) == 0
    assert open_loans(store) == hub_loans(hub)


def lend_a_little(k: KioskSide) -> None:
    assert k.circulation.checkout("S001", BOOK[0]).ok
    assert k.circulation.checkout("S002", BOOK[1]).ok
    assert k.circulation.checkin(BOOK[0]).ok
    assert k.circulation.checkout("S003", BOOK[2]).ok


def queue_many(store: Store, pairs: int) -> None:
    """Queue checkout+checkin pairs straight into the outbox, as weeks offline would."""
    with store.write() as db:
        for i in range(pairs):
            book = BOOK[i % len(BOOK)]
            data = {"due_at": "2026-12-31T15:59:59.000Z"}
            out = store.event("checkout", patron_id="S001", item_barcode=book, data=data)
            store.record(db, out)
            store.record(db, store.event("checkin", patron_id="S001", item_barcode=book))


def test_hub_down_then_back(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    hub.stop()
    lend_a_little(k)  # lending goes on without the hub
    k.worker.start()
    wait_until(lambda: k.worker.state()["last_error"], what="the worker to notice")
    state = k.worker.state()
    assert (state["online"], state["queue_length"]) == (False, 4)
    assert "not reachable" in state["last_error"]
    hub.start()
    wait_until(lambda: k.worker.state()["online"] and not k.worker.state()["queue_length"])
    wait_until(lambda: open_loans(k.store) == hub_loans(hub), what="loans to agree")
    assert_converged(hub, k.store)


@pytest.mark.parametrize("fault", [SLOW, ERROR_500, RESET_AFTER_STORE, TWICE])
def test_a_fault_on_the_way_loses_and_doubles_nothing(
    hub: Hub, kiosk_factory: Any, fault: str
) -> None:
    proxy = FaultProxy(hub.url, slow_s=1.2)
    try:
        k = kiosk_factory(proxy.url, hub.register("k1"), timeout_s=0.5)
        k.worker.sync_once()
        lend_a_little(k)
        start = len(proxy.seen)
        times = 1 if fault == TWICE else 2
        proxy.plan.extend([fault] * times)
        for _ in range(times):
            with pytest.raises(HubError) if fault != TWICE else _nothing():
                k.worker.sync_once()
        assert not proxy.plan
        k.worker.sync_once()
        posts = [(f, status) for method, f, status in proxy.seen[start:] if method == "POST"]
        assert posts == [(fault, 0 if fault == ERROR_500 else 200)] * times + [("pass", 200)] * (
            fault != TWICE
        )
        if fault in (SLOW, RESET_AFTER_STORE):
            # The hub had stored the batch; the kiosk sent it again and the hub said "have it".
            assert hub.query("SELECT events_received FROM kiosks") == [{"events_received": 5}]
        assert_converged(hub, k.store)
    finally:
        proxy.close()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def test_hub_restarted_mid_sync(hub: Hub, kiosk_factory: Any) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"), batch_size=50)
    k.worker.sync_once()
    queue_many(k.store, 1500)
    k.worker.start()
    wait_until(
        lambda: hub.query("SELECT count(*) AS n FROM events WHERE kiosk_id = 'k1'")[0]["n"] > 100,
        what="part of the outbox to arrive",
    )
    hub.stop(kill=True)
    assert k.worker.state()["queue_length"] > 0
    hub.start()
    wait_until(lambda: not k.worker.state()["queue_length"], timeout=30, what="the drain")
    wait_until(lambda: open_loans(k.store) == hub_loans(hub), what="loans to agree")
    assert_converged(hub, k.store)


class OffsetClock(SystemClock):
    """The real clock, off by a fixed amount (a kiosk whose clock is wrong)."""

    def __init__(self, seconds: float) -> None:
        self.offset = dt.timedelta(seconds=seconds)

    def now(self) -> dt.datetime:
        return super().now() + self.offset


def test_kiosk_clock_ten_minutes_off(hub: Hub, kiosk_factory: Any) -> None:
    fast = kiosk_factory(hub.url, hub.register("k1"), clock=OffsetClock(600))
    right = kiosk_factory(hub.url, hub.register("k2"), kiosk_id="k2")
    fast.worker.sync_once()
    right.worker.sync_once()
    assert fast.circulation.checkout("S001", BOOK[0]).ok  # stamped 10 minutes ahead
    time.sleep(0.3)  # the offset is measured to within a request's round trip, not better
    returned = right.circulation.checkin(BOOK[0])  # a moment later, at a kiosk that never saw it
    assert (returned.reason, returned.event is not None) == ("not_on_loan", True)
    right.worker.sync_once()  # the return arrives first
    fast.worker.sync_once()
    right.worker.sync_once()
    offsets = {r["id"]: r["clock_offset_s"] for r in hub.query("SELECT * FROM kiosks")}
    assert 595 < offsets["k1"] < 605 and abs(offsets["k2"]) < 5
    # Corrected by the measured offset, the checkout comes before the return: the book is back.
    assert hub_loans(hub) == {}
    assert hub.query("SELECT kind FROM conflicts") == []
    assert_converged(hub, fast.store, "k1")
    assert_converged(hub, right.store, "k2")


def test_kiosk_process_killed_mid_sync(hub: Hub, tmp_path: Path) -> None:
    folder = tmp_path / "k1"
    folder.mkdir()
    token = hub.register("k1")
    config = folder / "kiosk.toml"
    config.write_text(
        '[kiosk]\nid = "k1"\n[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n'
        '[indicator]\nkind = "none"\n[web]\nenabled = false\n'
        f'[hub]\nurl = "{hub.url}"\ntoken = "{token}"\ninterval_s = 0.2\nretry_max_s = 0.5\n'
        "batch_size = 20\n",
        encoding="utf-8",
    )
    settings = from_dict({"kiosk": {"id": "k1"}, "store": {"path": "kiosk.db"}}, base_dir=folder)
    store = open_store(settings)
    queue_many(store, 1500)
    store.close()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [PYTHON, "-m", "kiosk", "--config", str(config), "run"],
            cwd=ROOT,
            env=environ(),
            stdout=(folder / "kiosk.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

    def arrived() -> int:
        return int(hub.query("SELECT count(*) AS n FROM events WHERE kiosk_id = 'k1'")[0]["n"])

    proc = start()
    wait_until(lambda: arrived() > 100, timeout=20, what="part of the outbox to arrive")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    first = arrived()
    assert first < 3001
    proc = start()
    try:
        wait_until(lambda: arrived() == 3001, timeout=30, what="the rest of the outbox")
        store = open_store(settings)
        wait_until(lambda: replica.queue_length(store) == 0, what="the acknowledgements")
        wait_until(lambda: open_loans(store) == hub_loans(hub), what="loans to agree")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert_converged(hub, store)
    store.close()


def test_an_event_the_hub_refuses_is_kept_and_does_not_hold_back_the_rest(
    hub: Hub, kiosk_factory: Any
) -> None:
    k = kiosk_factory(hub.url, hub.register("k1"))
    k.worker.sync_once()
    with k.store.write() as db:  # say a newer desk feature wrote a checkout without a due date
        bad = k.store.record(db, k.store.event("checkout", patron_id="S001", item_barcode=BOOK[9]))
    lend_a_little(k)
    k.worker.sync_once()
    state = k.worker.state()
    assert (state["queue_length"], state["held_back"]) == (1, 1)
    assert bad.uuid in state["held_reason"] and "data.due_at" in state["held_reason"]
    assert [e.uuid for e in replica.pending(k.store, 10)] == []
    held = [r["uuid"] for r in hub.query("SELECT uuid FROM events WHERE kiosk_id = 'k1'")]
    assert bad.uuid not in held and len(held) == 1 + 4
    assert open_loans(k.store) == hub_loans(hub)
    # Still in the kiosk's audit trail, unacknowledged.
    assert k.store.value("SELECT count(*) FROM event_acks WHERE seq = ?", [bad.seq]) == 0
