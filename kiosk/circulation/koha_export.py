"""Write the patrons and the catalogue as another library system imports them (Koha first).

`koha_patrons` is a CSV in Koha's patron-import columns (Tools > Import patrons): our class goes
to `sort1`, the grade to `sort2`, our patron id to `userid`, the card to `cardnumber`, and each
role to one of Koha's sample categories (ST student, T teacher, S staff). `marc_records` is
MARC 21 in ISO 2709, UTF-8 (leader/09 'a'): one bibliographic record per book (the copies of one
ISBN, or of one title and author, together), each copy a holdings field: Koha's 952 ($a home and
$b holding branch, $o call number, $p barcode, $y item type, $c shelving location) or MARC 21's
852 ($b location, $h call number, $p barcode) for a system that reads holdings from there. Both
read back through `kiosk import`, the MARC one with every copy.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from typing import BinaryIO, TextIO

from pymarc import Field, Indicators, MARCWriter, Record, Subfield
from sqlite_utils import Database

from kiosk.circulation.export import without_controls
from kiosk.circulation.rules import ItemType, load_rules

KOHA_PATRON_COLUMNS = (
    "cardnumber",
    "surname",
    "firstname",
    "categorycode",
    "branchcode",
    "sort1",
    "sort2",
    "userid",
)
# Koha's sample patron categories; helpers are students who help (Koha has no such category).
KOHA_CATEGORIES = {"student": "ST", "helper": "ST", "teacher": "T", "librarian": "S"}
HOLDINGS = ("952", "852")
# Our built-in item types as Koha's usual itype codes (read back by importers/checks.py).
KOHA_ITYPES = {"reference": "REF", "magazine": "MAG"}
# Our item statuses as Koha's 952 flags: $1 lost, $0 withdrawn, $4 damaged.
_KOHA_FLAGS = {"lost": "1", "withdrawn": "0", "damaged": "4"}

_PATRONS = (
    "SELECT p.id, p.name, p.role, p.grade, p.class_name, "
    "(SELECT code FROM cards WHERE patron_id = p.id AND status = 'active' "
    "ORDER BY created_at DESC, code DESC LIMIT 1) "
    "FROM patrons p WHERE p.status != 'left' ORDER BY p.class_name, p.name, p.id"
)
_ITEMS = (
    "SELECT barcode, title, author, isbn, call_number, location, status, item_type FROM items "
    "ORDER BY coalesce(isbn, ''), title, coalesce(author, ''), barcode"
)


def write_koha_patrons(db: Database, stream: TextIO, branch: str) -> int:
    """Write every patron who has not left as a row of Koha's patron import; return the count.

    The whole name goes to `surname` (Koha needs one; a Chinese name is not split), and a patron
    without an active card has an empty `cardnumber` (Koha can number it).
    """
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(KOHA_PATRON_COLUMNS)
    count = 0
    for patron_id, name, role, grade, class_name, card in db.execute(_PATRONS):
        cells = [card, name, "", KOHA_CATEGORIES.get(role, "ST"), branch, class_name, grade]
        writer.writerow(
            [without_controls(str(c)) if c is not None else "" for c in [*cells, patron_id]]
        )
        count += 1
    return count


def marc_records(
    db: Database, *, branch: str, holdings: str = "952", item_type: str = "BK"
) -> Iterator[Record]:
    """Yield one MARC 21 record per book, with a holdings field per copy."""
    if holdings not in HOLDINGS:
        raise ValueError(f"holdings must be one of {', '.join(HOLDINGS)}, not {holdings!r}")
    book: Record | None = None
    key: tuple[str, ...] = ()
    kinds = load_rules(db).item_types
    for barcode, title, author, isbn, call, location, status, kind in db.execute(_ITEMS):
        this = (isbn,) if isbn else ("", title, author or "")
        if book is None or this != key:
            if book is not None:
                yield book
            book, key = _book(title, author, isbn), this
        itype = _itype(kind, kinds, item_type)
        book.add_ordered_field(_copy(holdings, barcode, call, location, status, branch, itype))
    if book is not None:
        yield book


def _itype(kind: str, kinds: Mapping[str, ItemType], default: str) -> str:
    """Return a copy's Koha itype: a book's is `default` (BK), a magazine's MAG, a reference
    book's REF, and a type of the librarian's own its name."""
    if kind in KOHA_ITYPES:
        return KOHA_ITYPES[kind]
    known = kinds.get(kind)
    return known.name if known is not None and known.name else default


def write_marc(db: Database, stream: BinaryIO, **options: str) -> int:
    """Write the catalogue as ISO 2709 MARC 21 (options as for marc_records); return the books."""
    writer = MARCWriter(stream)
    count = 0
    for record in marc_records(db, **options):
        writer.write(record)
        count += 1
    return count


def _book(title: str, author: str | None, isbn: str | None) -> Record:
    record = Record(force_utf8=True, leader="00000nam a2200000 a 4500")
    if isbn:
        record.add_field(Field("020", Indicators(" ", " "), [Subfield("a", isbn)]))
    if author:
        record.add_field(Field("100", Indicators("0", " "), [Subfield("a", author)]))
    shown = Subfield("a", title)
    record.add_field(Field("245", Indicators("1" if author else "0", "0"), [shown]))
    return record


def _copy(
    holdings: str,
    barcode: str,
    call: str | None,
    location: str | None,
    status: str,
    branch: str,
    item_type: str,
) -> Field:
    if holdings == "852":
        parts = [("b", location), ("h", call), ("p", barcode)]
    else:
        flag = _KOHA_FLAGS.get(status)
        parts = [("a", branch), ("b", branch), ("c", location), ("o", call), ("p", barcode)]
        parts += [("y", item_type), *([(flag, "1")] if flag else [])]
    return Field(holdings, Indicators(" ", " "), [Subfield(c, v) for c, v in parts if v])
