"""Read MARC records as suppliers and old library programs send them, a record at a time.

ISO 2709 (`.mrc`, `.iso`) through pymarc, or MARCXML (`.xml`, read with iterparse so a large
file is never held in memory). Each record may carry several copies; each copy with its own
barcode becomes one item row. The fields read:

| | CNMARC / UNIMARC (a record with a 200 field) | MARC 21 |
|---|---|---|
| title | 200$a | 245$a (+ $b) |
| author | 200$f, else 701/700/702/711/710$a | 100$a, else 110$a, else 245$c |
| ISBN | 010$a | 020$a |
| call number | 905$d/$e (class/book number), else 690$a (中图法) | 852$h$i, 952$o, 090/050/084 |
| copies (barcodes) | 905$b, one item per $b | 852$p, 952$p (Koha) |

Text encodings as they come: UTF-8 (leader/09 = `a`, or bytes that are valid UTF-8), GB18030
(which reads GB2312 and GBK) for CNMARC records that are not UTF-8, MARC-8 for MARC 21 records
that are not UTF-8; `--encoding` names one for the whole file instead.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pymarc import Field, Indicators, Leader, Record, Subfield
from pymarc.exceptions import PymarcException

from kiosk.circulation.importers.checks import MESSAGES, ImportReport, RowError

END_OF_RECORD = 0x1D
NAMES = {
    "unimarc": {
        "barcode": "905$b",
        "title": "200$a",
        "author": "200$f",
        "isbn": "010$a",
        "call_number": "905$d/$e",
    },
    "marc21": {
        "barcode": "852$p/952$p",
        "title": "245$a",
        "author": "100$a",
        "isbn": "020$a",
        "call_number": "852$h/952$o",
    },
}
_TRAILING = re.compile(r"[\s/:;,.=]+$")


def is_marc(path: Path) -> bool:
    """Return whether a file starts like ISO 2709 (five digits of length) or MARCXML."""
    with path.open("rb") as f:
        start = f.read(512).lstrip(codecs.BOM_UTF8).lstrip()
    return start[:5].isdigit() or (start.startswith(b"<") and b"record" in start)


def rows(
    path: Path, encoding: str | None, report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (record number, values): an item per copy, or for kind "records" the record."""
    seen: dict[str, None] = {}
    with path.open("rb") as f:
        start = f.read(512).lstrip(codecs.BOM_UTF8).lstrip()
        f.seek(0)
        records = _xml(f, report) if start.startswith(b"<") else _iso2709(f, encoding, report)
        for number, record, used in records:
            report.records = number
            if used:
                seen.setdefault(used, None)
                report.encoding = "MARC: " + ", ".join(seen)
            dialect = "unimarc" if record.get("200") is not None else "marc21"
            report.names = NAMES[dialect]
            if report.kind == "records":
                yield number, book_fields(record)
                continue
            copies = (_unimarc if dialect == "unimarc" else _marc21)(record)
            if not copies:
                report.errors.append(
                    RowError(number, NAMES[dialect]["barcode"], MESSAGES["no_copies"])
                )
            for values in copies:
                yield number, values


# -- ISO 2709 -----------------------------------------------------------------------------------


def _iso2709(
    f: IO[bytes], encoding: str | None, report: ImportReport
) -> Iterator[tuple[int, Record, str]]:
    """Yield (record number, record, encoding used); a record cut short ends the file."""
    number = 0
    while True:
        head = f.read(5)
        while head[:1] in (b"\n", b"\r", b" ") and head:
            head = head[1:] + f.read(1)  # line breaks some programs put between records
        if not head:
            return
        number += 1
        rest = f.read(int(head) - 5) if head.isdigit() and int(head) > 24 else b""
        chunk = head + rest
        if not rest or len(chunk) != int(head) or chunk[-1] != END_OF_RECORD:
            problem = f"length {head.decode('ascii', 'replace')!r} does not match the data"
            report.errors.append(
                RowError(number, "", MESSAGES["broken_record"], {"problem": problem})
            )
            return
        try:
            record, used = _decode(chunk, encoding)
        except (PymarcException, UnicodeDecodeError, ValueError, IndexError) as e:
            problem = str(e) or type(e).__name__
            report.errors.append(RowError(number, "", MESSAGES["bad_record"], {"problem": problem}))
            continue
        yield number, record, used


def _decode(chunk: bytes, encoding: str | None) -> tuple[Record, str]:
    """Return the record and the encoding its text was read in."""
    if encoding:
        name = encoding.lower().replace("_", "-")
        if name in ("marc8", "marc-8"):
            return Record(data=chunk), "MARC-8"
        name = codecs.lookup(name).name
        if name == "utf-8":
            return Record(data=chunk, force_utf8=True), "UTF-8"
        return Record(data=chunk, file_encoding=name), name.upper()
    if chunk[9:10] == b"a":
        return Record(data=chunk), "UTF-8"
    try:
        chunk.decode("utf-8")
        return Record(data=chunk, force_utf8=True), "UTF-8"
    except UnicodeDecodeError:
        pass
    if b"200" in _tags(chunk):
        return Record(data=chunk, file_encoding="gb18030"), "GB18030"
    return Record(data=chunk), "MARC-8"


