"""Steps of master-data commands: cards, an item's or a patron's status, rules, item types."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation import cards as card_forms
from kiosk.circulation import decide
from kiosk.circulation.commands import (
    CopyRows,
    IssueCard,
    RemoveItemType,
    ReportCardLost,
    SaveItemType,
    SetItemStatus,
    SetItemType,
    SetPatronStatus,
    SetRules,
)
from kiosk.circulation.handler import Context, Decided, step, step_alone
from kiosk.circulation.models import Copied, Item, Patron
from kiosk.circulation.queries import records as rows
from kiosk.circulation.rules import load_rules
from kiosk.i18n import ITEM_TYPE_NAMES, LANGUAGES, translate


def _patron(db: Database, patron_id: str) -> Patron | None:
    row = rows.patron_row(db, patron_id)
    return Patron.from_row(row) if row else None


def _item(db: Database, barcode: str) -> Item | None:
    row = rows.item_row(db, barcode)
    return Item.from_row(row) if row else None


@step(ReportCardLost)
def report_card_lost(db: Database, cmd: ReportCardLost, _: Context) -> Decided:
    """Find the card in any of its forms; decide."""
    card = card_forms.find(db, cmd.code)
    return Decided(decide.report_card_lost(card, cmd), card)


@step(IssueCard)
def issue_card(db: Database, cmd: IssueCard, _: Context) -> Decided:
    """Find the patron and whoever holds the code in any form; decide."""
    patron = _patron(db, cmd.patron_id)
    taken = card_forms.holder(db, cmd.code) if cmd.code else None
    return Decided(decide.issue_card(patron, cmd.code, taken, cmd), patron)


@step(SetItemStatus)
def item_status(db: Database, cmd: SetItemStatus, _: Context) -> Decided:
    """Find the item; decide."""
    item = _item(db, cmd.barcode)
    return Decided(decide.item_status(item, cmd), item)


@step(SetPatronStatus)
def patron_status(db: Database, cmd: SetPatronStatus, _: Context) -> Decided:
    """Find the patron; decide."""
    patron = _patron(db, cmd.patron_id)
    return Decided(decide.patron_status(patron, cmd), patron)


step_alone(SetRules, decide.rules_set)


@step(SaveItemType)
def item_type_saved(db: Database, cmd: SaveItemType, _: Context) -> Decided:
    """Read the library's item types; decide (a built-in type's name in any language is taken)."""
    types = load_rules(db).item_types
    return Decided(decide.item_type_saved(types, cmd, built_in_type_names()))


@step(SetItemType)
def item_type_set(db: Database, cmd: SetItemType, _: Context) -> Decided:
    """Find the item and the library's item types; decide."""
    item = _item(db, cmd.barcode)
    return Decided(decide.item_type_set(item, load_rules(db), cmd), item)


@step(RemoveItemType)
def item_type_removed(db: Database, cmd: RemoveItemType, _: Context) -> Decided:
    """Read the library's item types and how many books have this one; decide."""
    types = load_rules(db).item_types
    books = rows.books_of_type(db, cmd.key)
    return Decided(decide.item_type_removed(types, books, cmd))


def built_in_type_names() -> set[str]:
    """Return the names of the built-in item types in every language (报刊杂志, Magazine...)."""
    return {translate(name, lang) for name in ITEM_TYPE_NAMES.values() for lang in LANGUAGES}


@step(CopyRows)
def rows_copied(db: Database, cmd: CopyRows, _: Context) -> Decided:
    """Read the rows the copies would change, a few statements for the batch; decide.

    The state (`Copied`) is what the decision said of each copy and the rows it read.
    """
    before = rows.stored_rows(db, cmd.copies)
    decision, said = decide.rows_copied(cmd, before)
    return Decided(decision, Copied(said, before))
