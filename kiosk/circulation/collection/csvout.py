"""The collection's lists as CSV: times in the school's time zone, formulas defused for Excel."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation.export import _local_time, spreadsheet_safe


def is_time(column: str) -> bool:
    """Say whether a column holds a stored UTC time (`at`, `due_at`, `scanned_at` ...)."""
    return column == "at" or column.endswith("_at")


def write(
    stream: TextIO,
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    timezone: str,
    bom: bool = False,
) -> None:
    """Write rows as CSV with these columns, the way `kiosk export` writes its files."""
    shown = _local_time(ZoneInfo(timezone))
    if bom:
        stream.write("\ufeff")  # Excel on Windows reads UTF-8 only with it
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for c in columns:
            v = row.get(c)
            if v is None:
                v = ""
            elif is_time(c) and v:
                v = shown(v)
            values.append(spreadsheet_safe(v))
        writer.writerow(values)
