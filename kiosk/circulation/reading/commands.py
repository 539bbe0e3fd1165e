"""Reading's commands: the librarian's lists, stars and donations, and a child's badges.

Each is a plain value that `handler.handle` runs through its step (steps/reading.py): read the
state through the area's named queries, then its pure decision. Who asks is given to
`handle(..., actor=...)`, which puts it on every event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the area's modules import the handler; a command only names their types
    from kiosk.circulation.reading.badges import Rules
    from kiosk.circulation.reading.donations import DonationForm
    from kiosk.circulation.reading.lists import ListForm
    from kiosk.circulation.reading.stars import StarForm


@dataclass(frozen=True)
class SaveStarRules:
    """Save new reading-star rules (no id) or change saved ones."""

    form: StarForm
    rules_id: str = ""


@dataclass(frozen=True)
class AwardBadges:
    """Give a child the badges they earned this term (from `term`, its first day)."""

    patron_id: str
    grade: int | None
    term: str
    rules: Rules


@dataclass(frozen=True)
class SaveList:
    """Create a reading list (no id) or change one."""

    form: ListForm
    last_grade: int
    list_id: str = ""


@dataclass(frozen=True)
class AddListTitle:
    """Add the title of a copy's barcode, an ISBN or an exact title to a list."""

    list_id: str
    code: str


@dataclass(frozen=True)
class AddListRow:
    """Add a file's row to a list: its book is the first the ways it names find, in order."""

    list_id: str
    ways: tuple[tuple[str, str], ...]  # ("barcode" | "isbn" | "title", the value)
    named: str  # the row's codes as the librarian reads them


@dataclass(frozen=True)
class RemoveListTitle:
    """Take a title off a list."""

    list_id: str
    key: str


@dataclass(frozen=True)
class RecordDonation:
    """Record a donation (its donor, day, copies and new books) on `today`."""

    form: DonationForm
    today: dt.date
