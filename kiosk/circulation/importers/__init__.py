"""Import patrons or items from CSV, Excel (.xlsx) or MARC files, all or nothing.

Files come from Excel and WPS (CSV in UTF-8 or GB18030, or .xlsx), and from suppliers and old
library programs (MARC: CNMARC/UNIMARC or MARC 21, ISO 2709 or MARCXML); headers in English or
Chinese. One module per format turns the file into numbered rows; `checks` holds the row checks
they share; `run` checks every row first and reports every problem with the row number Excel shows
(the header is row 1) or the MARC record's number, and writes only a file with no errors (or, if
the librarian chooses, its good rows, the bad ones going to a file of the same kind: `rejects`),
in short transactions beside lending, with one `import` event. `columns` finds our columns under
other programs' names, `marctext` a MARC record's encoding. Re-importing a file updates patrons (by
patron id, else by their first card) and items (by barcode).
"""

from __future__ import annotations

from pathlib import Path

from kiosk.circulation.importers import csvfile, marcfile, xlsxfile
from kiosk.circulation.importers.checks import (
    MESSAGES,
    ImportReport,
    Progress,
    RowError,
    grade_of_class,
    isbn13_check_digit,
    normal_isbn,
    parse_grade,
)
from kiosk.circulation.importers.columns import read_map, table_rows
from kiosk.circulation.importers.rejects import write as write_rejects
from kiosk.circulation.importers.run import run as run_import
from kiosk.circulation.stats import find
from kiosk.circulation.store import Store

__all__ = [
    "FORMATS",
    "ImportReport",
    "RowError",
    "file_format",
    "grade_of_class",
    "import_csv",
    "import_file",
    "isbn13_check_digit",
    "normal_isbn",
    "parse_grade",
    "read_map",
]
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xls": "xls",
    ".mrc": "marc",
    ".iso": "marc",
    ".marc": "marc",
    ".xml": "marc",
}


OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")  # old Excel .xls, or an .xlsx with a password


def file_format(path: Path) -> str:
    """Return csv, xlsx, marc (or xls, which cannot be read) for a file, by name or first bytes."""
    with path.open("rb") as f:
        start = f.read(8)
    if start == OLE2:
        return "xls"
    fmt = FORMATS.get(path.suffix.lower())
    if fmt == "xls":
        return "csv"  # a text table named .xls, as some old library programs export
    if fmt:
        return fmt
    if start.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "marc" if marcfile.is_marc(path) else "csv"


def import_file(
    store: Store,
    kind: str,
    path: Path | str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
    name: str | None = None,
    own_process: bool = False,
    rejects: Path | str | None = None,
    columns: dict[str, list[str]] | None = None,
) -> ImportReport:
    """Check every row of a patrons or items file (CSV, .xlsx or MARC), then import all or none.

    With `rejects` (a path), the good rows are imported and the bad ones written there, in the
    file's own format, to fix and import again; a problem with the file itself still stops it.
    `columns` says which of the file's columns are ours (see `columns.parse_map`).
    """
    if kind not in ("patrons", "items", "records"):
        raise ValueError(f"kind must be patrons, items or records, not {kind!r}")
    path = Path(path)
    report = ImportReport(kind, name or path.name, dry_run=dry_run)
    fmt = file_format(path)
    if fmt == "xls":
        report.errors.append(RowError(1, "", MESSAGES["xls"]))
        return report
    if fmt == "marc":
        if kind == "patrons":
            raise ValueError("MARC files hold books")
        rows = marcfile.rows(path, encoding, report)
    elif fmt == "xlsx":
        rows = table_rows(xlsxfile.rows(path, sheet, report), kind, report, columns)
    else:
        rows = table_rows(csvfile.rows(path, encoding, report), kind, report, columns)
    run_import(
        store,
        report,
        rows,
        actor=actor,
        progress=progress,
        event_data={"format": fmt},
        own_process=own_process,
        keep_going=rejects is not None,
    )
    if not dry_run:
        # The new titles' pinyin, worked out here rather than in the daemon (it never loads
        # pypinyin for an import); a run that imported nothing has nothing to spell.
        find.spell(store)
    # In file order: a MARC book's rows are checked after the holdings records that follow it.
    report.errors.sort(key=lambda e: e.row)
    report.warnings.sort(key=lambda e: e.row)
    if rejects is not None and report.errors and not report.file_problem:
        bad = {e.row for e in report.errors}
        out = Path(rejects)
        report.rejected = write_rejects(fmt, path, bad, out, encoding=encoding, sheet=sheet)
        report.rejects_file = str(out)
    return report


def import_csv(
    store: Store,
    kind: str,
    path: Path | str,
    *,
    encoding: str | None = None,
    dry_run: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of a patrons or items CSV file, then import all of it or nothing."""
    return import_file(
        store, kind, path, encoding=encoding, dry_run=dry_run, actor=actor, progress=progress
    )
