"""Write .xlsx workbooks part by part, as a test wants them (right or wrong), quickly.

openpyxl writes only what is right; the fuzz and kill tests need a sheet that lies about its
size, rows out of order, shared text that is missing, and 100,000 rows in a second or two.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

PKG = "http://schemas.openxmlformats.org/package/2006"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = (
    f'{XML_HEAD}<Types xmlns="{PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OFFICE}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{OFFICE}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'{XML_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{DOC}"><sheets><sheet name="书目" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
COLUMNS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def cell(ref: str, value: str | int, shared: dict[str, int] | None = None) -> str:
    """Return a cell: a number, shared text (when `shared` is given) or inline text."""
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if shared is not None:
        index = shared.setdefault(value, len(shared))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def row_xml(number: int, values: Sequence[str | int], shared: dict[str, int] | None) -> str:
    """Return one <row> of cells from column A."""
    cells = "".join(cell(f"{COLUMNS[i]}{number}", v, shared) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def shared_strings_xml(shared: dict[str, int]) -> str:
    """Return sharedStrings.xml for the texts in `shared` (text -> index)."""
    items = "".join(f"<si><t>{escape(t)}</t></si>" for t in sorted(shared, key=shared.__getitem__))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>'
    )


def sheet_xml(rows_xml: Iterable[str], dimension: str | None) -> Iterable[str]:
    """Yield a worksheet part in pieces: head, <dimension>, the rows, the end."""
    yield SHEET_HEAD
    if dimension is not None:
        yield f'<dimension ref="{dimension}"/>'
    yield "<sheetData>"
    yield from rows_xml
    yield "</sheetData></worksheet>"


def write(
    path: Path,
    rows: Iterable[Sequence[str | int]],
    *,
    dimension: str | None = "A1:C5",
    shared: bool = True,
    parts: dict[str, bytes] | None = None,
) -> Path:
    """Write a workbook of one sheet with `rows` from row 1; `parts` replace or add parts."""
    strings: dict[str, int] | None = {} if shared else None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            numbered = (row_xml(n, r, strings) for n, r in enumerate(rows, start=1))
            for piece in sheet_xml(numbered, dimension):
                f.write(piece.encode("utf-8"))
        standard = {
            "[Content_Types].xml": CONTENT_TYPES.encode(),
            "_rels/.rels": ROOT_RELS.encode(),
            "xl/workbook.xml": WORKBOOK.encode(),
            "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
            "xl/sharedStrings.xml": shared_strings_xml(strings or {}).encode(),
        }
        for name, data in {**standard, **(parts or {})}.items():
            if name != "xl/worksheets/sheet1.xml":
                z.writestr(name, data)
    return path
