"""Write the bad rows of an import to a file of the same kind, to fix and import again.

When the librarian imports the good rows of a file with bad ones, the bad ones are not lost: a
MARC file gets a MARC file of its bad records (ISO 2709 byte for byte, or MARCXML), a CSV file
a CSV file (its header, its encoding and separator) and a workbook a workbook (its header row),
holding only the rows the check named. Fixed, it imports like any other file.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from kiosk.circulation.importers import csvfile, marcfile, xlsxfile
from kiosk.circulation.importers.checks import ImportReport


def write(
    fmt: str,
    source: Path,
    bad: Iterable[int],
    out: Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> int:
    """Write the rows (or records) numbered `bad` of `source` to `out`; return how many."""
    wanted = set(bad)
    if fmt == "marc":
        return _marc(source, wanted, out)
    if fmt == "xlsx":
        return _xlsx(source, wanted, out, sheet)
    return _csv(source, wanted, out, encoding)


def _marc(source: Path, wanted: set[int], out: Path) -> int:
    with source.open("rb") as f:
        xml = f.read(512).lstrip(codecs.BOM_UTF8).lstrip().startswith(b"<")
    if xml:
        return _marcxml(source, wanted, out)
    written = 0
    with source.open("rb") as f, out.open("wb") as w:
        for number, chunk, _broken in marcfile.chunks(f):
            if number in wanted:
                w.write(chunk)  # a broken record: it and the rest of the file, as they are
                written += 1
    return written


def _marcxml(source: Path, wanted: set[int], out: Path) -> int:
    ET.register_namespace("", marcfile.MARC_NAMESPACE)
    written = number = 0
    with out.open("w", encoding="utf-8") as w:
        w.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        w.write(f'<collection xmlns="{marcfile.MARC_NAMESPACE}">\n')
        try:
            for _event, elem in ET.iterparse(source, events=("end",)):
                if not marcfile.is_record(elem):
                    continue
                number += 1
                if number in wanted:
                    w.write(ET.tostring(elem, encoding="unicode"))
                    w.write("\n")
                    written += 1
                elem.clear()
        except ET.ParseError:
            pass  # the broken part was named by the check; it cannot be copied as XML
        w.write("</collection>\n")
    return written


def _csv(source: Path, wanted: set[int], out: Path, encoding: str | None) -> int:
    report = ImportReport("items", source.name)
    codec = csvfile.codec_of(source, encoding, report) or "utf-8-sig"
    with source.open(encoding=codec, newline="") as f:
        first = f.readline()
    delimiter = max(",\t;", key=first.count)
    written = 0
    header = False
    with out.open("w", encoding=codec, newline="") as w:
        writer = csv.writer(w, delimiter=delimiter)
        for number, cells in csvfile.rows(source, encoding, report):
            if not header and any(cells):
                writer.writerow(cells)  # the header: the first row that is not blank
                header = True
            elif number in wanted:
                writer.writerow([_quoted(c) for c in cells])
                written += 1
    return written


def _quoted(cell: str) -> str:
    """Put back the quote that keeps Excel from running a cell as a formula (csvfile drops it)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def _xlsx(source: Path, wanted: set[int], out: Path, sheet: str | None) -> int:
    from openpyxl import Workbook

    report = ImportReport("items", source.name)
    book = Workbook(write_only=True)
    rows = xlsxfile.rows(source, sheet, report)
    first = next(rows, None)  # reading the first row names the sheet read (in the report)
    ws = book.create_sheet(report.encoding.removeprefix("xlsx: ") or "rejects")
    written = 0
    header = False
    for number, cells in itertools.chain([first] if first else [], rows):
        if not header and any(cells):
            ws.append(cells)
            header = True
        elif number in wanted:
            ws.append(cells)
            written += 1
    book.save(out)
    return written
