"""Workbooks are read whole and safely: 500 generated workbooks, right and wrong.

A seeded generator makes workbooks of a few kinds in turn: right ones whose stored size lies
(`<dimension>` A1:C5 over 31 rows, or none, or too big), with blank rows and gaps; ones cut short,
with bytes changed, parts missing or not well-formed, shared text missing or huge, rows out of
order, a row past Excel's last, a value far to the right; and bombs (a part that unpacks 1,000
times, a table of contents that promises gigabytes, a part whose size lies, entity expansion,
10,001 parts). Each is imported into the store, and each answer must be either every row of the
file (exactly its books, with their titles) or messages in both languages and nothing changed:
no traceback, no silent loss. How fast each kind is answered (the issue's bound: 2 s) is measured
by `python -m bench.workbook_answers`, not asserted here: a test asserts no times.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from daemon.test_daemon import kiosk_cmd, make_school, write_config

from kiosk.circulation.importers import import_file
from kiosk.circulation.importers.checks import RowError
from kiosk.circulation.store import Store

from . import workbooks

pytestmark = pytest.mark.slow  # `kiosk import` processes

COUNT = 500
HEADER: list[str | int] = ["条码号", "题名", "责任者"]
Made = tuple[bytes, int | None]  # the workbook, and how many books it holds if it is right


def books(tag: str, n: int) -> list[list[str | int]]:
    return [[f"{tag}-{i:04d}", f"书名{tag}{i}", f"作者{i % 7}"] for i in range(n)]


def build(rows: list[list[str | int]], **kw: object) -> bytes:
    """Write a workbook in memory (through a temporary path) and return its bytes."""
    buf = io.BytesIO()
    strings: dict[str, int] | None = {} if kw.pop("shared", True) else None
    dimension = kw.pop("dimension", "A1:C5")
    numbers = kw.pop("numbers", None)
    parts = kw.pop("parts", {})
    assert not kw
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        numbered = zip(numbers or range(1, len(rows) + 1), rows, strict=True)
        body = "".join(workbooks.row_xml(n, r, strings) for n, r in numbered)
        sheet = "".join(workbooks.sheet_xml([body], dimension))  # type: ignore[arg-type]
        standard = {
            "[Content_Types].xml": workbooks.CONTENT_TYPES.encode(),
            "_rels/.rels": workbooks.ROOT_RELS.encode(),
            "xl/workbook.xml": workbooks.WORKBOOK.encode(),
            "xl/_rels/workbook.xml.rels": workbooks.WORKBOOK_RELS.encode(),
            "xl/sharedStrings.xml": workbooks.shared_strings_xml(strings or {}).encode(),
            "xl/worksheets/sheet1.xml": sheet.encode(),
        }
        for name, data in {**standard, **parts}.items():  # type: ignore[dict-item]
            if data is not None:
                z.writestr(name, data)
    return buf.getvalue()


def patch_directory(data: bytes, name: bytes, **fields: int) -> bytes:
    """Change fields of one part's entry in the zip's table of contents (central directory)."""
    offsets = {"flags": (8, "<H"), "method": (10, "<H"), "packed": (20, "<I"), "size": (24, "<I")}
    out = bytearray(data)
    at = out.find(b"PK\x01\x02" + b"", 0)
    while at != -1:
        length = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46 : at + 46 + length]) == name:
            for field, value in fields.items():
                offset, fmt = offsets[field]
                struct.pack_into(fmt, out, at + offset, value)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


# -- the kinds of workbook -----------------------------------------------------------------


def right_but_lying(rng: random.Random, tag: str) -> Made:
    n = rng.randint(1, 60)
    dimension = rng.choice(["A1:C5", "A1:C2", None, "A1:Z9999", "B3:C4", "A1"])
    rows = [HEADER, *books(tag, n)]
    numbers = None
    if rng.random() < 0.5:  # blank rows and gaps in the row numbers, as Excel leaves them
        numbers, row = [], 0
        for _ in rows:
            row += rng.choice([1, 1, 1, 2, 5])
            numbers.append(row)
    return build(rows, dimension=dimension, shared=rng.random() < 0.6, numbers=numbers), n


def numbers_and_styles(rng: random.Random, tag: str) -> Made:
    n = rng.randint(1, 30)
    rows: list[list[str | int]] = [HEADER]
    # Barcodes typed as numbers: read as their digits, not 9.78e+12.
    rows += [[9 * 10**12 + int(tag[1:]) * 1000 + i, f"书名{tag}{i}", f"作者{i}"] for i in range(n)]
    # An empty styled cell far to the right (Excel writes those) is not a value.
    sheet_rows = "".join(workbooks.row_xml(i + 1, r, None) for i, r in enumerate(rows))
    sheet_rows = sheet_rows.replace("</row>", '<c r="XFD1" s="1"/></row>', 1)
    sheet = "".join(workbooks.sheet_xml([sheet_rows], "A1:C5")).encode()
    return build(rows, parts={"xl/worksheets/sheet1.xml": sheet}), n


def huge_shared_text(rng: random.Random, tag: str) -> Made:
    n = rng.randint(1, 20)
    rows = [HEADER, *books(tag, n)]
    if rng.random() < 0.5:  # 30,000 more shared texts than the sheet uses: read, and fine
        strings = {f"未用{i}": i for i in range(30_000)}
        return build(
            rows,
            shared=False,
            parts={"xl/sharedStrings.xml": workbooks.shared_strings_xml(strings).encode()},
        ), n
    # A table of contents promising 3 GB of shared text.
    data = build(rows)
    return patch_directory(data, b"xl/sharedStrings.xml", size=3_000_000_000), None


def cut_short(rng: random.Random, tag: str) -> Made:
    data, _ = right_but_lying(rng, tag)
    return data[: rng.randrange(len(data))], None


def changed_bytes(rng: random.Random, tag: str) -> Made:
    data, n = right_but_lying(rng, tag)
    out = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out), n  # either refused, or (the CRC saw nothing changed in it) read whole


def missing_part(rng: random.Random, tag: str) -> Made:
    part = rng.choice(
        [
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml",
            "[Content_Types].xml",
            "xl/sharedStrings.xml",
        ]
    )
    return build([HEADER, *books(tag, 5)], parts={part: None}), None  # type: ignore[dict-item]


def bad_xml(rng: random.Random, tag: str) -> Made:
    part = rng.choice(["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
    good = build([HEADER, *books(tag, 8)])
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        text = z.read(part)
    broken = rng.choice([text[: rng.randrange(10, len(text))], text.replace(b">", b"<", 1)])
    return build([HEADER, *books(tag, 8)], parts={part: broken}), None


def shared_text_missing(rng: random.Random, tag: str) -> Made:
    rows = [HEADER, *books(tag, 6)]
    strings: dict[str, int] = {}
    body = "".join(workbooks.row_xml(i + 1, r, strings) for i, r in enumerate(rows))
    body = body.replace(f"<v>{len(strings) - 1}</v>", f"<v>{len(strings) + 500}</v>")
    sheet = "".join(workbooks.sheet_xml([body], "A1:C5")).encode()
    few = dict(list(strings.items())[:-1])
    parts = {
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": workbooks.shared_strings_xml(few).encode(),
    }
    return build(rows, parts=parts), None


def rows_out_of_order(rng: random.Random, tag: str) -> Made:
    rows = [HEADER, *books(tag, 6)]
    numbers = rng.choice([[1, 2, 3, 3, 4, 5, 6], [1, 2, 5, 4, 6, 7, 8], [1, 3, 2, 4, 5, 6, 7]])
    return build(rows, numbers=numbers), None


def row_past_the_last(rng: random.Random, tag: str) -> Made:
    rows = [HEADER, *books(tag, 3)]
    return build(rows, numbers=[1, 2, 3, rng.choice([1_048_577, 10**12, 2**40])]), None


def value_far_right(rng: random.Random, tag: str) -> Made:
    rows = [HEADER, *books(tag, 3)]
    sheet_rows = "".join(workbooks.row_xml(i + 1, r, None) for i, r in enumerate(rows))
    column = rng.choice(["ALM", "XFD", "BXX"])
    sheet_rows = sheet_rows.replace(
        "</row>", f'<c r="{column}3" t="inlineStr"><is><t>多</t></is></c></row>', 3
    )
    sheet = "".join(workbooks.sheet_xml([sheet_rows], "A1:C5")).encode()
    return build(rows, parts={"xl/worksheets/sheet1.xml": sheet}), None


def bomb(rng: random.Random, tag: str) -> Made:
    kind = rng.choice(["ratio", "promise", "lie", "entities", "parts"])
    rows = [HEADER, *books(tag, 3)]
    if kind == "ratio":
        sheet = "".join(workbooks.sheet_xml([""], None)).encode()
        padded = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 << 20))
        return build(rows, parts={"xl/worksheets/sheet1.xml": padded}), None
    if kind == "promise":
        return patch_directory(build(rows), b"xl/worksheets/sheet1.xml", size=4_000_000_000), None
    if kind == "lie":  # says it unpacks to 100 bytes; unpacks to far more
        return patch_directory(build(rows), b"xl/worksheets/sheet1.xml", size=100), None
    if kind == "entities":
        laughs = (
            '<!DOCTYPE s [<!ENTITY a "hahahahahaha">'
            + "".join(
                f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9)
            )
            + "]>"
        )
        sst = (
            '<?xml version="1.0"?>' + laughs + '<sst xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><si><t>&j;</t></si></sst>'
        )
        return build(rows, shared=False, parts={"xl/sharedStrings.xml": sst.encode()}), None
    extra = {f"xl/media/x{i}.bin": b"" for i in range(10_001)}
    return build(rows, parts=extra), None  # type: ignore[arg-type]


def odd_flags(rng: random.Random, tag: str) -> Made:
    data = build([HEADER, *books(tag, 4)])
    if rng.random() < 0.5:
        return patch_directory(data, b"xl/worksheets/sheet1.xml", flags=1), None  # a password
    return patch_directory(data, b"xl/worksheets/sheet1.xml", method=99), None  # unknown packing


def not_a_zip(rng: random.Random, tag: str) -> Made:
    return rng.choice([b"", rng.randbytes(rng.randint(1, 3000)), b"barcode,title\nA,B\n"]), None


KINDS: list[Callable[[random.Random, str], Made]] = [
    right_but_lying,
    numbers_and_styles,
    huge_shared_text,
    cut_short,
    changed_bytes,
    missing_part,
    bad_xml,
    shared_text_missing,
    rows_out_of_order,
    row_past_the_last,
    value_far_right,
    bomb,
    odd_flags,
    not_a_zip,
    right_but_lying,
]


def both_languages(errors: list[RowError]) -> bool:
    """Every message reads in English and in Chinese (no raw exception in their place)."""
    for e in errors:
        en, zh = e.text("en"), e.text("zh_CN")
        if not en or "Traceback" in en or not any("\u4e00" <= ch <= "\u9fff" for ch in zh):
            return False
    return True


def test_500_generated_workbooks_are_read_whole_or_refused_with_a_message(
    store: Store, tmp_path: Path
) -> None:
    rng = random.Random(20261205)
    slowest = (0.0, "")
    seen: dict[str, list[str]] = {}
    for i in range(COUNT):
        kind = KINDS[i % len(KINDS)]
        tag = f"F{i:03d}"
        data, expected = kind(rng, tag)
        path = tmp_path / f"{tag}.xlsx"
        path.write_bytes(data)
        before = store.value("SELECT count(*) FROM items")
        started = time.perf_counter()
        report = import_file(store, "items", path)  # must not raise, whatever the file
        took = time.perf_counter() - started
        slowest = max(slowest, (took, f"{tag} {kind.__name__}"))
        now = store.value("SELECT count(*) FROM items")
        if report.errors:
            assert both_languages(report.errors), (tag, kind.__name__, report.errors)
            assert now == before, (tag, kind.__name__, "refused, yet the store changed")
            outcome = "refused: " + report.errors[0].text("en")[:60]
        else:
            # Read: then it was a right workbook, and every one of its books is in the store.
            assert expected is not None, (tag, kind.__name__, "a broken workbook was imported")
            assert report.rows == expected and now == before + expected, (tag, kind.__name__)
            titles = store.query("SELECT title FROM items WHERE title LIKE ?", [f"书名{tag}%"])
            assert sorted(t["title"] for t in titles) == sorted(
                f"书名{tag}{n}" for n in range(expected)
            )
            outcome = "read whole"
        seen.setdefault(kind.__name__, []).append(outcome)
        path.unlink()
    print(f"slowest answer: {slowest[0]:.2f} s ({slowest[1]})")
    for name, outcomes in seen.items():
        print(f"{name}: {len(outcomes)}: {sorted(set(outcomes))[:4]}")
    # Every right workbook was read whole; every kind that is wrong was refused every time.
    assert set(seen["right_but_lying"]) == {"read whole"}
    assert set(seen["numbers_and_styles"]) == {"read whole"}
    for wrong in ("cut_short", "missing_part", "bad_xml", "shared_text_missing", "bomb"):
        assert all(o.startswith("refused") for o in seen[wrong]), (wrong, seen[wrong])


def test_a_sheet_whose_size_says_a1_c5_imports_all_31_rows(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    make_school(cfg)
    path = workbooks.write(tmp_path / "books.xlsx", [HEADER, *books("D", 31)], dimension="A1:C5")
    done = kiosk_cmd(cfg, "import", "items", str(path))
    assert done.returncode == 0, done.stderr
    assert "31 rows read" in done.stdout and "31 new" in done.stdout


def test_a_zip_bomb_is_refused_at_once_with_a_message_in_both_languages(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    make_school(cfg)
    path = tmp_path / "bomb.xlsx"
    data = patch_directory(build([HEADER]), b"xl/worksheets/sheet1.xml", size=4_000_000_000)
    path.write_bytes(data)
    done = kiosk_cmd(cfg, "import", "items", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "the workbook unpacks to more than 512 MB" in done.stderr
    assert "nothing imported" in done.stderr
