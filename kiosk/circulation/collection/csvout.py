"""The collection's lists as CSV or XLSX (through circulation/tabular.py), times in local time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation import tabular
from kiosk.circulation.export import _local_time


def is_time(column: str) -> bool:
    """Say whether a column holds a stored UTC time (`at`, `due_at`, `scanned_at` ...)."""
    return column == "at" or column.endswith("_at")


def values(rows: Iterable[Mapping[str, Any]], columns: list[str], timezone: str) -> list[list[Any]]:
    """Return the rows' values in column order, stored times shown in the school's time zone."""
    shown = _local_time(ZoneInfo(timezone))
    times = {c for c in columns if is_time(c)}
    return [
        [shown(row[c]) if c in times and row.get(c) else row.get(c) for c in columns]
        for row in rows
    ]


def write(
    stream: TextIO,
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    timezone: str,
    bom: bool = False,
) -> None:
    """Write rows as CSV with these columns, the way the other lists and reports write them."""
    data = tabular.csv_bytes(columns, values(rows, columns, timezone), bom=bom)
    stream.write(data.decode("utf-8"))


def xlsx(rows: Iterable[Mapping[str, Any]], columns: list[str], timezone: str, sheet: str) -> bytes:
    """Return the rows as an XLSX workbook (bold frozen header, text as text)."""
    return tabular.xlsx_bytes(columns, values(rows, columns, timezone), sheet=sheet)
