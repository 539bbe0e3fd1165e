"""Read an Excel or WPS .xlsx workbook a row at a time, whole and safely.

The first sheet, or the one named. Cells come as Excel shows them: a barcode typed as a number
is its digits (not 9.78702e+12), a date is its ISO day.

A workbook is a zip of XML parts, and nothing in it is trusted: before openpyxl opens it, every
part is unpacked once as a stream (so a damaged part is named, not met half-way) within bounds on
what it may unpack to (a zip bomb is refused from its table of contents, in milliseconds). The
sheet's rows are read with openpyxl's own sheet parser, not read-only mode's row filler: that
trusts the sheet's stored size (`<dimension>`), so a sheet that says A1:C5 but holds 31 rows lost
26 of them, and it drops rows that repeat a row number. Here every row element is read, each row
keeps the number Excel shows, and anything that cannot be read whole is a message naming the
problem, in the librarian's language, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from kiosk.circulation.importers.checks import MESSAGES, ImportReport, RowError
from kiosk.errors import KioskError
from kiosk.i18n import N_

MB = 1 << 20
MAX_UNPACKED = 512 * MB  # the whole workbook, unpacked: some 1.5 million rows of a book list
MAX_SHARED_TEXT = 64 * MB  # sharedStrings.xml: openpyxl holds all of it in memory
MAX_PARTS = 10_000
BOMB_RATIO = 100  # real sheets pack 5 to 30 times; a zip bomb about 1,000 times
BOMB_FROM = 4 * MB  # small parts (styles, a few rows) may pack as well as they like
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_COLUMNS = 1_000  # an import's table has a handful; Excel allows 16,384
CHUNK = 1 << 16
UNPACK_ERRORS = (zlib.error, zipfile.BadZipFile, EOFError, NotImplementedError, OSError)

NOT_ZIP = N_(
    "the file is not an Excel .xlsx workbook: it is not a zip archive, or it is cut short "
    "(save it again from Excel or WPS as .xlsx)"
)
PASSWORD = N_("the workbook is protected by a password: save it again without one")
TOO_MANY_PARTS = N_("the workbook holds {count} parts, more than {limit}: is this the right file?")
TOO_BIG = N_(
    "the workbook unpacks to more than {limit} MB (at its part {part}): an import reads at most "
    "that much; is this the right file?"
)
SHARED_TOO_BIG = N_(
    "the workbook's shared text unpacks to more than {limit} MB: is this the right file?"
)
BOMB = N_(
    "the workbook's part {part} unpacks to {ratio} times its packed size: refused, this is "
    "a zip bomb, not a sheet"
)
DAMAGED_PART = N_("the workbook is damaged: its part {part} cannot be unpacked")
BAD_XML = N_(
    "the workbook is damaged: its part {part} is not well-formed XML (line {line}, column {column})"
)
MISSING_PART = N_("the workbook is incomplete: it has no part {part}")
UNREADABLE = N_("the workbook cannot be read: a part of it is not as Excel writes it ({problem})")
NO_SHEETS = N_("the workbook has no sheets")
ROW_ORDER = N_(
    "row {number} comes after row {previous}: the sheet's rows are out of order or repeated "
    "(the workbook is damaged)"
)
TOO_MANY_ROWS = N_("the sheet has a row numbered {number}, past Excel's last row {limit}")
TOO_WIDE = N_("a value is in column {column}, past the {limit} columns an import reads")
CELL_TWICE = N_("cell {cell} is in the sheet twice (the workbook is damaged)")
SHARED_MISSING = N_(
    "a cell refers to shared text the workbook does not hold (its shared text is damaged)"
)
BAD_CELL = N_("a cell's value or place cannot be read ({problem})")
OTHER_SHEETS = N_("only the sheet {sheet} was read; the workbook also has: {sheets}")


class Refused(KioskError):
    """The workbook cannot be read whole; `error` says why."""

    def __init__(self, message: str, row: int = 1, **params: Any) -> None:
        super().__init__(message)
        self.error = RowError(row, "", message, params)


def rows(path: Path, sheet: str | None, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """Yield (Excel row number, cells as text) of one sheet; problems go to the report."""
    try:
        inspect(path)
        yield from _rows(path, sheet, report)
    except Refused as e:
        report.errors.append(e.error)
        report.unreadable = True  # no row of it can be taken: there are no good rows to keep


def inspect(path: Path) -> None:
    """Refuse a workbook that is not a whole zip of well-formed parts within the bounds."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            if len(parts) > MAX_PARTS:
                raise Refused(TOO_MANY_PARTS, count=f"{len(parts):,}", limit=f"{MAX_PARTS:,}")
            total = 0
            for part in parts:
                if part.flag_bits & 0x1:
                    raise Refused(PASSWORD)
                if part.filename.lower().endswith("sharedstrings.xml") and (
                    part.file_size > MAX_SHARED_TEXT
                ):
                    raise Refused(SHARED_TOO_BIG, limit=MAX_SHARED_TEXT // MB)
                total += part.file_size
                if total > MAX_UNPACKED:
                    raise Refused(TOO_BIG, limit=MAX_UNPACKED // MB, part=part.filename)
                if part.file_size > BOMB_FROM and (
                    part.file_size > BOMB_RATIO * max(part.compress_size, 1)
                ):
                    ratio = part.file_size // max(part.compress_size, 1)
                    raise Refused(BOMB, part=part.filename, ratio=f"{ratio:,}")
            for part in parts:
                _unpack(z, part)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, IndexError) as e:
        raise Refused(NOT_ZIP) from e  # the table of contents itself is unreadable


def _unpack(z: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Unpack a part as a stream (checking its CRC), and parse it if it is XML (no tree kept)."""
    # A damaged part is then named before openpyxl reads any of it; expat reads some 100 MB a
    # second, and refuses entity expansion bombs (billion laughs) by itself.
    xml_part = part.filename.lower().endswith((".xml", ".rels"))
    parser = xml.parsers.expat.ParserCreate() if xml_part else None
    try:
        with z.open(part) as f:
            while chunk := f.read(CHUNK):
                if parser is not None:
                    parser.Parse(chunk, False)
            if parser is not None:
                parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as e:
        raise Refused(BAD_XML, part=part.filename, line=e.lineno, column=e.offset) from e
    except (*UNPACK_ERRORS, ValueError, RuntimeError) as e:
        raise Refused(DAMAGED_PART, part=part.filename) from e


def _rows(path: Path, sheet: str | None, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only imports pay for it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like: not the librarian's
            book = load_workbook(path, read_only=True, data_only=True)
    except Refused:
        raise
    except KeyError as e:
        found = re.search(r"'([^']+)'", str(e))
        raise Refused(MISSING_PART, part=found.group(1) if found else str(e)) from e
    except Exception as e:
        raise Refused(UNREADABLE, problem=_problem(e)) from e
    try:
        names = book.sheetnames
        if not names:
            raise Refused(NO_SHEETS)
        if sheet is not None and sheet not in names:
            raise Refused(MESSAGES["no_sheet"], sheet=sheet, sheets=", ".join(names))
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        report.encoding = f"xlsx: {ws.title}"
        if sheet is None and len(names) > 1:
            others = ", ".join(n for n in names if n != ws.title)
            report.warnings.append(
                RowError(1, "", OTHER_SHEETS, {"sheet": ws.title, "sheets": others})
            )
        yield from _sheet(book, ws)
    finally:
        book.close()


def _sheet(book: Any, ws: Any) -> Iterator[tuple[int, list[str]]]:
    """Yield every row element of a sheet, by the row number it carries, never by <dimension>."""
    from openpyxl.worksheet._reader import WorkSheetParser

    source = ws._get_source()
    parser = WorkSheetParser(
        source,
        ws._shared_strings,
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,
        timedelta_formats=book._timedelta_formats,
    )
    previous = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a date past 9999 becomes #VALUE!, as Excel shows it
            parsed = parser.parse()
            while True:
                try:
                    number, cells = next(parsed)
                except StopIteration:
                    return
                except IndexError as e:
                    raise Refused(SHARED_MISSING, row=max(parser.row_counter, 1)) from e
                except ParseError as e:
                    line, column = getattr(e, "position", ("?", "?"))
                    raise Refused(
                        BAD_XML,
                        row=max(previous, 1),
                        part=ws._worksheet_path,
                        line=line,
                        column=column,
                    ) from e
                except UNPACK_ERRORS as e:
                    raise Refused(
                        DAMAGED_PART, row=max(previous, 1), part=ws._worksheet_path
                    ) from e
                except Exception as e:
                    raise Refused(
                        BAD_CELL, row=max(parser.row_counter, 1), problem=_problem(e)
                    ) from e
                if number > MAX_ROWS or number < 1:
                    shown = f"{number:,}"
                    raise Refused(
                        TOO_MANY_ROWS, row=previous + 1, number=shown, limit=f"{MAX_ROWS:,}"
                    )
                if number <= previous:
                    raise Refused(ROW_ORDER, row=number, number=number, previous=previous)
                previous = number
                yield number, _cells(number, cells)
    finally:
        source.close()


def _cells(number: int, cells: list[dict[str, Any]]) -> list[str]:
    """Return a row's values by column (A first), refusing what cannot be placed."""
    values: dict[int, str] = {}
    for cell in cells:
        column, value = cell["column"], cell["value"]
        if value is None or value == "":
            continue
        if column < 1 or column > MAX_COLUMNS:
            from openpyxl.utils import get_column_letter

            shown = get_column_letter(column) if 1 <= column <= 18_278 else str(column)
            raise Refused(TOO_WIDE, row=number, column=shown, limit=f"{MAX_COLUMNS:,}")
        if column in values:
            from openpyxl.utils import get_column_letter

            raise Refused(CELL_TWICE, row=number, cell=f"{get_column_letter(column)}{number}")
        values[column] = text(value)
    width = max(values, default=0)
    return [values.get(c, "") for c in range(1, width + 1)]


def _problem(e: BaseException) -> str:
    """Name an exception from inside openpyxl shortly (its words are English, and technical)."""
    words = str(e).strip().splitlines()
    return f"{type(e).__name__}: {words[0][:120]}" if words else type(e).__name__


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
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value).strip()
