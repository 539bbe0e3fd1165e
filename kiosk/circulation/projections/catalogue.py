"""Projections of the catalogue: a new book catalogued at the desk."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation.projector import projection
from kiosk.circulation.records import put_item
from kiosk.circulation.store import Event


@projection("item_catalogued")
def item_catalogued(db: Database, event: Event) -> None:
    """Put the new book on the shelf: title, author, ISBN and call number as catalogued."""
    put_item(db, {**event.data, "barcode": event.item_barcode}, event.at)
