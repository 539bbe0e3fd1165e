"""Projection of the reading stars' rules (docs/reading.md, "Reading stars and the festival").

Rules saved at this dashboard are `star_rules_saved`; rules as the hub has them arrive whole
(`star_rules_synced`, a copy of the hub's feed: logged, never sent back, as the reading lists) and
replace this kiosk's copy.
"""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.projector import projection
from kiosk.circulation.store import Event


@projection("star_rules_saved")
def star_rules_saved(db: Database, e: Event) -> None:
    """Create the rules of a period's reading stars, or change them."""
    d = e.data
    db.execute(
        "INSERT INTO star_rules (id, name, first_day, last_day, min_books, min_list, top, "
        "saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "name = excluded.name, first_day = excluded.first_day, last_day = excluded.last_day, "
        "min_books = excluded.min_books, min_list = excluded.min_list, top = excluded.top, "
        "saved_at = excluded.saved_at",
        [
            d["rules"],
            d["name"],
            d["first"],
            d["last"],
            int(d["min_books"]),
            int(d["min_list"]),
            int(d["top"]),
            e.at,
        ],
    )


@projection("star_rules_synced")
def star_rules_synced(db: Database, e: Event) -> None:
    """Make a period's star rules the hub's, with the hub's time.

    `data`: {"key": rules id, "row": {id, name, first_day, last_day, min_books, min_list, top,
    saved_at} or None (the hub has no such rules: they go)}.
    """
    key, row = e.data["key"], e.data.get("row")
    if row is None:
        db.execute("DELETE FROM star_rules WHERE id = ?", [key])
        return
    db.execute(
        "INSERT INTO star_rules (id, name, first_day, last_day, min_books, min_list, top, "
        "saved_at) VALUES (:id, :name, :first_day, :last_day, :min_books, :min_list, :top, "
        ":saved_at) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
        "first_day = excluded.first_day, last_day = excluded.last_day, "
        "min_books = excluded.min_books, min_list = excluded.min_list, top = excluded.top, "
        "saved_at = excluded.saved_at",
        {**{k: row[k] for k in STAR_COLUMNS}, "id": key},
    )


STAR_COLUMNS = ("name", "first_day", "last_day", "min_books", "min_list", "top", "saved_at")
