"""The collection's lists as CSV or XLSX (through circulation/tabular.py), times in local time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation import tabular
from kiosk.circulation.export import _local_time, in_words
from kiosk.i18n import N_, translate

# Column titles of the lists' downloads, in the reader's language.
TITLES = {
    "barcode": N_("Barcode"),
    "item_barcode": N_("Barcode"),
    "title": N_("Title"),
    "author": N_("Author"),
    "isbn": "ISBN",
    "call_number": N_("Call number"),
    "location": N_("Location"),
    "reason": N_("Reason"),
    "at": N_("When"),
    "actor": N_("By"),
    "note": N_("Note"),
    "patron_id": N_("Patron id"),
    "patron_name": N_("Student"),
    "class_name": N_("Class"),
    "compensation": N_("Compensation"),
    "amount": N_("Amount"),
    "compensation_by": N_("Compensation recorded by"),
    "compensation_at": N_("Compensation recorded at"),
    "status": N_("Status"),
    "item_status": N_("Book status"),
    "scanned_at": N_("Counted at"),
    "kiosk_id": N_("Kiosk"),
    "name": N_("Student"),
    "due_at": N_("Due"),
    "responsible": N_("Responsible"),
    "id": N_("Id"),
    "kind": N_("Kind"),
    "loan_uuid": N_("loan_uuid"),
    "repair_started_at": N_("Sent to repair at"),
    "resolved_as": N_("Outcome"),
    "resolved_at": N_("Closed at"),
    "resolved_by": N_("Closed by"),
    "placed_at": N_("Placed"),
    "ready_at": N_("Ready at"),
    "expires_on": N_("Until"),
    "closed_at": N_("Closed at"),
    "batch": N_("Batch"),
    "copies": N_("Copies"),
    "loans": N_("Loans"),
    "surplus": N_("Surplus"),
    "barcodes": N_("Barcodes"),
}
# Which names each coded column is shown through: {column: {code: message id}}, or None for a
# column whose codes are message ids themselves (an item's status).
Words = Mapping[str, Mapping[str, str] | None]


def is_time(column: str) -> bool:
    """Say whether a column holds a stored UTC time (`at`, `due_at`, `scanned_at` ...)."""
    return column == "at" or column.endswith("_at")


def values(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    timezone: str,
    lang: str | None = None,
    words: Words | None = None,
) -> list[list[Any]]:
    """Return the rows' values in column order, stored times shown in the school's time zone,
    and (with `lang`) the coded columns of `words` in that language's words, as the pages show them.
    """
    shown = _local_time(ZoneInfo(timezone))
    times = {c for c in columns if is_time(c)}
    coded = {c: names for c, names in (words or {}).items() if c in columns} if lang else {}

    def value(row: Mapping[str, Any], c: str) -> Any:
        if c in times and row.get(c):
            return shown(row[c])
        if c in coded:
            return in_words(row.get(c), lang or "", coded[c])
        return row.get(c)

    return [[value(row, c) for c in columns] for row in rows]


def headers(columns: list[str], lang: str | None) -> list[str]:
    """Return the column titles in `lang`, or the column names as they are without one."""
    if not lang:
        return list(columns)
    return [translate(TITLES[c], lang) if c in TITLES else c for c in columns]


def write(
    stream: TextIO,
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    timezone: str,
    bom: bool = False,
    lang: str | None = None,
    words: Words | None = None,
) -> None:
    """Write rows as CSV with these columns, the way the other lists and reports write them."""
    data = tabular.csv_bytes(
        headers(columns, lang), values(rows, columns, timezone, lang, words), bom=bom
    )
    stream.write(data.decode("utf-8"))


def xlsx(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    timezone: str,
    sheet: str,
    lang: str | None = None,
    words: Words | None = None,
) -> bytes:
    """Return the rows as an XLSX workbook (bold frozen header, text as text)."""
    return tabular.xlsx_bytes(
        headers(columns, lang), values(rows, columns, timezone, lang, words), sheet=sheet
    )
