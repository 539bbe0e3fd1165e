"""Write the lists (patrons, items, loans, events) as Excel .xlsx, headers in the reader's language.

openpyxl in write-only mode streams the rows into the workbook, so a list of any length takes
little memory; openpyxl also reads .xlsx for the imports, so one library serves both. In Chinese
the patrons and items sheets carry the headers `kiosk import` reads (学号, 卡号, 姓名 ...) and
roles as 学生/教师, so an exported sheet can be edited in Excel or WPS and imported back.
"""

from __future__ import annotations

import io
from typing import Any

from kiosk.circulation.export import (
    KINDS,
    QUERIES,
    SHOWN_AS_WORDS,
    actor_in_words,
    details_in_words,
    in_words,
    rows,
    spreadsheet_safe,
)
from kiosk.circulation.store import Store
from kiosk.i18n import N_, translate

HEADERS = {
    "patron_id": N_("patron_id"),
    "card_id": N_("card_id"),
    "name": N_("name"),
    "class": N_("class"),
    "grade": N_("grade"),
    "role": N_("role"),
    "status": N_("status"),
    "barcode": N_("barcode"),
    "item_barcode": N_("barcode"),
    "title": N_("title"),
    "author": N_("author"),
    "isbn": N_("isbn"),
    "call_number": N_("call_number"),
    "location": N_("location"),
    "checked_out_at": N_("checked_out_at"),
    "due_at": N_("due_at"),
    "returned_at": N_("returned_at"),
    "renewals": N_("renewals"),
    "seq": N_("seq"),
    "uuid": N_("uuid"),
    "type": N_("type"),
    "at": N_("at"),
    "kiosk_id": N_("kiosk_id"),
    "actor": N_("actor"),
    "data": N_("data"),
}
SHEETS = {
    "loans": N_("loans"),
    "patrons": N_("patrons"),
    "items": N_("items"),
    "events": N_("events"),
}


def xlsx_bytes(
    store: Store, kind: str, lang: str, timezone: str = "Asia/Shanghai"
) -> tuple[bytes, int]:
    """Return one list as an .xlsx workbook, and how many rows it has."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    columns = QUERIES[kind][0]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(translate(SHEETS[kind], lang))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=translate(HEADERS[column], lang))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    words = [i for i, c in enumerate(columns) if c in SHOWN_AS_WORDS]
    # The event log's actor and details in words, as in its CSV: "图书管理员 li", no JSON.
    told = [columns.index(c) for c in ("actor", "data") if c in columns]
    count = 0
    for row in rows(store, kind, timezone):
        values: list[Any] = list(row)
        for i in words:
            values[i] = in_words(values[i], lang)
        for i in told:
            said = actor_in_words if columns[i] == "actor" else details_in_words
            values[i] = said(values[i], lang, timezone)
        sheet.append([spreadsheet_safe(v) for v in values])
        count += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count
