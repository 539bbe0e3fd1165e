"""The year report's donations (捐书): books donated, donors, and books per class, by day given."""

from __future__ import annotations

from typing import Any

from kiosk.circulation.collection import one
from kiosk.circulation.reading.donations import DONOR_KEY
from kiosk.circulation.stats import Period
from kiosk.circulation.store import Store, fetch


def figures(store: Store, period: Period) -> dict[str, Any]:
    """Return a period's donations: books, donors and donations, and per class (a child donor's
    class, or the class that gave); parents' and organisations' books count in the school's."""
    db, first, last = store.reader, period.first.isoformat(), period.last.isoformat()
    totals = one(
        db,
        f"SELECT COUNT(b.item_barcode) AS books, COUNT(DISTINCT {DONOR_KEY}) AS donors, "
        "COUNT(DISTINCT d.id) AS donations FROM donations d "
        "JOIN donation_books b ON b.donation_id = d.id WHERE d.donated_on BETWEEN ? AND ?",
        [first, last],
    ) or {"books": 0, "donors": 0, "donations": 0}
    classes = fetch(
        db,
        f"SELECT d.class_name, COUNT(b.item_barcode) AS books, COUNT(DISTINCT {DONOR_KEY}) "
        "AS donors FROM donations d JOIN donation_books b ON b.donation_id = d.id "
        "WHERE d.donated_on BETWEEN ? AND ? AND d.class_name != '' GROUP BY d.class_name "
        "ORDER BY d.class_name COLLATE school",
        [first, last],
    )
    return {**totals, "classes": classes}
