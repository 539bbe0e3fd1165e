"""Read MARC records as suppliers and old library programs send them, a record at a time.

ISO 2709 (`.mrc`, `.iso`) through pymarc, or MARCXML (`.xml`, read with iterparse so a large
file is never held in memory). Each record may carry several copies; each copy with its own
barcode becomes one item row. Only a record with no title at all, or one that cannot be read,
is a problem: no ISBN, no call number, no copies, a long title, several ISBNs all come in. The
fields read (the first that has a value):

| | CNMARC / UNIMARC (a record with a 200 field) | MARC 21 |
|---|---|---|
| title | 200$a (+ $e, $h, $i), else 500/517/540$a | 245$a (+ $b $n $p), else 245$k, 240/130/246$a |
| author | 200$f, else 700/701/702$a + $b, 710/711/712$a | 100$a (+ $b), 110/111/700$a, 245$c |
| ISBN | 010$a (each; the first valid one for a copy) | 020$a (each, as 010) |
| call number | 905$d/$e (class/book number), else 690$a (中图法) | 852$h$i, 952$o, 090/050/084 |
| copies (barcodes) | 905$b, one item per $b | 852$p, 952$p (Koha), a holdings record's 852$p |
| item type | – | 952$y (Koha's itype), else 942$c (the record's default type) |

Titles are kept whole (only screens shorten them). UNIMARC's non-sorting markers (NSB/NSE,
U+0088/U+0089 or ESC H/ESC I) are taken out and the words they enclose kept ("L'altra faccia").
A record without copies has nothing to shelve: in an items import it is listed as a warning
(import the file as records to keep it for the desk); a record without an ISBN is kept as a
record under its 001 control number. MARC 21 holdings records (leader/06 u, v, x, y) belong to
the book just before them when their 004 is its 001. Text encodings: see `marctext`.
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

from kiosk.circulation.importers import marctext
from kiosk.circulation.importers.checks import MESSAGES, ImportReport, RowError, normal_isbn

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
        "item_type": "952$y",
    },
}
_TRAILING = re.compile(r"[\s/:;,.=]+$")
_ISBN_WORD = re.compile(r"^\s*ISBN[\s:：]*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
NAME_TAGS = ("700", "701", "702", "710", "711", "712")  # UNIMARC's names, in this order
HOLDINGS = ("u", "v", "x", "y")  # leader/06 of a MARC 21 holdings record
MARC_NAMESPACE = "http://www.loc.gov/MARC21/slim"


def is_marc(path: Path) -> bool:
    """Return whether a file starts like ISO 2709 (five digits of length) or MARCXML."""
    with path.open("rb") as f:
        start = f.read(512).lstrip(codecs.BOM_UTF8).lstrip()
    return start[:5].isdigit() or (start.startswith(b"<") and b"record" in start)


def rows(
    path: Path, encoding: str | None, report: ImportReport
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (record number, values): an item per copy, or for kind "records" one per ISBN."""
    guess = marctext.Guess()
    shelved = [0]
    if encoding and not _known(encoding):
        params = {"encoding": encoding}
        report.errors.append(RowError(1, "", MESSAGES["unknown_encoding"], params))
        return
    with path.open("rb") as f:
        start = f.read(512).lstrip(codecs.BOM_UTF8).lstrip()
        f.seek(0)
        xml = start.startswith(b"<")
        records = _xml(f, report) if xml else _iso2709(f, encoding, report, guess)
        # A book waits for the holdings records that follow it (MARC 21 exports them after it).
        book: tuple[int, Record, list[Record]] | None = None
        for number, record, used in records:
            report.records = number
            if used:
                guess.seen.setdefault(used, None)
                report.encoding = "MARC: " + ", ".join(guess.seen)
            if record.leader[6:7] in HOLDINGS:
                owner = _control(record, "004")
                if book is not None and owner and owner == _control(book[1], "001"):
                    book[2].append(record)
                else:  # its book is not just before it: nothing to attach it to
                    params = {"record": owner or "?"}
                    report.warnings.append(RowError(number, "", MESSAGES["holdings"], params))
                continue
            if book is not None:
                yield from _book_rows(*book, report, shelved)
            book = (number, record, [])
        if book is not None:
            yield from _book_rows(*book, report, shelved)
    if guess.found:
        params = {"found": marctext.shown(guess.found), "declared": marctext.shown(guess.declared)}
        report.warnings.insert(
            0, RowError(guess.switched_at, "", MESSAGES["encoding_found"], params)
        )
    if report.kind == "items" and report.records and not shelved[0] and not report.errors:
        # Not "0 new" and success: a catalogue without holdings is imported as records.
        report.errors.append(RowError(1, "", MESSAGES["no_copies_at_all"]))
    if report.records == 0 and not report.errors:
        if xml:
            root = {"root": _root_name(path)}
            report.errors.append(RowError(1, "", MESSAGES["not_marc"], root))
        else:
            report.errors.append(RowError(1, "", MESSAGES["no_records"]))


