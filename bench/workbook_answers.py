"""How soon a workbook is answered: read whole, or refused with a message (the issue's 2 s).

    .venv/bin/python -m bench.workbook_answers [--rounds 3] [--quick] [--dir FOLDER]

Each round imports, into a new store through `import_file` (what `kiosk import` and the
dashboard run), a right workbook of 1,000 books and three kinds of bomb that
tests/importers/test_workbook_fuzz.py shows are refused: a sheet that unpacks 1,000 times its size,
shared text that expands entities a billion times, and a workbook of 10,001 parts. The baseline
is openpyxl reading the right workbook's rows on its own (read-only), with no checks and no
store. The target is the issue's: every answer, right or refused, within 2 s (p99).
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import openpyxl

from bench import harness
from kiosk.circulation.importers import import_file
from kiosk.circulation.store import Store

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def right(rows: int) -> bytes:
    """Return a workbook of `rows` books, as a spreadsheet program writes it."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["条码号", "题名", "责任者"])
    for i in range(rows):
        sheet.append([f"WB-{i:05d}", f"书名{i}", f"作者{i % 7}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    """Return the workbook with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in parts:
                dst.writestr(info, src.read(info))
        for name, body in parts.items():
            dst.writestr(name, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def bombs(small: bytes) -> dict[str, bytes]:
    """Return the bombs, each built on a small right workbook."""
    with zipfile.ZipFile(io.BytesIO(small)) as z:
        sheet = z.read(SHEET)
    laughs = (
        '<!DOCTYPE s [<!ENTITY a "hahahahahaha">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
        + "]>"
    )
    sst = (
        f'<?xml version="1.0"?>{laughs}<sst xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><si><t>&j;</t></si></sst>'
    )
    return {
        "refuse a sheet that unpacks 1,000x": with_parts(
            small, {SHEET: sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 << 20))}
        ),
        "refuse a billion laughs": with_parts(small, {STRINGS: sst.encode()}),
        "refuse 10,001 parts": with_parts(
            small, {f"xl/media/x{i}.bin": b"" for i in range(10_001)}
        ),
    }


def answer_ms(folder: Path, name: str, data: bytes) -> float:
    """Import one workbook into a new store; return the milliseconds to its answer."""
    path = folder / f"{name}.xlsx"
    path.write_bytes(data)
    store = Store.open(folder / f"{name}.db", kiosk_id="bench")
    try:
        started = time.perf_counter()
        import_file(store, "items", path)
        return (time.perf_counter() - started) * 1000
    finally:
        store.close()
        for leftover in folder.glob(f"{name}.*"):
            leftover.unlink()


def openpyxl_ms(folder: Path, data: bytes) -> float:
    """Read every row of the workbook with openpyxl alone; return the milliseconds."""
    path = folder / "bare.xlsx"
    path.write_bytes(data)
    started = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    took = (time.perf_counter() - started) * 1000
    assert rows > 1
    path.unlink()
    return took


def main(argv: list[str] | None = None) -> None:
    """Answer each kind of workbook several times a round, beside openpyxl's bare read."""
    args = harness.parser(__doc__).parse_args(argv)
    bench = harness.Bench("workbook_answers", args)
    tries = harness.size(args, 5, 1)
    books = right(harness.size(args, 1000, 50))
    kinds = {"read 1,000 books": books, **bombs(right(3))}
    with harness.workdir(args, "workbooks") as folder:
        for _ in bench.rounds():
            for name, data in kinds.items():
                key = name.split()[0] + str(len(data))
                bench.record(name, [answer_ms(folder, key, data) for _ in range(tries)], "ms")
            bench.record("baseline: openpyxl reads the rows", [openpyxl_ms(folder, books)], "ms")
    base = "baseline: openpyxl reads the rows"
    for name in kinds:
        bench.compare(f"{name} (p99)", name, base, "p99", harness.at_most(2000, "ms"))
    bench.note(f"{tries} answers per kind a round; each into a new store; {len(books):,} bytes")
    bench.report()


if __name__ == "__main__":
    main()
