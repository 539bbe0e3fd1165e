"""Book barcodes and card codes, as pure functions: the one home both devices and circulation use.

Books: an EAN-13 (ISBN-13 included) must have a correct check digit; an ISBN-10 is converted to
its ISBN-13 (books are catalogued that way); the school's own barcodes pass when they match a
configured pattern. Cards: a UID is canonical upper-case hex (EM4100: 10 digits, ISO 14443A: 8,
14 or 20); a 10-digit decimal (the number printed on an EM4100 card) is delivered as it is, after
an optional byte swap for readers that send the 4 bytes reversed. The store matches the two forms.

Every writer of a card keeps its code in `canonical_card` form, so a UID typed in lower case on
the dashboard is the UID the reader sends; `printed_number` is the decimal printed on a card whose
UID has 4 bytes after an optional 1-byte header (EM4100's 10 hex digits, or 8).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

_DIGITS13 = re.compile(r"[0-9]{13}")
_ISBN10 = re.compile(r"[0-9]{9}[0-9Xx]")
_HEX_UID = re.compile(r"(?:[0-9A-F]{8}|[0-9A-F]{10}|[0-9A-F]{14}|[0-9A-F]{20})")
_DECIMAL = re.compile(r"[0-9]{10}")
# Separators some readers put between UID bytes: 04:A2:1B:7F or 04 A2 1B 7F.
_SEPARATORS = re.compile(r"[\s:\-]")


@dataclass(frozen=True)
class Checked:
    """A code after checking: the code to deliver, or None and why it was rejected."""

    code: str | None
    reason: str = ""


def ean13_check_digit(first12: str) -> str:
    """Return the EAN-13 (ISBN-13) check digit of 12 digits."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13_ok(code: str) -> bool:
    """Return whether 13 digits carry a correct EAN-13 check digit."""
    return bool(_DIGITS13.fullmatch(code)) and ean13_check_digit(code[:12]) == code[12]


def isbn10_ok(code: str) -> bool:
    """Return whether an ISBN-10 (9 digits and a digit or X) has a correct check digit."""
    if not _ISBN10.fullmatch(code):
        return False
    values = [int(c) for c in code[:9]] + [10 if code[9] in "Xx" else int(code[9])]
    return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0


def isbn10_to_13(code: str) -> str:
    """Return the ISBN-13 (978 prefix) of a valid ISBN-10."""
    body = "978" + code[:9]
    return body + ean13_check_digit(body)


def check_book_code(
    code: str,
    *,
    book_patterns: Sequence[re.Pattern[str]] = (),
    card_patterns: Sequence[re.Pattern[str]] = (),
    convert_isbn10: bool = True,
) -> Checked:
    """Check a code from a barcode scanner, which reads books and the barcodes on cards."""
    if any(p.search(code) for p in (*book_patterns, *card_patterns)):
        return Checked(code)
    if _DIGITS13.fullmatch(code):
        return Checked(code) if ean13_ok(code) else Checked(None, "bad EAN-13 check digit")
    if convert_isbn10 and _ISBN10.fullmatch(code):
        if isbn10_ok(code):
            return Checked(isbn10_to_13(code))
        return Checked(None, "bad ISBN-10 check digit")
    if book_patterns or card_patterns:
        return Checked(None, "matches no configured book or card pattern")
    return Checked(code)


def swap_decimal(code: str) -> str:
    """Return a 10-digit card number with its 4 bytes in the other order."""
    value = int(code).to_bytes(4, "big")
    return f"{int.from_bytes(value, 'little'):010d}"


def canonical_uid(
    raw: str, *, byte_order: str = "big", card_patterns: Sequence[re.Pattern[str]] = ()
) -> Checked:
    """Return a card reader's text as the canonical card code, or why it is not one."""
    text = raw.strip()
    if _DECIMAL.fullmatch(text):
        if int(text) > 0xFFFFFFFF:
            return Checked(None, "decimal card number larger than 4 bytes")
        return Checked(swap_decimal(text) if byte_order == "little" else text)
    if any(p.search(text) for p in card_patterns):
        return Checked(text)
    uid = _SEPARATORS.sub("", text).upper()
    if _HEX_UID.fullmatch(uid):
        return Checked(uid)
    return Checked(None, "not a card UID (8, 10, 14 or 20 hex digits, or 10 decimal digits)")


def is_uid(code: str) -> bool:
    """Return whether a code is an RFID UID: 8, 10, 14 or 20 hex digits, in either case."""
    return _HEX_UID.fullmatch(code.upper()) is not None


def canonical_card(code: str) -> str:
    """Return a card code as the store keeps it: UIDs in upper case, other codes unchanged."""
    return code.upper() if is_uid(code) else code


def printed_number(code: str) -> str | None:
    """Return the 10-digit decimal printed on a card with this UID, or None for other codes."""
    if not is_uid(code) or len(code) not in (8, 10):
        return None
    return f"{int(code[-8:], 16):010d}"


def card_decimal(code: str) -> str | None:
    """Return the code if it can be the decimal printed on a card (10 digits, <= 2**32 - 1)."""
    if _DECIMAL.fullmatch(code) and int(code) <= 0xFFFFFFFF:
        return code
    return None


def compile_patterns(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Compile configured regular expressions (already checked by the config loader)."""
    return [re.compile(p) for p in patterns]


_ISBN_SEPARATORS = re.compile(r"[\s\-]")


@functools.lru_cache(maxsize=1024)  # a record's copies, and a file's many copies of one book
def normal_isbn(text: str) -> str | None:
    """Return an ISBN as 13 digits (an ISBN-10 converted), or None if its check digit is wrong."""
    digits = _ISBN_SEPARATORS.sub("", text).upper()
    if digits.startswith("ISBN"):
        digits = digits[4:].lstrip(":：")
    if len(digits) == 13:
        return digits if digits.startswith(("978", "979")) and ean13_ok(digits) else None
    return isbn10_to_13(digits) if isbn10_ok(digits) else None
