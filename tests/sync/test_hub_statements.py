"""A hub batch's SQLite statements, counted on the real connections, so they cannot creep back.

A batch posted to the hub's API is checked, stored once and replayed into the loans in one
transaction. What one item or one patron needs is read for the whole batch at once (a chunk
of 500 keys a statement), and the books' loans and returns are projected a run at a time
(`project_many`: one statement for all the batch's loans, one for its returns), so the
statements per event stay few: the bounds below are what the code does now. SQLite's trace
reports a trigger's work (the change feed) as its statement again, and `executemany` once a
row: both are counted, as both are work. A failing test lists the statements by shape, most
frequent first, so a reader sees what crept in.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from kiosk.circulation.clock import FakeClock, stamp
from kiosk.circulation.records import seed_rules
from kiosk.circulation.store import Store
from kiosk.config import RulesSettings
from kiosk.sync import hubstore
from kiosk.sync.hub import create_hub_app

from .conftest import BOOK, PATRONS, add_school

START = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
READERS = [p[0] for p in PATRONS]
# 20 loans of 20 books the hub has never seen, then their 20 returns.
FIRST_BATCH = 207
# The same again, on books the hub now has a replay position for.
NEXT_BATCH = 203
# The next batch sent again: every event is a duplicate, nothing is replayed.
DUPLICATES = 5


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Store, FlaskClient, str]]:
    clock = FakeClock("2026-11-03T12:00:00+08:00")
    store = hubstore.open_hub_store(tmp_path / "hub.db", clock=clock)
    seed_rules(store, RulesSettings())
    add_school(store)
    token = hubstore.register_kiosk(store, "A")
    try:
        yield store, create_hub_app(store).test_client(), token
    finally:
        store.close()


def batch(round_: int, sent_at: str) -> dict[str, Any]:
    """A kiosk's round: each book lent to the next reader, then all of them returned."""
    events = []
    for i, kind in enumerate(("checkout", "checkin")):
        for j, book in enumerate(BOOK):
            at = START + dt.timedelta(hours=round_, minutes=i * 10, seconds=j)
            reader = READERS[j % len(READERS)]
            data = {"due_at": stamp(at + dt.timedelta(days=14))} if kind == "checkout" else {}
            events.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "seq": round_ * 100 + i * 50 + j + 1,
                    "type": kind,
                    "at": stamp(at),
                    "kiosk_id": "A",
                    "actor": reader,
                    "patron_id": reader,
                    "item_barcode": book,
                    "data": data,
                }
            )
    return {"kiosk_id": "A", "sent_at": sent_at, "events": events}


def post(store: Store, client: FlaskClient, token: str, body: Any) -> tuple[Any, list[str]]:
    """Post a batch to the hub's API; return its answer and the statements it ran."""
    seen: list[str] = []
    conns = (store.db.conn, store.reader.conn)
    for conn in conns:
        conn.set_trace_callback(seen.append)
    try:
        resp = client.post(
            "/api/v1/sync/events", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        for conn in conns:
            conn.set_trace_callback(None)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json(), seen


def shapes(seen: list[str]) -> str:
    """The statements by shape (values left out), most frequent first."""
    counted = Counter(re.sub(r"'[^']*'|\b\d+\b", "?", s)[:160] for s in seen)
    return f"{len(seen)} statements:\n" + "\n".join(f"{n:5} {s}" for s, n in counted.most_common())


def rows_at_once(seen: list[str], start: str) -> int:
    """Return the most rows of values one statement starting so carried."""
    return max((s.count("), (") + 1 for s in seen if s.startswith(start)), default=0)


def test_a_batch_runs_no_more_statements_than_counted(
    hub: tuple[Store, FlaskClient, str],
) -> None:
    store, client, token = hub
    first = batch(0, store.now())  # the kiosk's clock agrees with the hub's
    answer, seen = post(store, client, token, first)
    assert (answer["stored"], answer["duplicates"]) == (40, 0)
    assert len(seen) <= FIRST_BATCH, shapes(seen)
    # Nothing read or written one event at a time that a set read can answer.
    assert not [s for s in seen if s.startswith("SELECT 1 FROM items WHERE barcode")], shapes(seen)
    # The 20 loans in one statement, the 20 returns in another (the trace repeats a statement
    # for each row its trigger writes to the change feed: the statement is what is counted).
    assert rows_at_once(seen, "INSERT INTO loans") == 20, shapes(seen)
    assert rows_at_once(seen, "UPDATE loans SET returned_at") == 20, shapes(seen)

    following = batch(1, store.now())
    answer, seen = post(store, client, token, following)
    assert (answer["stored"], answer["duplicates"]) == (40, 0)
    assert len(seen) <= NEXT_BATCH, shapes(seen)

    answer, seen = post(store, client, token, following)
    assert (answer["stored"], answer["duplicates"]) == (0, 40)  # exactly once, by key
    assert len(seen) <= DUPLICATES, shapes(seen)

    # What the statements did: every book back on the shelf, each loan recorded once.
    assert store.value("SELECT count(*) FROM loans") == 40
    assert store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 0
    assert store.value("SELECT count(*) FROM events WHERE kiosk_id = 'A'") == 80
    assert store.value("SELECT count(*) FROM items WHERE status = 'on_loan'") == 0
