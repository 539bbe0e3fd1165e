"""Reading statistics, rankings, overdue levels and exports on a school with known answers."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.circulation import tabular
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import edit_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.stats import PeriodError, month, rankings, reading, resolve
from kiosk.circulation.stats import overdue as chase
from kiosk.circulation.stats.tables import Ask, ReportError, make
from kiosk.circulation.store import Store
from reports.school import build

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = month(2026, 11)


@pytest.fixture
def school(tmp_path: Path) -> Iterator[tuple[Store, FakeClock, Circulation]]:
    store, clock, c = build(tmp_path)
    yield store, clock, c
    store.close()


def test_class_figures_of_november(school: tuple[Store, FakeClock, Circulation]) -> None:
    store = school[0]
    rows = [c.row() for c in reading.by_class(store, NOVEMBER, TZ)]
    assert rows == [
        {"name": "三(1)班", "grade": 3, "students": 4, "loans": 4, "readers": 2,
         "per_student": 1.0, "non_readers": 2, "with_card": 4, "coverage": 100.0, "visits": 5},
        {"name": "三(2)班", "grade": 3, "students": 2, "loans": 3, "readers": 2,
         "per_student": 1.5, "non_readers": 0, "with_card": 1, "coverage": 50.0, "visits": 2},
        {"name": "四(1)班", "grade": 4, "students": 3, "loans": 1, "readers": 1,
         "per_student": 0.33, "non_readers": 2, "with_card": 3, "coverage": 100.0, "visits": 1},
    ]  # fmt: skip
    grades = [
        (g.name, g.students, g.loans, g.per_student)
        for g in reading.by_grade(reading.by_class(store, NOVEMBER, TZ))
    ]
    assert grades == [("3", 6, 7, 1.17), ("4", 3, 1, 0.33)]


def test_october_holds_only_the_october_loan(school: tuple[Store, FakeClock, Circulation]) -> None:
    store = school[0]
    rows = {c.name: (c.loans, c.visits) for c in reading.by_class(store, month(2026, 10), TZ)}
    assert rows == {"三(1)班": (1, 1), "三(2)班": (0, 0), "四(1)班": (0, 0)}


def test_ranking_by_loans_per_student(school: tuple[Store, FakeClock, Circulation]) -> None:
    ranked = rankings.class_ranking(school[0], NOVEMBER, TZ)
    assert [(r["rank"], r["name"], r["per_student"]) for r in ranked] == [
        (1, "三(2)班", 1.5),
        (2, "三(1)班", 1.0),
        (3, "四(1)班", 0.33),
    ]


def test_top_readers_keep_ties(school: tuple[Store, FakeClock, Circulation]) -> None:
    top = rankings.top_readers(school[0], NOVEMBER, TZ, "class", limit=1)
    assert [(c, [(p["name"], p["loans"]) for p in ps]) for c, ps in top] == [
        ("三(1)班", [("李雨涵", 2), ("王小明", 2)]),
        ("三(2)班", [("陈思博", 2)]),
        ("四(1)班", [("黄子涵", 1)]),
    ]


def test_most_borrowed_counts_every_copy(school: tuple[Store, FakeClock, Circulation]) -> None:
    top = rankings.top_books(school[0], NOVEMBER, TZ, limit=3)
    assert [(b["title"], b["loans"], b["copies"]) for b in top] == [
        ("小王子", 3, 2),
        ("上下五千年", 1, 1),
        ("无索书号", 1, 1),
    ]


def test_subjects_collection_and_non_borrowers(
    school: tuple[Store, FakeClock, Circulation],
) -> None:
    store = school[0]
    assert [(s["letter"], s["loans"]) for s in reading.by_subject(store, NOVEMBER, TZ)] == [
        ("I", 5),
        ("K", 1),
        ("Q", 1),
        ("T", 1),
        ("", 1),
    ]
    assert reading.collection(store, NOVEMBER, TZ) == {
        "holdings": 8, "loans": 9, "items_lent": 8, "rate": 1.12, "share_lent": 100.0,
    }  # fmt: skip
    assert [r["name"] for r in reading.non_borrowers(store, NOVEMBER, TZ)] == [
        "刘一诺", "张晨", "吴可心", "赵天乐",
    ]  # fmt: skip
    assert [r["id"] for r in reading.non_borrowers(store, NOVEMBER, TZ, "四(1)班")] == [
        "S33",
        "S32",
    ]


def test_overdue_levels_rise_with_the_days(school: tuple[Store, FakeClock, Circulation]) -> None:
    store, clock, _ = school
    assert chase.overdue_loans(store, TZ) == []
    clock.advance(days=17)  # 11-20: due 11-16 is 4 days over, 11-17 three
    rows = chase.overdue_loans(store, TZ)
    assert [(r["name"], r["barcode"], r["days_overdue"], r["level"]) for r in rows] == [
        ("李雨涵", "B5", 4, 1),
        ("李雨涵", "B1", 3, 1),
        ("王小明", "B4", 4, 1),
        ("陈思博", "B2", 4, 1),  # names in pinyin order: chén before yáng
        ("陈思博", "B6", 4, 1),
        ("杨佳怡", "B8", 4, 1),
        ("黄子涵", "B7", 4, 1),
    ]
    clock.advance(days=20)  # 12-10: students 24 and 23 days over, the teacher 8
    levels = {(r["barcode"], r["days_overdue"], r["level"]) for r in chase.overdue_loans(store, TZ)}
    assert ("B3", 8, 2) in levels and ("B4", 24, 3) in levels and ("B1", 23, 3) in levels
    by_class = chase.by_class(chase.overdue_loans(store, TZ))
    # The teacher's book is in the staff's group, after the classes: no parents' notice for him.
    assert [(c, len(rs)) for c, rs in by_class] == [
        ("三(1)班", 3),
        ("三(2)班", 3),
        ("四(1)班", 1),
        (chase.STAFF, 1),
    ]
    notices = chase.by_student(chase.overdue_loans(store, TZ, min_level=3))
    assert [(n["name"], len(n["books"]), n["level"]) for n in notices] == [
        ("李雨涵", 2, 3),
        ("王小明", 1, 3),
        ("陈思博", 2, 3),
        ("杨佳怡", 1, 3),
        ("黄子涵", 1, 3),
    ]


def test_printed_notices_are_recorded(school: tuple[Store, FakeClock, Circulation]) -> None:
    store, clock, _ = school
    clock.advance(days=37)
    students = chase.by_student(chase.overdue_loans(store, TZ, "三(1)班"))
    assert chase.record_printed(store, students, "librarian:li") == 3
    printed = chase.printed(store)
    assert sorted((p["name"], p["books"], p["level"]) for p in printed) == [
        ("李雨涵", 2, 3),
        ("王小明", 1, 3),
        ("陈老师", 1, 2),
    ]
    events = store.query("SELECT type, patron_id, actor FROM events WHERE type = 'notice_printed'")
    assert len(events) == 3 and {e["actor"] for e in events} == {"librarian:li"}
    again = chase.overdue_loans(store, TZ, "三(1)班")
    assert {r["notice_at"] for r in again} == {printed[0]["printed_at"]}


def test_notice_text_is_checked_and_kept(school: tuple[Store, FakeClock, Circulation]) -> None:
    store = school[0]
    assert "{name}" in chase.template(store)
    assert chase.template_problem("Dear parents of {nam}") == (
        "{{{field}}} is not known here. Use {known}.",
        {"field": "nam", "known": "{name}, {class_name}, {count}, {date}"},
    )
    assert chase.template_problem("unclosed {name") is not None
    with pytest.raises(ValueError):
        chase.set_template(store, "  ", "librarian:li")
    chase.set_template(store, "{name}（{class_name}）家长：请还{count}本书。", "librarian:li")
    assert chase.template(store) == "{name}（{class_name}）家长：请还{count}本书。"


def test_periods(school: tuple[Store, FakeClock, Circulation]) -> None:
    store = school[0]
    assert resolve(store, TZ, "month", month_text="2026-02").key == "2026-02-01..2026-02-28"
    assert resolve(store, TZ, "term").key == "2026-09-01..2027-01-22"
    assert resolve(store, TZ, "year").key == "2026-09-01..2027-08-31"
    assert resolve(store, TZ, first="2026-11-01", last="2026-11-30") == NOVEMBER.__class__(
        "range", NOVEMBER.first, NOVEMBER.last
    )
    with pytest.raises(PeriodError) as e:
        resolve(store, TZ, first="2026-11-30", last="2026-11-01")
    assert e.value.params == {"first": "2026-11-30", "last": "2026-11-01"}
    with pytest.raises(PeriodError):
        resolve(store, TZ, "month", month_text="November")


def test_reports_as_csv_and_xlsx(school: tuple[Store, FakeClock, Circulation]) -> None:
    store = school[0]
    table = make("classes", store, TZ, Ask(NOVEMBER))
    data = tabular.csv_bytes(table.headers("zh_CN"), table.values())
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["班级", "学生数", "借阅册次", "借阅人数", "人均借阅", "未借阅人数",
                       "持卡人数", "持卡率%", "到馆人次"]  # fmt: skip
    assert rows[-1] == ["全校", "9", "8", "5", "0.89", "4", "8", "88.9", "8"]
    english = tabular.csv_bytes(table.headers("en"), table.values()).decode("utf-8-sig")
    assert english.splitlines()[0].startswith("Class,Students,Loans,Readers,Loans per student")
    xlsx = tabular.xlsx_bytes(table.headers("zh_CN"), table.values(), sheet="reading")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert 'state="frozen"' in sheet and "<col " in sheet and "三(2)班" in strings
    with pytest.raises(ReportError):
        make("student", store, TZ, Ask(NOVEMBER, card="nobody"))
    record = make("student", store, TZ, Ask(NOVEMBER, card="0F00000011", lang="en"))
    assert [(r["title"], r["out"], r["back"]) for r in record.rows] == [
        ("上下五千年", "2026-11-02", ""),
        ("小王子", "2026-11-02", "2026-11-03"),
        ("草房子", "2026-10-30", "2026-11-02"),
    ]


def test_reports_see_every_change_at_once(school: tuple[Store, FakeClock, Circulation]) -> None:
    store, _, c = school
    before = {f.name: (f.students, f.loans) for f in reading.by_class(store, NOVEMBER, TZ)}
    assert before["三(1)班"] == (4, 4) and before["三(2)班"] == (2, 3)
    # A class change (the roll is kept in memory) and a checkout (the loans are cached).
    edit_patron(store, "S13", {"class_name": "三(2)班"}, "librarian:li")
    assert c.checkout("S13", "B3").ok is False  # on loan to the teacher: nothing changes
    assert c.checkin("B3").ok and c.checkout("S13", "B3").ok
    after = {f.name: (f.students, f.loans) for f in reading.by_class(store, NOVEMBER, TZ)}
    assert after["三(1)班"] == (3, 4) and after["三(2)班"] == (3, 4)
    assert [b["title"] for b in rankings.top_books(store, NOVEMBER, TZ, 1)] == ["小王子"]
    store.db.execute("UPDATE items SET title = '小王子（新版）' WHERE barcode IN ('B1', 'B2')")
    assert [b["title"] for b in rankings.top_books(store, NOVEMBER, TZ, 1)] == ["小王子（新版）"]
