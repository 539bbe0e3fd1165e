"""A generated collection and the cards of the test school, for the collection tests."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

from kiosk.circulation.records import put_item
from kiosk.circulation.store import Store

HELPER_CARD = "0F00AAAA01"
STUDENT_CARD = "0F00A1B2C3"  # S001 王小明, 三(2)班
OTHER_CARD = "0F00A1B2C4"  # S002 李雨涵


def grow_shelves(store: Store, n: int, seed: int = 13) -> list[dict[str, str]]:
    """Add `n` books: most in the library (I-call numbers), a tenth in 三(2)班's book corner."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        where = "三(2)班" if k % 10 == 9 else "library"
        cls = rng.choice("IKN")
        rows.append(
            {
                "barcode": f"97875{k:08d}",
                "title": f"书{k}",
                "call_number": f"{cls}{rng.randint(100, 999)}/{k}",
                "location": where,
            }
        )
    with store.write() as db:
        for r in rows:
            put_item(db, r, store.now())
    return rows


@contextlib.contextmanager
def statements_of(store: Store) -> Iterator[list[str]]:
    """Collect the statements the store runs, on its writer and this thread's reader."""
    seen: list[str] = []
    for conn in (store.db.conn, store.reader.conn):
        conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        for conn in (store.db.conn, store.reader.conn):
            conn.set_trace_callback(None)
