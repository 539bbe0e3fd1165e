"""Read an Excel or WPS .xlsx workbook a row at a time (openpyxl in read-only mode).

The first sheet, or the one named. Cells come as Excel shows them: a barcode typed as a number
is its digits (not 9.78702e+12), a date is its ISO day.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.circulation.importers.checks import MESSAGES, ImportReport, RowError


def rows(path: Path, sheet: str | None, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """Yield (Excel row number, cells as text) of one sheet."""
    from openpyxl import load_workbook  # only imports pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        report.errors.append(RowError(1, "", MESSAGES["not_xlsx"], {"problem": str(e)}))
        return
    try:
        if sheet is not None and sheet not in book.sheetnames:
            params = {"sheet": sheet, "sheets": ", ".join(book.sheetnames)}
            report.errors.append(RowError(1, "", MESSAGES["no_sheet"], params))
            return
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        report.encoding = f"xlsx: {ws.title}"
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, [text(v) for v in values]
    finally:
        book.close()


def text(value: Any) -> str:
    """Return a cell's value as the text Excel shows for it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value).strip()
