"""Projections of the catalogue: a new book catalogued at the desk, a MARC record kept."""

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


@projection("marc_record_saved")
def marc_record_saved(db: Database, event: Event) -> None:
    """Keep (or, with no row, forget) a MARC record the desk looks ISBNs up in.

    `data`: {"key": isbn, "row": title, author, call_number and source, or None}; an import's
    copy (`CopyRows`), logged like its items and patrons.
    """
    key, row = event.data["key"], event.data.get("row")
    if row is None:
        db.execute("DELETE FROM marc_records WHERE isbn = ?", [key])
        return
    db.execute(
        "INSERT INTO marc_records (isbn, title, author, call_number, source, loaded_at) "
        "VALUES (:isbn, :title, :author, :call_number, :source, :at) "
        "ON CONFLICT(isbn) DO UPDATE SET title = excluded.title, author = excluded.author, "
        "call_number = excluded.call_number, source = excluded.source, "
        "loaded_at = excluded.loaded_at",
        {
            "title": row.get("title", ""),
            "author": row.get("author", ""),
            "call_number": row.get("call_number", ""),
            "source": row.get("source", ""),
            "isbn": key,
            "at": event.at,
        },
    )
