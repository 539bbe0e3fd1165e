"""Projections of the catalogue: a new book catalogued at the desk."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projections.master import item_saved
from kiosk.circulation.projector import projection


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