def _tags(chunk: bytes) -> list[bytes]:
    base = int(chunk[12:17]) if chunk[12:17].isdigit() else 0
    directory = chunk[24 : max(base - 1, 24)]
    return [directory[i : i + 3] for i in range(0, len(directory), 12)]


# -- MARCXML ------------------------------------------------------------------------------------


def _xml(f: IO[bytes], report: ImportReport) -> Iterator[tuple[int, Record, str]]:
    """Yield (record number, record, encoding) from MARCXML, clearing each record once read."""
    number = 0
    try:
        for _event, elem in ET.iterparse(f, events=("end",)):
            if _local(elem.tag) != "record":
                continue
            number += 1
            yield number, _xml_record(elem), "XML"
            elem.clear()
    except ET.ParseError as e:
        params = {"problem": str(e)}
        report.errors.append(RowError(number + 1, "", MESSAGES["broken_record"], params))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_record(elem: ET.Element) -> Record:
    record = Record()
    for child in elem:
        name = _local(child.tag)
        if name == "leader":
            record.leader = Leader((child.text or "").ljust(24)[:24])
        elif name == "controlfield":
            record.add_field(Field(tag=child.get("tag", ""), data=child.text or ""))
        elif name == "datafield":
            subfields = [
                Subfield(code=s.get("code", ""), value=s.text or "")
                for s in child
                if _local(s.tag) == "subfield"
            ]
            indicators = Indicators(child.get("ind1", " "), child.get("ind2", " "))
            record.add_field(
                Field(tag=child.get("tag", ""), indicators=indicators, subfields=subfields)
            )
    return record


# -- fields -------------------------------------------------------------------------------------


def _first(record: Record, *places: str) -> str:
    """Return the first non-empty subfield among places like '200a'."""
    for place in places:
        tag, code = place[:3], place[3:]
        for fld in record.get_fields(tag):
            for value in fld.get_subfields(code):
                if value.strip():
                    return _clean(value)
    return ""


def _clean(value: str) -> str:
    return _TRAILING.sub("", value.strip())


def book_fields(record: Record) -> dict[str, str]:
    """Return title, author, ISBN and call number of a record (CNMARC or MARC 21)."""
    if record.get("200") is not None:
        call = "/".join(p for p in (_first(record, "905d"), _first(record, "905e")) if p)
        return {
            "title": _first(record, "200a"),
            "author": _first(record, "200f", "701a", "700a", "702a", "711a", "710a"),
            "isbn": _first(record, "010a"),
            "call_number": call or _first(record, "690a"),
        }
    return {
        "title": " ".join(p for p in (_first(record, "245a"), _first(record, "245b")) if p),
        "author": _first(record, "100a", "110a", "245c"),
        "isbn": _first(record, "020a").split(" ")[0],
        "call_number": _first(record, "852h") or _call_number(record),
    }


def _unimarc(record: Record) -> list[dict[str, str]]:
    """Return one item row per 905$b barcode of a CNMARC record."""
    common = book_fields(record)
    copies = []
    for fld in record.get_fields("905"):
        parts = [_clean(v) for v in (*fld.get_subfields("d")[:1], *fld.get_subfields("e")[:1])]
        call_number = "/".join(p for p in parts if p) or common["call_number"]
        for barcode in fld.get_subfields("b"):
            if barcode.strip():
                copies.append({**common, "barcode": barcode.strip(), "call_number": call_number})
    return copies


def _marc21(record: Record) -> list[dict[str, str]]:
    """Return one item row per 852$p or 952$p barcode of a MARC 21 record."""
    common = book_fields(record)
    fallback = _call_number(record)
    copies = []
    for tag, call_codes in (("852", "hi"), ("952", "o")):
        for fld in record.get_fields(tag):
            parts = [_clean(v) for c in call_codes for v in fld.get_subfields(c)]
            call_number = " ".join(p for p in parts if p) or fallback
            for barcode in fld.get_subfields("p"):
                if barcode.strip():
                    copies.append(
                        {**common, "barcode": barcode.strip(), "call_number": call_number}
                    )
    return copies


def _call_number(record: Record) -> str:
    for tag in ("090", "050", "084"):
        for fld in record.get_fields(tag):
            parts = [_clean(v) for v in fld.get_subfields("a", "b")]
            if any(parts):
                return " ".join(p for p in parts if p)
    return ""
