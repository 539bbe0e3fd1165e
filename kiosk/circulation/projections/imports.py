"""Projections of imports: a column mapping the librarian saved for files with these headers."""

from __future__ import annotations

import json

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projector import projection


@projection("import_mapping_saved")
def import_mapping_saved(db: Database, event: Event) -> None:
    """Remember (or replace) the mapping of a kind of file with this set of headers."""
    db.execute(
        "INSERT INTO import_mappings (kind, header, columns, saved_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(kind, header) DO UPDATE SET columns = excluded.columns, "
        "saved_at = excluded.saved_at",
        [
            event.data["kind"],
            event.data["header"],
            json.dumps(event.data["columns"], ensure_ascii=False),
            event.at,
        ],
    )
