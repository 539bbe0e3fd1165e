"""Mappings the librarian made on the dashboard, remembered by a file's set of headers.

A school's office exports the same list every term: once its columns are mapped (the
dashboard's mapping step), the next file with the same headers imports without asking.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlite_utils import Database

from kiosk.circulation.commands import SaveImportMapping
from kiosk.circulation.handler import handle
from kiosk.circulation.importers import csvfile, xlsxfile
from kiosk.circulation.importers.checks import MESSAGES, ImportReport
from kiosk.circulation.importers.columns import map_header, normal
from kiosk.circulation.store import Event, Store

PREVIEW = 3  # rows shown under the headers


def header_key(cells: list[str]) -> str:
    """Return the key of a header: its non-empty names as compared, in any order."""
    return "|".join(sorted({normal(c) for c in cells if c}))


def first_rows(path: Path, fmt: str, sheet: str | None = None) -> tuple[list[str], list[list[str]]]:
    """Return a table's header and its first rows (empty when it cannot be read)."""
    report = ImportReport("items", path.name)
    rows = xlsxfile.rows(path, sheet, report) if fmt == "xlsx" else csvfile.rows(path, None, report)
    header: list[str] = []
    preview: list[list[str]] = []
    for _number, cells in rows:
        if not any(cells):
            continue
        if not header:
            header = cells
            continue
        preview.append(cells)
        if len(preview) == PREVIEW:
            break
    return header, preview


def needs_mapping(header: list[str], kind: str) -> bool:
    """Return whether our columns cannot all be found in this header by name."""
    report = ImportReport(kind, "")
    return map_header(header, kind, report) is None and any(
        e.message == MESSAGES["missing_columns"] for e in report.errors
    )


def saved_mapping(db: Database, kind: str, header: list[str]) -> dict[str, list[str]] | None:
    """Return the mapping saved for files of this kind with this header, or None."""
    row = db.execute(
        "SELECT columns FROM import_mappings WHERE kind = ? AND header = ?",
        [kind, header_key(header)],
    ).fetchone()
    return json.loads(row[0]) if row else None


def save_mapping(
    store: Store, kind: str, header: list[str], columns: dict[str, list[str]], actor: str
) -> Event:
    """Remember a mapping for files of this kind with this header (an `import_mapping_saved`)."""
    return handle(store, SaveImportMapping(kind, header_key(header), columns, actor)).event
