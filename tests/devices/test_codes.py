"""Book barcodes and card UIDs: check digits, ISBN-10 conversion, patterns, canonical UIDs."""

from __future__ import annotations

import pytest

from kiosk.codes import (
    Checked,
    canonical_uid,
    check_book_code,
    compile_patterns,
    ean13_ok,
    isbn10_ok,
    isbn10_to_13,
    swap_decimal,
)


def test_ean13_check_digit() -> None:
    assert ean13_ok("9787020002207")
    assert ean13_ok("9787544270878")
    assert not ean13_ok("9787020002208")
    assert not ean13_ok("978702000220")


def test_isbn10_is_checked_and_converted_to_isbn13() -> None:
    assert isbn10_ok("702000220X")
    assert isbn10_ok("080442957X")
    assert not isbn10_ok("7020002208")
    assert isbn10_to_13("702000220X") == "9787020002207"
    assert isbn10_to_13("080442957X") == "9780804429573"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("9787020002207", Checked("9787020002207")),
        ("9787020002208", Checked(None, "bad EAN-13 check digit")),
        ("702000220x", Checked("9787020002207")),
        ("7020002208", Checked(None, "bad ISBN-10 check digit")),
        ("S001", Checked("S001")),  # no patterns configured: the session decides
        ("0F00A1B2C3", Checked("0F00A1B2C3")),
    ],
)
def test_book_codes_without_patterns(code: str, expected: Checked) -> None:
    assert check_book_code(code) == expected


def test_school_patterns_accept_their_codes_and_reject_the_rest() -> None:
    books, cards = compile_patterns([r"^LIB\d{6}$"]), compile_patterns([r"^S\d{3}$"])
    check = lambda c: check_book_code(c, book_patterns=books, card_patterns=cards)  # noqa: E731
    assert check("LIB000123") == Checked("LIB000123")
    assert check("S001") == Checked("S001")
    assert check("9787020002207") == Checked("9787020002207")
    assert check("HELLO") == Checked(None, "matches no configured book or card pattern")


def test_isbn10_conversion_can_be_turned_off() -> None:
    assert check_book_code("7020002208", convert_isbn10=False) == Checked("7020002208")


@pytest.mark.parametrize(
    ("raw", "uid"),
    [
        ("0f00a1b2c3", "0F00A1B2C3"),
        ("04:a2:1b:7f", "04A21B7F"),
        ("04 A2 1B 7F 22 81 80", "04A21B7F228180"),
        ("0010597059\r", "0010597059"),
    ],
)
def test_card_uids_become_canonical(raw: str, uid: str) -> None:
    assert canonical_uid(raw) == Checked(uid)


def test_decimal_numbers_keep_their_form_unless_the_byte_order_is_little() -> None:
    # 0x00A1B2C3 = 10597059; reversed bytes 0xC3B2A100 = 3283263744
    assert swap_decimal("0010597059") == "3283263744"
    assert canonical_uid("3283263744", byte_order="little") == Checked("0010597059")
    assert canonical_uid("0010597059", byte_order="big") == Checked("0010597059")


def test_not_a_card() -> None:
    assert canonical_uid("9999999999").code is None  # more than 4 bytes
    assert canonical_uid("hello").reason.startswith("not a card UID")
    assert canonical_uid("0F00A1B2C").code is None  # 9 hex digits
