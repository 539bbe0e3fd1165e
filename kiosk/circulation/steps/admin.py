"""Steps of the dashboard's and the desk's other commands: edits, covers, the map, notices,
imports, a new book, and admin actions that change no table."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation import decide, queries
from kiosk.circulation.commands import (
    CatalogueBook,
    EditItem,
    EditPatron,
    RecordAdminAction,
    RecordImport,
    RecordNoticesPrinted,
    SaveImportMapping,
    SetCover,
    SetLibraryMap,
    SetNoticeLevels,
    SetNoticeText,
)
from kiosk.circulation.handler import Context, Decided, step, step_alone
from kiosk.circulation.models import Item
from kiosk.circulation.projections.master import ITEM_EDITS, PATRON_EDITS


@step(EditPatron)
def patron_edited(db: Database, cmd: EditPatron, _: Context) -> Decided:
    """Find the patron; decide which fields change."""
    found = queries.patron_row(db, cmd.patron_id) is not None
    return Decided(decide.edited(found, cmd, PATRON_EDITS))


@step(EditItem)
def item_edited(db: Database, cmd: EditItem, _: Context) -> Decided:
    """Find the item; decide which fields change."""
    found = queries.item_row(db, cmd.barcode) is not None
    return Decided(decide.edited(found, cmd, ITEM_EDITS))


step_alone(RecordAdminAction, decide.admin_action)


@step(SetCover)
def cover_set(db: Database, cmd: SetCover, _: Context) -> Decided:
    """Find the book; decide."""
    row = queries.item_row(db, cmd.barcode)
    item = Item.from_row(row) if row else None
    return Decided(decide.cover_set(item, cmd), item)


@step(SetLibraryMap)
def library_map(db: Database, cmd: SetLibraryMap, _: Context) -> Decided:
    """Decide on the drawn boxes and the 中图法 classes."""
    # Imported here: the search module loads the reading lists, whose modules use the handler.
    from kiosk.circulation.stats.find import SHELVES

    return Decided(decide.library_map(cmd, SHELVES))


# Decided on what the command says alone: the days, the text, the notices printed, a column
# mapping (a later one for the same header replaces it), an import's report (its rows were
# written, journalled, as it went).
step_alone(SetNoticeLevels, decide.notice_levels)
step_alone(SetNoticeText, decide.notice_text)
step_alone(RecordNoticesPrinted, decide.notices_printed)
step_alone(SaveImportMapping, decide.import_mapping_saved)
step_alone(RecordImport, decide.import_recorded)


@step(CatalogueBook)
def catalogue_book(db: Database, cmd: CatalogueBook, _: Context) -> Decided:
    """Find what stands on the shelf under the new barcode, if anything; decide."""
    row = queries.item_row(db, str(cmd.fields.get("barcode", "")).strip())
    shelved = str(row["title"]) if row else None
    return Decided(decide.catalogue_book(cmd, shelved))
