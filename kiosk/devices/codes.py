"""Moved to `kiosk.codes` (one home for codes, below devices and circulation).

Kept only so that code written against the old path still imports; new code imports
`kiosk.codes`.
"""

from kiosk.codes import (  # noqa: F401
    Checked,
    canonical_uid,
    check_book_code,
    compile_patterns,
    ean13_ok,
    isbn10_ok,
    isbn10_to_13,
    swap_decimal,
)
