"""The collection's lists as CSV or XLSX: times in the school's time zone, no formulas.

XLSX is written with XlsxWriter (a small, well-kept writer with no dependencies; the lists are
only ever written, never read back): the school's asset register wants a real spreadsheet.
"""

from __future__ import annotations

import csv
import io
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


def xlsx(rows: Iterable[Mapping[str, Any]], columns: list[str], timezone: str, sheet: str) -> bytes:
    """Return the rows as an XLSX workbook: a header row, then one row each, text as text."""
    import xlsxwriter  # only when a spreadsheet is asked for

    shown = _local_time(ZoneInfo(timezone))
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    ws.write_row(0, 0, columns, bold)
    for r, row in enumerate(rows, start=1):
        for c, col in enumerate(columns):
            v = row.get(col)
            if v is None:
                continue
            if is_time(col) and v:
                v = shown(v)
            if isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write(r, c, v)
    ws.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
