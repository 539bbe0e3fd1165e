"""Projections of the catalogue: a new book catalogued at the desk."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projections.master import item_saved
from kiosk.circulation.projector import projection


@projection("item_named")
def item_named(db: Database, event: Event) -> None:
    """Keep a book as a SIP2 library system named it: a row for a book new here, or its title.

    Only the title: the system's answer says nothing else of the book, and the rest of a row
    (an import's author, call number) stays. Kiosk-local: the hub only records it.
    """
    db.execute(
        "INSERT INTO items (barcode, title, updated_at, added_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(barcode) DO UPDATE SET title = excluded.title, "
        "updated_at = excluded.updated_at",
        [event.item_barcode, event.data["title"], event.at, event.at],
    )


@projection("item_catalogued")
def item_catalogued(db: Database, event: Event) -> None:
    """Put the new book on the shelf: title, author, ISBN and call number as catalogued."""
    row = {**event.data, "barcode": event.item_barcode}
    # The same upsert as any other item's (master.item_saved): one definition of an item row.
    item_saved(
        db,
        Event(
            type="item_saved",
            at=event.at,
            kiosk_id="",
            data={"key": event.item_barcode, "row": row},
        ),
    )
