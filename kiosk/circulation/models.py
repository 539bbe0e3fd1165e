"""The things a librarian talks about: patrons, items and loans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kiosk.config import rule_defaults

ROLES = rule_defaults.ROLES
DESK_ROLES = ("helper", "librarian")
# How children address adults: 陈老师 is the name a child knows, and "老师" alone names nobody.
TITLES = ("老师", "校长", "主任")
ITEM_STATUSES = ("available", "on_loan", "lost", "damaged", "withdrawn")
# The school library's own shelves, by their names in both languages; the store says `library`.
LIBRARY_NAMES = frozenset({"library", "图书馆", "总馆", "馆内"})


def location_key(name: str) -> str:
    """Return a location as the store keeps it: the library's name in either language, `library`."""
    text = name.strip()
    return "library" if text.lower() in LIBRARY_NAMES else text


@dataclass(frozen=True)
class Patron:
    id: str
    name: str
    role: str
    grade: int | None
    class_name: str
    status: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Patron:
        """Build from a patrons row."""
        return cls(
            row["id"], row["name"], row["role"], row["grade"], row["class_name"], row["status"]
        )

    @property
    def given_name(self) -> str:
        """Return the name a screen may show: a Chinese given name, or an English first name."""
        name = self.name.strip()
        if " " in name:
            return name.split()[0]
        if name.endswith(TITLES):
            return name  # a title is not a given name: show the whole form of address
        # Chinese names are family name first; two- and three-character names keep the last
        # one or two characters, which is what classmates call each other.
        if len(name) >= 3:
            return name[-2:]
        return name[-1:] if len(name) == 2 else name

    @property
    def can_run_desk(self) -> bool:
        """Return whether this patron's card opens desk mode."""
        return self.role in DESK_ROLES


@dataclass(frozen=True)
class Item:
    barcode: str
    title: str
    author: str
    isbn: str
    call_number: str
    location: str
    status: str
    item_type: str = rule_defaults.BOOK_TYPE  # its loan rules: rules.Rules.item_type

    SHOWN_TITLE = 60  # characters a screen shows; the store keeps the whole title

    @property
    def shown_title(self) -> str:
        """Return the title as a screen shows it: a long one cut, with an ellipsis."""
        if len(self.title) <= self.SHOWN_TITLE:
            return self.title
        return self.title[: self.SHOWN_TITLE - 1].rstrip(" :;,./") + "…"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Item:
        """Build from an items row."""
        return cls(
            row["barcode"],
            row["title"],
            row["author"],
            row["isbn"],
            row["call_number"],
            row["location"],
            row["status"],
            row.get("item_type") or rule_defaults.BOOK_TYPE,
        )


@dataclass(frozen=True)
class Loan:
    id: int | None  # None for a loan built from the event that just made it (not read again)
    uuid: str
    item_barcode: str
    patron_id: str
    checked_out_at: str
    due_at: str
    returned_at: str | None
    renewals: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Loan:
        """Build from a loans row."""
        return cls(
            row["id"],
            row["uuid"],
            row["item_barcode"],
            row["patron_id"],
            row["checked_out_at"],
            row["due_at"],
            row["returned_at"],
            row["renewals"],
        )


# The columns of each table a model is read from, in the order the model takes them: said once,
# by the models, for the projections that write the rows and the queries that read them.
PATRON_FIELDS = tuple(f.name for f in fields(Patron))
ITEM_FIELDS = tuple(f.name for f in fields(Item))
LOAN_FIELDS = tuple(f.name for f in fields(Loan))


@dataclass(frozen=True)
class StoredRows:
    """The rows a batch of copies would change, as the store has them now (read once a batch).

    `rows`: by (event type, key): a patron's, item's, card's, MARC record's or an item's open
    loan's columns; a key not there has no row. `cards`: each patron's card codes.
    """

    rows: dict[tuple[str, str], dict[str, Any]]
    cards: dict[str, set[str]]


@dataclass(frozen=True)
class Copied:
    """What a batch of copies did: of each, in order, 'inserted', 'updated' or 'same'; and the
    rows as they were before (an import journals them, to put them back if it is stopped)."""

    said: list[str]
    before: StoredRows
