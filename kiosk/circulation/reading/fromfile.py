"""Add a file's titles to a reading list: a MARC file (ISO 2709, MARCXML) or a sheet (.xlsx, CSV).

The importers read the file (`kiosk/circulation/importers`: the formats, the encodings, a sheet's
columns under any of their names or as the librarian mapped them). Each row is matched to the
catalogue by a copy's barcode, then its ISBN, then its exact title (a MARC record by any of its
ISBNs, then its title), and added through the same decision as a title typed in. Rows that find
no book, or whose title is on the list already, are listed by row with the reason; a file that
cannot be read as a whole adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from kiosk.circulation.handler import handle
from kiosk.circulation.importers import csvfile, file_format, marcfile, xlsxfile
from kiosk.circulation.importers.checks import FILE_PROBLEMS, ImportReport, RowError
from kiosk.circulation.importers.checks import MESSAGES as READER
from kiosk.circulation.importers.columns import map_header, table_rows
from kiosk.circulation.reading.commands import AddListRow
from kiosk.circulation.reading.lists import MESSAGES, get_list
from kiosk.circulation.store import Store
from kiosk.i18n import N_

MAX_ROWS = 2000  # a reading list, not a catalogue
FILE_MESSAGES = {
    "no_code_column": N_(
        "the sheet has no column of barcodes, ISBNs or titles (its columns: {columns})"
    ),
    "too_many": N_("the file has more than {most} rows: a reading list is shorter"),
    "no_code": N_("The row names no barcode, ISBN or title."),
}
CODES = ("barcode", "isbn", "title")


@dataclass(frozen=True)
class Skipped:
    """A row not added: its number (a sheet's row as Excel shows it, a MARC record's number),
    what it named, and why (a message id and its parameters)."""

    row: int
    named: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileResult:
    """What adding a file's titles did: the titles added, the rows not added, or the file's
    own problem (then nothing was added)."""

    added: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problem: RowError | None = None
    rows: int = 0


def add_from_file(
    store: Store,
    list_id: str,
    path: Path,
    actor: str,
    columns: Mapping[str, list[str]] | None = None,
) -> FileResult:
    """Read a file whole, then add the titles of its rows that the catalogue has, in one write."""
    report = ImportReport("titles", path.name)
    rows = list(islice(_rows(path, report, columns), MAX_ROWS + 1))
    problem = _file_problem(report, rows)
    if problem is not None:
        return FileResult(problem=problem)
    result = FileResult(rows=len(rows))
    # A record's own problems (a broken MARC record) are listed with the rows not added.
    result.skipped += [Skipped(e.row, "", e.message, e.params) for e in report.errors]
    with store.write() as db:
        found_list = get_list(db, list_id)
        if found_list is None:
            return FileResult(problem=RowError(1, "", MESSAGES["unknown_list"]))
        for number, names in rows:
            named = " / ".join(dict.fromkeys(v for v in _codes(names) if v))
            if not named:
                result.skipped.append(Skipped(number, "", FILE_MESSAGES["no_code"]))
                continue
            outcome = handle(store, AddListRow(list_id, tuple(names), named), actor=actor)
            if outcome.refusal is not None:
                reason = MESSAGES[outcome.refusal.reason]
                result.skipped.append(Skipped(number, named, reason, outcome.refusal.params))
            else:
                result.added.append(str(outcome.events[0].data["title"]))
    result.skipped.sort(key=lambda s: s.row)
    return result


def needs_mapping(header: list[str]) -> bool:
    """Return whether a sheet's header names no column of barcodes, ISBNs or titles that we know
    by name (the librarian then says which column is which, as for an import)."""
    found = map_header(header, "titles", ImportReport("titles", ""))
    return found is not None and not any(c in found for c in CODES)


def _codes(names: list[tuple[str, str]]) -> Iterator[str]:
    return (value for _, value in names)


def _rows(
    path: Path, report: ImportReport, columns: Mapping[str, list[str]] | None
) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Yield each row's number and the ways it names its book, in the order they are tried."""
    fmt = file_format(path)
    if fmt == "xls":
        report.errors.append(RowError(1, "", READER["xls"]))
        return
    if fmt == "marc":
        yield from _records(path, report)
        return
    cells = xlsxfile.rows(path, None, report) if fmt == "xlsx" else csvfile.rows(path, None, report)
    for number, values in table_rows(cells, "titles", report, columns):
        if not any(c in report.names for c in CODES):
            report.errors.append(
                RowError(
                    1,
                    "",
                    FILE_MESSAGES["no_code_column"],
                    {"columns": ", ".join([*report.names.values(), *report.ignored_columns])},
                )
            )
            return
        yield number, [(c, values.get(c, "").strip()) for c in CODES if values.get(c, "").strip()]


def _records(path: Path, report: ImportReport) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Yield each MARC record's number with its ISBNs, then its title (one row per ISBN read)."""
    marc = ImportReport("records", path.name)
    current: tuple[int, list[tuple[str, str]]] | None = None
    for number, values in marcfile.rows(path, None, marc):
        if current is not None and current[0] != number:
            yield _isbns_first(current)
            current = None
        if current is None:
            current = (number, [])
        if values.get("isbn"):
            current[1].append(("isbn", values["isbn"]))
        if values.get("title"):
            current[1].append(("title", values["title"]))
    if current is not None:
        yield _isbns_first(current)
    report.errors += marc.errors
    report.unreadable = marc.unreadable
    report.records = marc.records


def _isbns_first(record: tuple[int, list[tuple[str, str]]]) -> tuple[int, list[tuple[str, str]]]:
    number, names = record
    ordered = [n for n in names if n[0] == "isbn"] + [n for n in names if n[0] == "title"][:1]
    return number, list(dict.fromkeys(ordered))


def _file_problem(report: ImportReport, rows: list[Any]) -> RowError | None:
    """Return the file's own problem (unreadable, no usable column, too long), or None."""
    own = [
        e
        for e in report.errors
        if e.message in FILE_PROBLEMS or e.message in FILE_MESSAGES.values()
    ]
    if own:
        return own[0]
    if report.unreadable:
        return report.errors[0] if report.errors else RowError(1, "", READER["empty"])
    if not rows:
        return report.errors[0] if report.errors else RowError(1, "", READER["empty"])
    if len(rows) > MAX_ROWS:
        return RowError(1, "", FILE_MESSAGES["too_many"], {"most": MAX_ROWS})
    return None
