"""The collection's commands: what the librarian, a helper or the kiosk asks of a chore.

Each is a plain value that `handler.handle` runs through its step (steps/collection.py): read
the state through the chore's named queries, then its pure decision. Who asks is not part of
the command: the caller gives it to `handle(..., actor=...)`, which puts it on every event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the chores' modules import the handler; a command only names their types
    from kiosk.circulation.collection.promotion import Plan
    from kiosk.circulation.collection.stocktake import Scope


@dataclass(frozen=True)
class StartStocktake:
    """Start a stocktake of a scope (or resume the same scope's paused one)."""

    scope: Scope


@dataclass(frozen=True)
class SetStocktakeStatus:
    """Pause (`paused`), resume (`open`) or finish (`finished`) a stocktake (None: the open one)."""

    to: str
    stocktake_id: str | None = None


@dataclass(frozen=True)
class CountForStocktake:
    """Count one scanned code for the running stocktake."""

    code: str


@dataclass(frozen=True)
class ReplaceCard:
    """Replace a patron's lost card with a new one in one step."""

    patron_id: str
    old: str
    new: str


@dataclass(frozen=True)
class SetHolidayLoans:
    """Turn holiday loans on (with their due date) or off (None) for these grades."""

    wanted: Mapping[int, dt.date | None]
    last_grade: int


@dataclass(frozen=True)
class MarkBook:
    """Mark a book `lost` or `damaged`, closing its open loan if it has one."""

    kind: str
    barcode: str
    note: str = ""


@dataclass(frozen=True)
class MarkFound:
    """Restore a lost book that turned up (`how`: kiosk, desk or dashboard)."""

    barcode: str
    how: str


@dataclass(frozen=True)
class RecordCompensation:
    """Record what was paid, replaced or waived for a lost or damaged book."""

    incident_id: str
    kind: str
    amount: str


@dataclass(frozen=True)
class Repair:
    """Send a damaged book to repair (`started`) or back to the shelf (`done`)."""

    incident_id: str
    step: str


@dataclass(frozen=True)
class PlaceHold:
    """Put a student on the list for one copy that is out."""

    barcode: str
    patron_id: str


@dataclass(frozen=True)
class PlaceTitleHold:
    """Put a student in the queue of the copy of a title that comes back first for them."""

    barcode: str
    patron_id: str
    max_holds: int


@dataclass(frozen=True)
class ReadyHold:
    """On a book's return, make its first waiting hold ready until `expires_on`."""

    barcode: str
    expires_on: dt.date


@dataclass(frozen=True)
class CloseHold:
    """Close a hold as `fulfilled` or `cancelled`."""

    hold_id: str
    how: str


@dataclass(frozen=True)
class ExpireHolds:
    """Expire every ready hold whose last day is before `today`."""

    today: dt.date


@dataclass(frozen=True)
class Withdraw:
    """Withdraw a book from the collection with a reason."""

    barcode: str
    reason: str
    note: str = ""


@dataclass(frozen=True)
class LendToCorner:
    """Lend a box of books to a class corner, due at the end of `due` in `tz`."""

    class_name: str
    responsible: str
    barcodes: tuple[str, ...]
    due: dt.date
    tz: ZoneInfo


@dataclass(frozen=True)
class PromoteYear:
    """Carry out a new school year's plan, made `today`, unless this year's was done already."""

    plan: Plan
    today: dt.date


@dataclass(frozen=True)
class CloseLeavers:
    """Close the kept leavers whose books have all come back."""

    last_grade: int
