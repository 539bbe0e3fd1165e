"""Commands: what a person or a system asks circulation to do, as plain values.

Every entry point (a scan in the session, the desk page, the dashboard, an import, the hub's
feed) builds one of these; a pure decision in `decide.py` turns it into events or a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Checkout:
    """Lend an item to a patron."""

    patron_id: str
    barcode: str
    actor: str = ""


@dataclass(frozen=True)
class Checkin:
    """Return an item."""

    barcode: str
    actor: str = ""


@dataclass(frozen=True)
class Renew:
    """Extend a patron's loan of an item."""

    patron_id: str
    barcode: str
    actor: str = ""


@dataclass(frozen=True)
class UndoLast:
    """Reverse the actor's last checkout, checkin or renewal, within a window of seconds."""

    actor: str
    window_s: float


@dataclass(frozen=True)
class IssueCard:
    """Give a patron a new card (a UID in any case, or a printed number)."""

    patron_id: str
    code: str
    actor: str = ""


@dataclass(frozen=True)
class ReportCardLost:
    """Refuse a card from now on; `patron_id`, when given, must be the card's owner."""

    code: str
    actor: str = ""
    patron_id: str | None = None


@dataclass(frozen=True)
class SetItemStatus:
    """Mark an item lost, damaged, withdrawn or available again."""

    barcode: str
    status: str
    actor: str = ""


@dataclass(frozen=True)
class SetPatronStatus:
    """Block, unblock or retire a patron."""

    patron_id: str
    status: str
    actor: str = ""


@dataclass(frozen=True)
class SetRules:
    """Replace the loan rules, the policy and the closed days (from the dashboard or config)."""

    rules: tuple[dict[str, Any], ...]
    policy: dict[str, Any]
    closed_days: tuple[str, ...]
    actor: str = ""


@dataclass(frozen=True)
class Visit:
    """Record that a student's card opened a session at the kiosk."""

    patron_id: str
    actor: str = ""


@dataclass(frozen=True)
class SetDrifting:
    """Let a book drift (图书漂流) from child to child, or bring it back to its shelf."""

    barcode: str
    drifting: bool
    actor: str = ""


@dataclass(frozen=True)
class TakeDrifting:
    """A child takes a drifting book (from the shelf it left, or from the child who had it)."""

    patron_id: str
    barcode: str
    actor: str = ""


@dataclass(frozen=True)
class EndDrift:
    """A drifting book is handed in: whoever had it has it no more."""

    barcode: str
    actor: str = ""


@dataclass(frozen=True)
class SaveItemType:
    """Add an item type (no key yet: one is made) or change one; None in a number: the role's."""

    key: str
    name: str | None
    lendable: bool
    loan_days: int | None
    max_loans: int | None
    renewals: int | None
    actor: str = ""


@dataclass(frozen=True)
class RemoveItemType:
    """Remove one of the librarian's item types that no book has."""

    key: str
    actor: str = ""


@dataclass(frozen=True)
class SetItemType:
    """Give an item a type, and so its loan rules."""

    barcode: str
    item_type: str
    actor: str = ""


@dataclass(frozen=True)
class EditPatron:
    """Change a patron's name, role, grade or class (only the fields given)."""

    patron_id: str
    changes: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class EditItem:
    """Change an item's title, author, ISBN, call number or location (only the fields given)."""

    barcode: str
    changes: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class RecordAdminAction:
    """Record an admin action that changes no table (a password set, an export)."""

    type: str
    data: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class SetCover:
    """Make a kept photo (named by the SHA-256 of its bytes) a book's cover."""

    barcode: str
    cover: str
    width: int
    height: int
    actor: str = ""


@dataclass(frozen=True)
class MapCell:
    """What the librarian wrote in one cell of the library map's grid (rows and columns from 0)."""

    row: int
    col: int
    name: str
    classes: str


@dataclass(frozen=True)
class SetLibraryMap:
    """Make the drawn boxes the library map."""

    cells: tuple[MapCell, ...]
    actor: str = ""


@dataclass(frozen=True)
class SetNoticeLevels:
    """Set the days overdue from which the class teacher, then the parents, are told."""

    teacher: int
    parents: int
    actor: str = ""


@dataclass(frozen=True)
class SetNoticeText:
    """Set the text of the parents' notice."""

    body: str
    actor: str = ""


@dataclass(frozen=True)
class NoticePrinted:
    """One student's parents' notice printed: its level, the loans on it, the class."""

    patron_id: str
    level: int
    loans: tuple[str, ...]
    class_name: str | None


@dataclass(frozen=True)
class RecordNoticesPrinted:
    """Record that these students' parents' notices were printed (one event each)."""

    notices: tuple[NoticePrinted, ...]
    actor: str = ""


@dataclass(frozen=True)
class SaveImportMapping:
    """Remember how the columns of files with this header map to ours."""

    kind: str
    header: str  # the header's key (importers.mappings.header_key)
    columns: dict[str, list[str]]
    actor: str = ""


@dataclass(frozen=True)
class RecordImport:
    """Record that an import finished: its kind, file and counts."""

    data: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class CatalogueBook:
    """Put a new book on the shelf under its new barcode label."""

    fields: dict[str, str]
    actor: str = ""


@dataclass(frozen=True)
class Copy:
    """One row another place decided, to be copied here as the event `type` says.

    `row` None removes it. `cards`: a patron's cards (an import's). `at`: when it was decided,
    only when that is not now (the demo school's history).
    """

    type: str
    key: str
    row: dict[str, Any] | None
    cards: tuple[str, ...] | None = None
    at: str | None = None


@dataclass(frozen=True)
class CopyRows:
    """Copy rows decided elsewhere (an import's checked rows, an undone import's rows as they
    were, the hub's feed, the demo school) into the store as events; unchanged rows are left."""

    copies: tuple[Copy, ...]
    actor: str = ""
