"""Write loans, patrons, items or events as CSV, one row at a time.

Rows stream from an SQLite cursor straight into the CSV writer, so a store with half a million
loans is never held in memory. Times are shown in the school's time zone as `2026-11-02 12:31`,
which Excel reads as a date and time. Patrons and items come out with the columns `kiosk import`
reads, so an export can be edited and imported back.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterator
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.store import Store

KINDS = ("loans", "patrons", "items", "events")
# A patron's cards as `kiosk import` reads them: active ones, oldest first, joined by "|".
_CARDS = (
    "(SELECT group_concat(code, '|') FROM (SELECT code FROM cards "
    "WHERE patron_id = {p} AND status = 'active' ORDER BY created_at, code))"
)
QUERIES: dict[str, tuple[tuple[str, ...], str]] = {
    "loans": (
        (
            "item_barcode",
            "title",
            "patron_id",
            "card_id",
            "name",
            "class",
            "checked_out_at",
            "due_at",
            "returned_at",
            "renewals",
        ),
        "SELECT l.item_barcode, i.title, l.patron_id, "
        + _CARDS.format(p="l.patron_id")
        + ", p.name, p.class_name, l.checked_out_at, l.due_at, l.returned_at, l.renewals "
        "FROM loans l LEFT JOIN items i ON i.barcode = l.item_barcode "
        "LEFT JOIN patrons p ON p.id = l.patron_id ORDER BY l.checked_out_at, l.id",
    ),
    "patrons": (
        ("patron_id", "card_id", "name", "class", "grade", "role", "status"),
        "SELECT id, "
        + _CARDS.format(p="patrons.id")
        + ", name, class_name, grade, role, status FROM patrons ORDER BY id",
    ),
    "items": (
        ("barcode", "title", "author", "isbn", "call_number", "location", "status"),
        "SELECT barcode, title, author, isbn, call_number, location, status "
        "FROM items ORDER BY barcode",
    ),
    "events": (
        ("seq", "uuid", "type", "at", "kiosk_id", "actor", "patron_id", "item_barcode", "data"),
        "SELECT seq, uuid, type, at, kiosk_id, actor, patron_id, item_barcode, data "
        "FROM events ORDER BY seq",
    ),
}
TIME_COLUMNS = {"checked_out_at", "due_at", "returned_at", "at"}


def write_csv(
    store: Store,
    kind: str,
    stream: TextIO,
    *,
    timezone: str = "Asia/Shanghai",
    bom: bool = False,
) -> int:
    """Write one kind of record as UTF-8 CSV to a text stream; return the number of rows."""
    if kind not in QUERIES:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    header = QUERIES[kind][0]
    if bom:
        stream.write("\ufeff")  # Excel on Windows reads UTF-8 only with it
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows(store, kind, timezone):
        writer.writerow(row)
        count += 1
    return count


def rows(store: Store, kind: str, timezone: str = "Asia/Shanghai") -> Iterator[list[Any]]:
    """Yield the CSV rows of one kind of record, times in the school's local time."""
    header, sql = QUERIES[kind]
    shown = _local_time(ZoneInfo(timezone))
    times = [i for i, name in enumerate(header) if name in TIME_COLUMNS]
    # A cursor yields rows as SQLite steps through them: nothing is fetched all at once.
    for raw in store.reader.execute(sql):
        row = ["" if v is None else v for v in raw]
        for i in times:
            row[i] = shown(row[i]) if row[i] else ""
        yield row


def _local_time(tz: ZoneInfo) -> Callable[[str], str]:
    @functools.lru_cache(maxsize=4096)
    def shown(stamp: str) -> str:
        return parse_stamp(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    return shown
