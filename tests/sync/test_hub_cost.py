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


def steps_to_receive(store: Store, events: list[Event], kiosk: str = "A") -> int:
    """Return how many SQLite VM steps (in thousands) the hub takes to receive a batch."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    store.db.conn.set_progress_handler(tick, 1000)
    try:
        receive(store, kiosk, store.now(), events)
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


def test_a_late_event_replays_from_the_last_quiet_moment_and_ends_as_in_order(
    tmp_path: Path,
) -> None:
    (tmp_path / "late").mkdir()
    (tmp_path / "ordered").mkdir()
    late, ordered = open_hub(tmp_path / "late"), open_hub(tmp_path / "ordered")
    hubstore.register_kiosk(late, "B")
    hubstore.register_kiosk(ordered, "B")
    try:
        history = rounds(0, 120)
        for i in range(0, len(history), 1000):
            receive(late, "A", late.now(), history[i : i + 1000])
        # Round 120 reaches the hub from A; B lent BOOK[0] to S002 earlier, between two of A's
        # events of that round (after the return, before the teacher borrows it again), and
        # its batch arrives after A's.
        a_batch = rounds(120, 2)
        b_at = START + dt.timedelta(minutes=120 * 30 + 20)  # after round 120's returns
        b_event = Event(
            "checkout",
            stamp(b_at),
            "B",
            patron_id="S002",
            item_barcode=BOOKS[0],
            data={"due_at": stamp(b_at + dt.timedelta(days=14))},
        )
        receive(late, "A", late.now(), a_batch)
        steps = steps_to_receive(late, [b_event], kiosk="B")
        for i in range(0, len(history), 1000):
            receive(ordered, "A", ordered.now(), history[i : i + 1000])
        receive(ordered, "A", ordered.now(), a_batch[:24])
        receive(ordered, "B", ordered.now(), [b_event])
        receive(ordered, "A", ordered.now(), a_batch[24:])

        def loans(store: Store) -> list[tuple[Any, ...]]:
            rows = store.query(
                "SELECT uuid, patron_id, checked_out_at, due_at, returned_at, renewals FROM loans "
                "WHERE item_barcode = ? ORDER BY uuid",
                [BOOKS[0]],
            )
            return [tuple(r.values()) for r in rows]

        def conflicts(store: Store) -> list[tuple[Any, ...]]:
            rows = store.query("SELECT kind, event_uuid FROM conflicts ORDER BY event_uuid, kind")
            return [tuple(r.values()) for r in rows]

        assert loans(late) == loans(ordered)
        assert conflicts(late) == conflicts(ordered)
        # S002's loan ended when S001 borrowed the book at A in the next round: a transfer.
        assert ("transfer", a_batch[24].uuid) in conflicts(late)
        assert steps < 20, steps  # a replay from the first event takes about 74
    finally:
        late.close()
        ordered.close()
