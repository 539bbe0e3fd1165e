"""A scan's SQLite statements, counted on the real connections, so that they cannot creep back.

Every statement is a round trip through the sqlite3 module; on the scan path they are most of
the kiosk's own work beside the COMMIT's fsync (docs/performance.md). The bounds are what the
code does now: a test that fails here lists every statement, so a reader sees what crept in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kiosk.circulation.session import Feedback, Kiosk
from kiosk.circulation.store import Store

CARD = "0F00A1B2C3"
RED, PRINCE = "9787020002207", "9787535449450"

# identify (a card with the code, else the book with its open loan: one read), BEGIN, the
# decision's one read, the loan (one upsert: opened, or the same patron's renewed), the book's
# status, the event, COMMIT.
CHECKOUT_STATEMENTS = 7
# identify (1), BEGIN, the one read, end the loan, shelve the book, the event, COMMIT.
RETURN_STATEMENTS = 7


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Collect every statement the store's writer and this thread's reader run meanwhile."""
    seen: list[str] = []
    conns = (store.db.conn, store.reader.conn)
    for conn in conns:
        conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        for conn in conns:
            conn.set_trace_callback(None)


def counted(store: Store, scan: Callable[[], Feedback]) -> tuple[Feedback, list[str]]:
    with statements(store) as seen:
        fb = scan()
    return fb, list(seen)


def listing(seen: list[str]) -> str:
    return "\n".join(f"{n:3} {sql[:200]}" for n, sql in enumerate(seen, 1))


def test_a_checkout_and_a_return_run_no_more_statements_than_counted(
    kiosk: Kiosk, store: Store
) -> None:
    kiosk.scan(CARD)
    kiosk.scan(PRINCE)  # the rules are read once and kept until their version moves
    fb, seen = counted(store, lambda: kiosk.scan(RED))
    assert (fb.kind, fb.result and fb.result.action) == ("ok", "checkout")
    assert fb.params["due_date"] == "2026-11-16"
    assert len(seen) <= CHECKOUT_STATEMENTS, listing(seen)
    # The loan, its event and the book's status are written once each, in one transaction.
    writes = [" ".join(s.split()[:3]) for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == ["INSERT INTO loans", "UPDATE items SET", "INSERT INTO events"], listing(seen)
    assert [s for s in seen if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert seen[-1] == "COMMIT", listing(seen)  # the answer comes after the durable commit
    loan = store.query(
        "SELECT uuid, patron_id, due_at, returned_at FROM loans WHERE item_barcode = ?", [RED]
    )
    assert fb.result is not None and fb.result.loan is not None
    assert loan == [
        {
            "uuid": fb.result.loan.uuid,
            "patron_id": "S001",
            "due_at": fb.result.loan.due_at,
            "returned_at": None,
        }
    ]

    kiosk.done()
    fb, seen = counted(store, lambda: kiosk.scan(RED))
    assert (fb.kind, fb.result and fb.result.action) == ("ok", "checkin")
    assert fb.result is not None and fb.result.patron is not None
    assert fb.result.patron.id == "S001"  # whose return it was, from the same read
    assert len(seen) <= RETURN_STATEMENTS, listing(seen)
    assert seen[-1] == "COMMIT", listing(seen)
    assert store.value("SELECT status FROM items WHERE barcode = ?", [RED]) == "available"
