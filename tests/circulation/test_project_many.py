"""Loans projected many at once end as they end projected one by one.

The hub projects a batch's loans and returns a run at a time (`project_many`: one statement
for many books); the kiosk projects each event alone through the same projection. Both must
leave the same loans and book statuses, through a renewal, a transfer and a return of a book
on the shelf as well as the plain cases.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ITEMS

from kiosk.circulation.projector import project, project_many
from kiosk.circulation.store import Event, Store

BOOKS = [i[0] for i in ITEMS]
DUE = {"due_at": "2026-11-30T15:59:59.000Z"}


def lend(book: int, patron: str, minute: int) -> Event:
    at = f"2026-11-02T01:{minute:02d}:00.000Z"
    return Event("checkout", at, "k1", patron_id=patron, item_barcode=BOOKS[book], data=DUE)


def back(book: int, minute: int) -> Event:
    return Event("checkin", f"2026-11-02T01:{minute:02d}:00.000Z", "k1", item_barcode=BOOKS[book])


BEFORE = [lend(0, "S001", 1), lend(1, "S002", 2)]
# Renewal (0), transfer (1), a new loan (2), a return of a book on the shelf (3), then the same
# books again: each run of one type over different books is one statement.
EVENTS = [
    lend(0, "S001", 10),
    lend(1, "S003", 11),
    lend(2, "T001", 12),
    back(3, 13),
    back(0, 14),
    lend(0, "S002", 15),
    back(2, 16),
    lend(4, "S001", 17),
    back(1, 18),
    back(1, 19),
]


class Undone(Exception):
    """Rolls the test's transaction back."""


def state_after(store: Store, apply: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Project BEFORE one by one, then EVENTS through `apply`; return loans and items, undone."""
    with pytest.raises(Undone) as undone, store.write() as db:
        for e in BEFORE:
            project(db, e)
        apply(db, EVENTS)
        loans = db.execute(
            "SELECT uuid, item_barcode, patron_id, checked_out_at, due_at, returned_at, renewals "
            "FROM loans ORDER BY uuid"
        ).fetchall()
        items = db.execute("SELECT barcode, status, updated_at FROM items ORDER BY 1").fetchall()
        raise Undone((loans, items))
    assert store.value("SELECT count(*) FROM loans") == 0  # undone for the next
    return undone.value.args[0]  # type: ignore[no-any-return]


def one_by_one(db: Any, events: list[Event]) -> None:
    for e in events:
        project(db, e)


def test_many_at_once_leaves_what_one_by_one_leaves(store: Store) -> None:
    alone = state_after(store, one_by_one)
    loans, items = state_after(store, project_many)
    assert (loans, items) == alone
    by_uuid = {r[0]: r for r in loans}
    assert by_uuid[BEFORE[0].uuid][6] == 1  # renewed by its own patron
    assert by_uuid[BEFORE[1].uuid][5] == EVENTS[1].at  # ended by the transfer
    still_out = sorted(r for r in loans if r[5] is None)
    assert still_out == sorted([by_uuid[EVENTS[5].uuid], by_uuid[EVENTS[7].uuid]])
    assert [status for _, status, _ in items] == [
        "on_loan" if b in (BOOKS[0], BOOKS[4]) else "available" for b, _, _ in items
    ]
