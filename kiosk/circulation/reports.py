"""Read-only reports on the store: status counts, loans today, overdue by class."""

from __future__ import annotations

from typing import Any

from kiosk.circulation import queries
from kiosk.circulation.queries import outbox
from kiosk.circulation.store import Store


def status_report(store: Store) -> dict[str, Any]:
    """Return counts, open and overdue loans, the last events and the store's health."""
    now = store.now()
    q = store.value
    return {
        "kiosk_id": store.kiosk_id,
        "store": str(store.path),
        "schema": store.schema[-1] if store.schema else None,
        "integrity": store.integrity(),
        **queries.counts(store.reader, now),
        "events": q("SELECT count(*) FROM events"),
        "events_waiting_for_hub": outbox.events_waiting(store.reader),
        "last_events": store.query(
            "SELECT at, type, patron_id, item_barcode FROM events ORDER BY seq DESC LIMIT 5"
        ),
    }
