"""Write rows under headers as CSV, XLSX or aligned text: one writer for every list and report.

CSV is UTF-8 with a byte order mark (Excel on Windows reads UTF-8 only with it). XLSX goes
through XlsxWriter (kept, pure Python, writes without holding a workbook model in memory), with
column widths from the values and the header row frozen. Text that a spreadsheet would run as a
formula is quoted in both (see export.spreadsheet_safe).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from kiosk.circulation.export import spreadsheet_safe

FORMATS = ("csv", "xlsx", "text")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text": "text/plain; charset=utf-8",
}


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """Return the rows as UTF-8 CSV under one header line."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else spreadsheet_safe(v) for v in row])
    return out.getvalue().encode("utf-8")


def width(value: Any) -> int:
    """Return how many columns a value takes on a terminal or in a sheet (汉字 count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def xlsx_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "Sheet1"
) -> bytes:
    """Return the rows as an XLSX workbook: bold frozen header, columns as wide as their values."""
    import xlsxwriter  # only when a workbook is asked for

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet(_sheet_name(sheet))
    bold = book.add_format({"bold": True})
    widths = [width(h) for h in headers]
    ws.write_row(0, 0, list(headers), bold)
    n = 0
    for n, row in enumerate(rows, start=1):
        values = ["" if v is None else v for v in row]
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float):
                ws.write_string(n, i, str(v))
            else:
                ws.write_number(n, i, v)
            if i < len(widths):
                widths[i] = max(widths[i], width(v))
    for i, w in enumerate(widths):
        ws.set_column(i, i, min(60, w + 2))
    ws.freeze_panes(1, 0)
    if n:
        ws.autofilter(0, 0, n, max(0, len(headers) - 1))
    book.close()
    return out.getvalue()


def _sheet_name(name: str) -> str:
    # Excel refuses these characters and names past 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")
    return cleaned[:31] or "Sheet1"


def text(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Return the rows as aligned columns for a terminal (Chinese characters count double)."""
    table = [list(headers)] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(width(r[i]) for r in table) for i in range(len(headers))]
    lines = [
        "  ".join(v + " " * (widths[i] - width(v)) for i, v in enumerate(r)).rstrip() for r in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> bytes:
    """Return the rows in one of FORMATS."""
    if fmt == "csv":
        return csv_bytes(headers, rows)
    if fmt == "xlsx":
        return xlsx_bytes(headers, rows, sheet=sheet)
    if fmt == "text":
        return text(headers, rows).encode("utf-8")
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
