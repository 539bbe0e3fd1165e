"""CSV export: what a librarian opens in Excel, in the school's local time."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.export import write_csv
from kiosk.circulation.importers import import_csv
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store

RED = "9787020002207"


def export(store: Store, kind: str, **kw: object) -> list[dict[str, str]]:
    out = io.StringIO()
    count = write_csv(store, kind, out, **kw)  # type: ignore[arg-type]
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows)
    return rows


def test_a_returned_loan_has_local_times_cards_and_class(
    circulation: Circulation, store: Store, clock: FakeClock
) -> None:
    circulation.checkout("S001", RED)  # Monday 2026-11-02 09:00 in Beijing
    clock.advance(days=3, seconds=3 * 3600 + 25 * 60)
    circulation.checkin(RED)
    circulation.checkout("S002", "9787535449450")
    assert export(store, "loans") == [
        {
            "item_barcode": RED,
            "title": "红楼梦",
            "patron_id": "S001",
            "card_id": "0F00A1B2C3|S001",
            "name": "王小明",
            "class": "三(2)班",
            "checked_out_at": "2026-11-02 09:00:00",
            "due_at": "2026-11-16 23:59:59",
            "returned_at": "2026-11-05 12:25:00",
            "renewals": "0",
        },
        {
            "item_barcode": "9787535449450",
            "title": "小王子",
            "patron_id": "S002",
            "card_id": "0F00A1B2C4",
            "name": "李雨涵",
            "class": "一(1)班",
            "checked_out_at": "2026-11-05 12:25:00",
            "due_at": "2026-11-19 23:59:59",
            "returned_at": "",
            "renewals": "0",
        },
    ]
    # The same loan in another time zone, for a school elsewhere.
    assert export(store, "loans", timezone="UTC")[0]["checked_out_at"] == "2026-11-02 01:00:00"


def test_patrons_and_items_come_out_as_import_reads_them(store: Store) -> None:
    patrons = export(store, "patrons")
    assert patrons[0] == {
        "patron_id": "H001",
        "card_id": "0F00AAAA01",
        "name": "张晨",
        "class": "五(1)班",
        "grade": "5",
        "role": "helper",
        "status": "active",
    }
    assert [p["patron_id"] for p in patrons] == ["H001", "S001", "S002", "S003", "T001"]
    items = export(store, "items")
    assert items[0] == {
        "barcode": "9787020002207",
        "title": "红楼梦",
        "author": "曹雪芹",
        "isbn": "",
        "call_number": "I242.4/1",
        "location": "library",
        "status": "available",
    }


def test_events_export_keeps_uuid_type_and_data(circulation: Circulation, store: Store) -> None:
    result = circulation.checkout("S001", RED)
    events = export(store, "events")
    last = events[-1]
    assert result.event is not None
    assert (last["uuid"], last["type"], last["patron_id"], last["item_barcode"]) == (
        result.event.uuid,
        "checkout",
        "S001",
        RED,
    )
    assert last["at"] == "2026-11-02 09:00:00"
    assert last["data"] == '{"due_at": "2026-11-16T15:59:59.000Z"}'


def test_bom_for_excel_on_windows(store: Store) -> None:
    out = io.StringIO()
    write_csv(store, "items", out, bom=True)
    assert out.getvalue().startswith("\ufeffbarcode,title,")


def test_exported_patrons_and_items_import_back_unchanged(store: Store, tmp_path: Path) -> None:
    for kind in ("patrons", "items"):
        path = tmp_path / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            write_csv(store, kind, f, bom=True)
        report = import_csv(store, kind, path)
        assert [e.text("en") for e in report.errors] == []
        assert (report.inserted, report.updated, report.unchanged) == (0, 0, 5)
        assert report.ignored_columns == ["status"]


def test_text_excel_would_run_as_a_formula_is_quoted_and_imports_back(
    store: Store, tmp_path: Path
) -> None:
    from kiosk.circulation.records import put_item

    title = '=HYPERLINK("http://example.invalid","点我")'
    with store.write() as db:
        put_item(db, {"barcode": "9787020002207", "title": title, "author": "-佚名"}, store.now())
    row = next(r for r in export(store, "items") if r["barcode"] == RED)
    assert (row["title"], row["author"]) == ("'" + title, "'-佚名")
    path = tmp_path / "items.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        write_csv(store, "items", f)
    report = import_csv(store, "items", path)
    assert [e.text("en") for e in report.errors] == []
    assert (report.updated, report.unchanged) == (0, 5)
    assert store.value("SELECT title FROM items WHERE barcode = ?", [RED]) == title


def test_exports_in_words_import_back_unchanged(store: Store, tmp_path: Path) -> None:
    """Roles in words (学生, student) are roles the import reads; it ignores the status column."""
    for lang in ("zh_CN", "en"):
        for kind in ("patrons", "items"):
            path = tmp_path / f"{kind}-{lang}.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                write_csv(store, kind, f, bom=True, lang=lang)
            report = import_csv(store, kind, path)
            assert [e.text("en") for e in report.errors] == [], (lang, kind)
            assert (report.inserted, report.updated, report.unchanged) == (0, 0, 5), (lang, kind)
    roles = {r["身份"] for r in export(store, "patrons", lang="zh_CN")}
    assert roles == {"学生", "教师", "小图书管理员"}
