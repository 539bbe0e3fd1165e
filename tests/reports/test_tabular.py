"""The one writer of rows and headers: CSV with BOM, XLSX with widths and a frozen header, text."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from kiosk.circulation import tabular

HEADERS = ["书名", "册数"]
ROWS = [['=HYPERLINK("http://x")', 3], ["小王子", None], ["Charlotte's Web", 12]]


def test_csv_has_a_bom_and_quotes_formulas() -> None:
    data = tabular.csv_bytes(HEADERS, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["书名", "册数"],
        ['\'=HYPERLINK("http://x")', "3"],
        ["小王子", ""],
        ["Charlotte's Web", "12"],
    ]


def test_xlsx_has_widths_a_frozen_header_and_numbers() -> None:
    data = tabular.xlsx_bytes(HEADERS, ROWS, sheet="借阅/排行:11月")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert 'name="借阅_排行_11月"' in book  # characters Excel refuses are replaced
    assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in sheet
    widths = [float(w) for w in re.findall(r'<col min="\d+" max="\d+" width="([\d.]+)"', sheet)]
    assert len(widths) == 2 and widths[0] > widths[1]  # the title column is the wider
    assert "<f>" not in sheet and "=HYPERLINK" in strings  # text, never a formula
    assert "<v>12</v>" in sheet  # numbers stay numbers


def test_text_aligns_chinese_as_double_width() -> None:
    out = tabular.text(HEADERS, ROWS).splitlines()
    assert out[0] == "书名" + " " * 20 + "册数"  # 22 columns wide, then two spaces
    assert out[3] == "小王子"
    assert tabular.width("小王子 ab") == 9
    with pytest.raises(ValueError):
        tabular.render("pdf", HEADERS, ROWS, "x")
