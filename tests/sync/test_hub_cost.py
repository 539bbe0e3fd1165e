"""The hub's work per event does not grow with history (counted in SQLite steps, not time)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kiosk.circulation.clock import FakeClock, stamp
from kiosk.circulation.records import seed_rules
from kiosk.circulation.store import Event, Store
from kiosk.config import RulesSettings
from kiosk.sync import hubstore
from kiosk.sync.reconcile import receive

from .conftest import BOOK, add_school

BOOKS = BOOK[:12]
START = dt.datetime(2026, 9, 1, 1, 0, tzinfo=dt.UTC)


def rounds(first: int, count: int) -> list[Event]:
    """Rounds of a teacher, then a student, borrowing the same twelve books and returning them."""
    out = []
    for n in range(first, first + count):
        patron = ("T001", "S001")[n % 2]
        for i, kind in enumerate(("checkout", "checkin")):
            for j, book in enumerate(BOOKS):
                at = START + dt.timedelta(minutes=n * 30 + i * 10, seconds=j)
                data = {"due_at": stamp(at + dt.timedelta(days=14))} if kind == "checkout" else {}
                out.append(
                    Event(kind, stamp(at), "A", patron_id=patron, item_barcode=book, data=data)
                )
    return out


def steps_to_receive(store: Store, events: list[Event]) -> int:
    """Return how many SQLite VM steps (in thousands) the hub takes to receive a batch."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    store.db.conn.set_progress_handler(tick, 1000)
    try:
        receive(store, "A", store.now(), events)
    finally:
        store.db.conn.set_progress_handler(None, 0)
    return counted[0]


def open_hub(folder: Path) -> Any:
    store = hubstore.open_hub_store(folder / "hub.db", clock=FakeClock("2026-12-01T12:00:00+08:00"))
    seed_rules(store, RulesSettings())
    add_school(store)
    hubstore.register_kiosk(store, "A")
    return store


def test_a_batch_costs_the_same_on_a_hub_with_thousands_of_loans_per_patron(
    tmp_path: Path,
) -> None:
    (tmp_path / "young").mkdir()
    (tmp_path / "old").mkdir()
    young, old = open_hub(tmp_path / "young"), open_hub(tmp_path / "old")
    try:
        history = rounds(0, 120)  # 2,880 events: 720 loans each for the teacher and the student
        for i in range(0, len(history), 1000):
            receive(old, "A", old.now(), history[i : i + 1000])
        receive(young, "A", young.now(), rounds(118, 2))
        batch = rounds(120, 2)  # the next 48 events, on both hubs
        young_steps, old_steps = steps_to_receive(young, batch), steps_to_receive(old, batch)
        assert old.value("SELECT count(*) FROM loans WHERE patron_id = 'T001'") == 732
        assert old.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 0
        assert old_steps <= 2 * young_steps + 50, (young_steps, old_steps)
    finally:
        young.close()
        old.close()
