"""Card numbers: one EM4100 card, written as its hex UID or as the decimal printed on it.

An EM4100 card carries a 5-byte UID. Serial readers report it as 10 hex digits (`0F00A1B2C3`,
upper case is the canonical form); keyboard-style readers type, and the card has printed on it,
the last 4 bytes in decimal, padded to 10 digits (`0010597059` = 0x00A1B2C3). Both must find the
same patron. The store keeps each card's code as entered (canonical upper-case hex for UIDs) and,
for codes shaped like a UID of 8 or 10 hex digits, that decimal in `cards.number`. Printed
barcodes on student cards are kept exactly as they are.

A 10-digit code made only of digits is both a possible hex UID and a possible decimal; lookups
try the exact code first, then the decimal reading, then the hex reading, and that order decides
the (very unlikely) case where two cards would match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk import codes

# The same arithmetic in SQL, for cards written by code that does not fill `number` itself
# (a trigger of migration m004). `{c}` is the column holding the code.
SQL_IS_UID = "(length({c}) IN (8, 10) AND upper({c}) NOT GLOB '*[^0-9A-F]*')"
SQL_NUMBER = (
    "printf('%010d', "
    + " + ".join(
        f"((instr('0123456789ABCDEF', substr(upper(substr({{c}}, -8)), {i + 1}, 1)) - 1)"
        f" << {4 * (7 - i)})"
        for i in range(8)
    )
    + ")"
)


# One definition of a UID and its forms, shared with the card readers (kiosk/codes.py).
is_uid = codes.is_uid
canonical = codes.canonical_card
number = codes.printed_number
decimal = codes.card_decimal


@dataclass(frozen=True)
class Forms:
    """Every form of a card code: as the store keeps it, and the two readings of its digits."""

    code: str  # canonical: a UID in upper case, any other code exactly as given
    printed: str | None  # for a UID of 8 or 10 hex digits: the decimal printed on the card
    as_decimal: str | None  # for 10 digits: the code read as such a printed decimal


def forms(code: str) -> Forms:
    """Return every form of a card code; lookups and uniqueness checks all start from here."""
    return Forms(canonical(code), number(code), decimal(code))


def find_exact(db: Database, code: str) -> tuple[Any, ...] | None:
    """Return (code, patron_id, status) of the card with exactly this code (any case of a UID)."""
    return db.execute(
        "SELECT code, patron_id, status FROM cards WHERE code IN (?, ?) ORDER BY code = ? DESC",
        [canonical(code), code, canonical(code)],
    ).fetchone()


def find_other_form(db: Database, code: str) -> tuple[Any, ...] | None:
    """Return the card this code names in its other form: decimal for a UID, or the reverse."""
    f = forms(code)
    if f.as_decimal is not None:
        row = db.execute(
            "SELECT code, patron_id, status FROM cards WHERE number = ? ORDER BY created_at, code",
            [f.as_decimal],
        ).fetchone()
        if row:
            return row
    if f.printed is not None and f.printed != f.code:
        return db.execute(
            "SELECT code, patron_id, status FROM cards WHERE code = ?", [f.printed]
        ).fetchone()
    return None


def find(db: Database, code: str) -> tuple[Any, ...] | None:
    """Return (code, patron_id, status) of the card a code names in any of its forms.

    The one lookup of a card: the touchscreen, the dashboard, imports, card replacement and
    the hub's trust all find a card (and check that a new card is nobody else's) through it.
    """
    return find_exact(db, code) or find_other_form(db, code)


def stored(db: Database, code: str) -> str:
    """Return the code the store keeps for the card a code names, or the code's canonical form."""
    found = find(db, code)
    return str(found[0]) if found else canonical(code)


def holder(db: Database, code: str) -> dict[str, Any] | None:
    """Return the card a code names in any form, with its holder: code, patron_id, status, name."""
    found = find(db, code)
    if found is None:
        return None
    name = db.execute("SELECT name FROM patrons WHERE id = ?", [found[1]]).fetchone()
    return {
        "code": found[0],
        "patron_id": found[1],
        "status": found[2],
        "name": name[0] if name else found[1],
    }


class CardIndex:
    """Cards seen so far (in a file being imported), matched in all their forms."""

    def __init__(self) -> None:
        self._codes: dict[str, Any] = {}
        self._numbers: dict[str, Any] = {}

    def get(self, code: str) -> Any:
        """Return what was added under a code naming the same card, or None."""
        f = forms(code)
        if f.code in self._codes:
            return self._codes[f.code]
        if f.printed is not None and f.printed in self._codes:
            return self._codes[f.printed]
        return self._numbers.get(f.as_decimal) if f.as_decimal is not None else None

    def add(self, code: str, value: Any) -> None:
        """Remember a card code with a value (like the row it came from)."""
        f = forms(code)
        self._codes.setdefault(f.code, value)
        if f.printed is not None:
            self._numbers.setdefault(f.printed, value)