def _book_rows(
    number: int,
    record: Record,
    holdings: list[Record],
    report: ImportReport,
    shelved: list[int],
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield the rows of one book record, with the copies of the holdings records after it."""
    dialect = "unimarc" if record.get("200") is not None else "marc21"
    report.names = NAMES[dialect]
    book, isbns = book_fields(record)
    if not book["call_number"]:
        book["call_number"] = next(filter(None, (_call_of_852(h) for h in holdings)), "")
    if report.kind == "records":
        # One row per ISBN, so the desk finds the book by any of them.
        key = {"record_key": _record_key(record, book["title"])}
        for isbn in isbns or [""]:
            yield number, {**book, "isbn": isbn, **key}
        return
    copies = (_unimarc if dialect == "unimarc" else _marc21)(record, book)
    for held in holdings:
        copies.extend(_marc21(held, book))
    if not copies:
        report.warnings.append(RowError(number, NAMES[dialect]["barcode"], MESSAGES["no_copies"]))
    for values in copies:
        shelved[0] += 1
        yield number, values


def _control(record: Record, tag: str) -> str:
    fld = record.get(tag)
    return fld.data.strip() if fld is not None and fld.data else ""


def _call_of_852(record: Record) -> str:
    """Return the call number a holdings record's 852 gives ($h class, $i item part)."""
    for fld in record.get_fields("852"):
        parts = [_clean(v) for v in fld.get_subfields("h", "i")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return ""


def _known(encoding: str) -> bool:
    if encoding.lower().replace("_", "-") in ("marc8", "marc-8"):
        return True
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def _record_key(record: Record, title: str) -> str:
    """Return the key of a record without an ISBN: its 001 control number, else its title."""
    control = _control(record, "001")
    return "001 " + control if control else "title " + title[:200]


def _root_name(path: Path) -> str:
    """Return the first element of an XML file: `mods`, `rss`, ..."""
    try:
        for _event, elem in ET.iterparse(path, events=("start",)):
            return _local(elem.tag)
    except ET.ParseError:
        pass
    return "?"


# -- ISO 2709 -----------------------------------------------------------------------------------


def chunks(f: IO[bytes]) -> Iterator[tuple[int, bytes, str]]:
    """Yield (record number, bytes, problem) of each record; a broken one ends the file."""
    number = 0
    while True:
        head = f.read(5)
        while head[:1] in (b"\n", b"\r", b" ", b"\x1a", b"\x00") and head:
            # Line breaks some programs put between records, DOS's end-of-file mark, padding.
            head = head[1:] + f.read(1)
        if not head:
            return
        number += 1
        rest = f.read(int(head) - 5) if head.isdigit() and int(head) > 24 else b""
        chunk = head + rest
        if not rest or len(chunk) != int(head) or chunk[-1] != END_OF_RECORD:
            problem = f"length {head.decode('ascii', 'replace')!r} does not match the data"
            yield number, chunk + f.read(), problem
            return
        yield number, chunk, ""


def _iso2709(
    f: IO[bytes], encoding: str | None, report: ImportReport, guess: marctext.Guess
) -> Iterator[tuple[int, Record, str]]:
    """Yield (record number, record, encoding used); a record cut short ends the file."""
    for number, chunk, broken in chunks(f):
        report.records = number
        if broken:
            params = {"problem": broken}
            report.errors.append(RowError(number, "", MESSAGES["broken_record"], params))
            return
        try:
            record, used = _decode(chunk, encoding, guess, number)
        except marctext.EncodingProblem as e:
            params = {"encoding": e.declared}
            report.errors.append(RowError(number, "", MESSAGES["bad_encoding"], params))
            continue
        except (PymarcException, UnicodeDecodeError, ValueError, IndexError) as e:
            problem = str(e) or type(e).__name__
            report.errors.append(RowError(number, "", MESSAGES["bad_record"], {"problem": problem}))
            continue
        yield number, record, used


def _decode(
    chunk: bytes, encoding: str | None, guess: marctext.Guess, number: int
) -> tuple[Record, str]:
    """Return the record and the encoding its text was read in."""
    if encoding:
        name = encoding.lower().replace("_", "-")
        codec = "marc-8" if name in ("marc8", "marc-8") else codecs.lookup(name).name
    else:
        codec = marctext.record_encoding(chunk, guess, number)
    if codec == "marc-8":
        return Record(data=chunk, hide_utf8_warnings=True), "MARC-8"
    if codec == "utf-8":
        return Record(data=chunk, force_utf8=True, utf8_handling=marctext.UTF8_HANDLING), "UTF-8"
    return Record(data=chunk, file_encoding=codec), marctext.shown(codec)


# -- MARCXML ------------------------------------------------------------------------------------


def _xml(f: IO[bytes], report: ImportReport) -> Iterator[tuple[int, Record, str]]:
    """Yield (record number, record, encoding) from MARCXML, clearing each record once read."""
    number = 0
    try:
        for _event, elem in ET.iterparse(f, events=("end",)):
            if not is_record(elem):
                continue
            number += 1
            yield number, _xml_record(elem), "XML"
            elem.clear()
    except ET.ParseError as e:
        params = {"problem": str(e)}
        report.errors.append(RowError(number + 1, "", MESSAGES["broken_record"], params))


def is_record(elem: ET.Element) -> bool:
    """Return whether an element is a MARCXML <record> (its namespace, or MARC's children)."""
    if _local(elem.tag) != "record":
        return False
    if elem.tag.startswith("{"):
        return elem.tag[1:].split("}", 1)[0] == MARC_NAMESPACE
    return any(_local(c.tag) in ("leader", "controlfield", "datafield") for c in elem)


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


def _values(record: Record, place: str) -> list[str]:
    """Return the non-empty cleaned subfields at a place like '200a', in order."""
    tag, code = place[:3], place[3:]
    found = []
    for fld in record.get_fields(tag):
        for value in fld.get_subfields(code):
            cleaned = _clean(value)
            if cleaned:
                found.append(cleaned)
    return found


def _first(record: Record, *places: str) -> str:
    """Return the first non-empty subfield among places like '200a'."""
    for place in places:
        found = _values(record, place)
        if found:
            return found[0]
    return ""


def _joined(record: Record, tag: str, codes: str, sep: str = "") -> str:
    """Return the first field of a tag with its subfields (in the field's order) joined.

    MARC 21 keeps ISBD's punctuation inside ("Title : subtitle /"), so its subfields join with
    a blank and only the end is cleaned; UNIMARC leaves it out, so `sep` puts it in.
    """
    for fld in record.get_fields(tag):
        values = fld.get_subfields(*codes)
        if sep:
            text = sep.join(p for p in (_clean(v) for v in values) if p)
        else:
            text = _clean(" ".join(values))
        if text:
            return text
    return ""


def _clean(value: str) -> str:
    """Return a value without NSB/NSE or control characters and ISBD's trailing punctuation."""
    if not value.isprintable():  # NSB/NSE and every control character are not printable
        value = _CONTROL.sub(" ", marctext.strip_non_sorting(value))
    return _TRAILING.sub("", " ".join(value.split()))


def _name(fld: Field) -> str:
    """Return a UNIMARC name: entry element $a and the rest of the name $b (Asimov, Isaac)."""
    surname = _clean(" ".join(fld.get_subfields("a")))
    rest = _clean(" ".join(fld.get_subfields("b"))).lstrip(", ")
    return f"{surname}, {rest}" if surname and rest else surname or rest


def book_fields(record: Record) -> tuple[dict[str, str], list[str]]:
    """Return title, author, ISBN (the first valid one) and call number, and all ISBNs."""
    if record.get("200") is not None:
        book, isbns = _unimarc_book(record), _isbns(record, "010a")
    else:
        book, isbns = _marc21_book(record), _isbns(record, "020a")
    valid = [i for i in isbns if normal_isbn(i)] if len(isbns) > 1 else isbns
    return {**book, "isbn": (valid or isbns or [""])[0]}, isbns


def _unimarc_book(record: Record) -> dict[str, str]:
    call = "/".join(p for p in (_first(record, "905d"), _first(record, "905e")) if p)
    author = _first(record, "200f") or next(
        (n for fld in record.get_fields(*NAME_TAGS) if (n := _name(fld))), ""
    )
    return {
        "title": _joined(record, "200", "aehi", " : ") or _first(record, "500a", "517a", "540a"),
        "author": author,
        "call_number": call or _first(record, "690a"),
    }


def _marc21_book(record: Record) -> dict[str, str]:
    author = _joined(record, "100", "ab") or _first(record, "110a", "111a", "700a", "245c")
    return {
        "title": _joined(record, "245", "abnp") or _first(record, "245k", "240a", "130a", "246a"),
        "author": author,
        "call_number": _first(record, "852h") or _call_number(record),
    }


def _isbns(record: Record, place: str) -> list[str]:
    """Return each ISBN of a record, without "ISBN" before it or a qualifier after ("(pbk.)")."""
    bare = (_ISBN_WORD.sub("", v) for v in _values(record, place))
    found = (re.split(r"[\s(（:：]", v, maxsplit=1)[0] for v in bare)
    return [i for i in dict.fromkeys(found) if i]


def _unimarc(record: Record, common: dict[str, str]) -> list[dict[str, str]]:
    """Return one item row per 905$b barcode of a CNMARC record."""
    copies = []
    for fld in record.get_fields("905"):
        parts = [_clean(v) for v in (*fld.get_subfields("d")[:1], *fld.get_subfields("e")[:1])]
        call_number = "/".join(p for p in parts if p) or common["call_number"]
        for barcode in fld.get_subfields("b"):
            if barcode.strip():
                copies.append({**common, "barcode": barcode.strip(), "call_number": call_number})
    return copies


def _marc21(record: Record, common: dict[str, str]) -> list[dict[str, str]]:
    """Return one item row per 852$p or 952$p barcode of a MARC 21 record."""
    fallback = _call_number(record)
    copies = []
    record_type = _first(record, "942c")  # Koha: the record's default item type
    for tag, call_codes in (("852", "hi"), ("952", "o")):
        for fld in record.get_fields(tag):
            parts = [_clean(v) for c in call_codes for v in fld.get_subfields(c)]
            call_number = " ".join(p for p in parts if p) or fallback
            kind = next((_clean(v) for v in fld.get_subfields("y") if v.strip()), record_type)
            for barcode in fld.get_subfields("p"):
                if barcode.strip():
                    copy = {**common, "barcode": barcode.strip(), "call_number": call_number}
                    copies.append({**copy, "item_type": kind} if kind else copy)
    return copies


def _call_number(record: Record) -> str:
    for tag in ("090", "050", "084"):
        for fld in record.get_fields(tag):
            parts = [_clean(v) for v in fld.get_subfields("a", "b")]
            if any(parts):
                return " ".join(p for p in parts if p)
    return ""
