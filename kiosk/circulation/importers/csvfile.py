"""Read a CSV file as Excel and WPS save it, a row at a time.

UTF-8 with or without a BOM, or GB18030/GBK as Chinese Excel saves "CSV" (or UTF-16 for "Unicode
text"); comma, tab or semicolon. The encoding is found by decoding the file once in chunks before
the rows are read, so a file of any size is never held in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.circulation.importers import marctext
from kiosk.circulation.importers.checks import MESSAGES, ImportReport, RowError

CHUNK = 1 << 16
FIELD_LIMIT = csv.field_size_limit()  # 131,072 characters: far beyond any real cell


def rows(path: Path, encoding: str | None, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """Yield (Excel row number, cells); problems with the file itself go to the report."""
    name = _encoding(path, encoding, report)
    if name is None:
        return
    with path.open(encoding=name, newline="") as f:
        first = f.readline()
        delimiter = max(",\t;", key=first.count)
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        number = 0
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                # A cell past the csv module's limit (an unclosed quote, or not a table at all).
                params = {"limit": f"{FIELD_LIMIT:,}"}
                report.errors.append(RowError(number, "", MESSAGES["field_too_big"], params))
                return
            yield number, [_unquote(c.strip()) for c in cells]


def _unquote(cell: str) -> str:
    """Take off the quote an export puts before text Excel would run as a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def codec_of(path: Path, encoding: str | None, report: ImportReport) -> str | None:
    """Return the codec the file is read in (as `rows` finds it), or None if it is not text."""
    return _encoding(path, encoding, report)


def _encoding(path: Path, encoding: str | None, report: ImportReport) -> str | None:
    """Return the codec to read the file with; try UTF-8 (with or without BOM), then GB18030."""
    with path.open("rb") as f:
        start = f.read(4)
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            error = RowError(1, "", MESSAGES["unknown_encoding"], {"encoding": encoding})
            report.errors.append(error)
            return None
        candidates = ["utf-8-sig" if name == "utf-8" else name]
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text"
    else:
        candidates = ["utf-8-sig", "gb18030"]
    row = 1
    for name in candidates:
        bad_row = _first_bad_row(path, name)
        if bad_row is None and name == "gb18030" and not _reads_as_chinese(path):
            bad_row = 1  # Cyrillic or accented Latin that happens to decode: not Chinese
        if bad_row is None:
            report.encoding = {"utf-8-sig": "UTF-8", "gb18030": "GB18030"}.get(name, name)
            if name == "utf-8-sig" and start.startswith(codecs.BOM_UTF8):
                report.encoding = "UTF-8 (BOM)"
            return name
        row = bad_row
    found = None if encoding else _other_encoding(path)
    if found:
        report.encoding = marctext.shown(found)
        said = {"found": report.encoding, "declared": "UTF-8 / GB18030"}
        report.warnings.append(RowError(1, "", MESSAGES["encoding_found"], said))
        return found
    shown = {"utf-8-sig": "UTF-8", "gb18030": "UTF-8 / GB18030"}.get(candidates[-1], name)
    params: dict[str, Any] = {"encoding": shown, "row": row}
    report.errors.append(RowError(row, "", MESSAGES["not_text"], params))
    return None


def _reads_as_chinese(path: Path) -> bool:
    with path.open("rb") as f:
        start = f.read(CHUNK)
    return marctext.reads_as_chinese(start.decode("gb18030", "ignore"))


def _other_encoding(path: Path) -> str | None:
    """Return CP1251 or Latin-1 when the whole file reads cleanly in it (a Russian or French
    program's export), found by charset-normalizer as for MARC (see marctext)."""
    with path.open("rb") as f:
        start = f.read(CHUNK)
    found = marctext.likely_encoding(start)
    if found in ("cp1251", "latin-1") and _first_bad_row(path, found) is None:
        return found
    return None


def _first_bad_row(path: Path, name: str) -> int | None:
    """Return the line where the file stops being text in this encoding, or None if it is."""
    decoder = codecs.getincrementaldecoder(name)()
    lines = 1
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                return lines + chunk[: max(e.start, 0)].count(b"\n")
            if not chunk:
                return None
            lines += chunk.count(b"\n")
