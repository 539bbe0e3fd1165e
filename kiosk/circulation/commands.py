"""Commands: what a person or a system asks circulation to do, as plain values.

Every entry point (a scan in the session, the desk page, the dashboard, an import, the hub's
feed) builds one of these; a pure decision in `decide.py` turns it into events or a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
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
class SetItemType:
    """Give an item a type, and so its loan rules."""

    barcode: str
    item_type: str
    actor: str = ""


@dataclass(frozen=True)
class RecordImport:
    """Record that rows came in from outside (a file, the demo school): what kind, how many."""

    kind: str
    counts: Mapping[str, int]
    actor: str = ""
