"""A generated school whose reading stars and festival figures are known exactly.

The festival: 2026-04-20 (Mon) to 2026-05-03 (Sun), two weeks; the two weeks before it are
2026-04-06 to 2026-04-19. Times are Beijing's. Grade 3's list: 小王子 (ISBN, copies A1 and
A2), 草房子 (ISBN, B1), 童年故事 (no ISBN: by its title, C1). Grade 4's list: 昆虫记 (D1),
上下五千年 (E1). X1-X9 are on no list.

| child          | festival loans (lent -> back)                    | loans | books | list |
|----------------|--------------------------------------------------|-------|-------|------|
| S11 王小明 三(1) | A1 4-20 12:10 -> 4-21 12:05 (next day, <24 h);   | 4     | 3     | 2    |
|                | B1 4-20 still out; C1 4-22 12:10 -> 12:14 (same  |       |       |      |
|                | day: not read); X6 4-23 -> 4-27                  |       |       |      |
| S12 李雨涵 三(1) | A2 4-21 -> 4-24; A1 4-27 -> 4-29 (小王子 again:   | 3     | 3     | 2    |
|                | once); C1 4-28 -> 4-30; X5 5-04 07:50 (after)    |       |       |      |
| S13 张子轩 三(1) | X7 4-21 12:10 -> 12:20 (same day)                | 1     | 0     | 0    |
| S14 刘一诺 三(1) | nothing                                          | 0     | 0     | 0    |
| S21 陈思博 三(2) | X8 4-24 -> 4-28; X7 4-29 still out               | 2     | 2     | 0    |
| S22 杨佳怡 三(2) | X4 4-20 07:50 (23:50 UTC the day before) -> 4-22 | 1     | 1     | 0    |
| S31 黄子涵 四(1) | D1 4-21 -> 4-23; E1 4-21 -> 4-24; X9 4-24 -> 4-27 | 3     | 3     | 2    |
| S32 赵天乐 四(1) | D1 4-27 -> 4-30; A2 4-27 still out (grade 3's)   | 2     | 2     | 1    |
| S33 吴可心 四(1) | X2 4-22 12:10 -> 12:11 (same day)                | 1     | 0     | 0    |
| S40 (left), T01 (teacher): loans in the festival, on no roll                              |

Before (4-06 to 4-19): S11 X1 4-07 -> 4-09 and X3 4-19 -> 4-21 (2 loans, no list title);
S21 A1 4-08 -> 4-10 (1 loan, 小王子 on grade 3's list); S31 X2 4-08 12:10 -> 12:15 (1 loan,
same day).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.reading import lists
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store
from reports.school import ok

TZ = dt.timezone(dt.timedelta(hours=8))
PATRONS = [
    ("S11", "王小明", "student", 3, "三(1)班"),
    ("S12", "李雨涵", "student", 3, "三(1)班"),
    ("S13", "张子轩", "student", 3, "三(1)班"),
    ("S14", "刘一诺", "student", 3, "三(1)班"),
    ("S21", "陈思博", "student", 3, "三(2)班"),
    ("S22", "杨佳怡", "student", 3, "三(2)班"),
    ("S31", "黄子涵", "student", 4, "四(1)班"),
    ("S32", "赵天乐", "student", 4, "四(1)班"),
    ("S33", "吴可心", "student", 4, "四(1)班"),
    ("S40", "周离校", "student", 4, "四(1)班"),  # left
    ("T01", "陈老师", "teacher", None, "三(1)班"),
]
ITEMS = [
    ("A1", "小王子", "9787535449450"),
    ("A2", "小王子", "9787535449450"),
    ("B1", "草房子", "9787530215982"),
    ("C1", "童年故事", ""),
    ("D1", "昆虫记", "9787020090006"),
    ("E1", "上下五千年", "9787500000001"),
    *[(f"X{i}", f"别的书{i}", f"97871000000{i:02d}") for i in range(1, 10)],
]
LISTS = {3: ["A1", "B1", "C1"], 4: ["D1", "E1"]}
# (when in Beijing, patron or None for a return, barcode)
LOANS = [
    ("04-07 12:10", "S11", "X1"),
    ("04-08 12:10", "S21", "A1"),
    ("04-08 12:10", "S31", "X2"),
    ("04-08 12:15", None, "X2"),
    ("04-09 12:10", None, "X1"),
    ("04-10 12:10", None, "A1"),
    ("04-19 12:10", "S11", "X3"),
    ("04-20 07:50", "S22", "X4"),
    ("04-20 12:10", "S11", "A1"),
    ("04-20 12:10", "S11", "B1"),
    ("04-21 12:05", None, "A1"),
    ("04-21 12:10", None, "X3"),
    ("04-21 12:10", "S12", "A2"),
    ("04-21 12:10", "S13", "X7"),
    ("04-21 12:10", "S31", "D1"),
    ("04-21 12:10", "S31", "E1"),
    ("04-21 12:10", "S40", "X1"),
    ("04-21 12:20", None, "X7"),
    ("04-22 12:10", "S11", "C1"),
    ("04-22 12:10", "S33", "X2"),
    ("04-22 12:11", None, "X2"),
    ("04-22 12:14", None, "C1"),
    ("04-22 12:30", None, "X4"),
    ("04-23 12:10", "S11", "X6"),
    ("04-23 12:30", None, "D1"),
    ("04-24 12:10", "S21", "X8"),
    ("04-24 12:10", "S31", "X9"),
    ("04-24 12:30", None, "A2"),
    ("04-24 12:30", None, "E1"),
    ("04-25 12:30", None, "X1"),
    ("04-27 12:10", "S12", "A1"),
    ("04-27 12:10", "S32", "D1"),
    ("04-27 12:10", "S32", "A2"),
    ("04-27 12:30", None, "X6"),
    ("04-27 12:30", None, "X9"),
    ("04-28 12:10", "S12", "C1"),
    ("04-28 12:10", "T01", "E1"),
    ("04-28 12:30", None, "X8"),
    ("04-29 12:10", "S21", "X7"),
    ("04-29 12:30", None, "A1"),
    ("04-30 12:30", None, "C1"),
    ("04-30 12:30", None, "D1"),
    ("05-04 07:50", "S12", "X5"),
]


def settings_of(folder: Path) -> config.Settings:
    """Return the school's settings: its name, no devices, no borrowing limits in the way."""
    return config.from_dict(
        {
            "store": {"path": str(folder / "kiosk.db")},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
            "web": {"enabled": False},
            "kiosk": {"school": "实验小学"},
            "rules": {
                "max_loans": {"student": 10, "teacher": 10, "helper": 10, "librarian": 10},
                "max_loans_by_grade": {},
                "block_when_overdue": False,
            },
        },
        base_dir=folder,
    )


def build(folder: Path) -> tuple[Store, config.Settings]:
    """Make the school, its two grade lists and the loans of the table."""
    settings = settings_of(folder)
    clock = FakeClock("2026-04-01T09:00:00+08:00")
    store = open_store(settings, clock)
    with store.write() as db:
        for pid, name, role, grade, cls in PATRONS:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [f"0F0000{pid}"], store.now())
        for barcode, title, isbn in ITEMS:
            put_item(db, {"barcode": barcode, "title": title, "isbn": isbn}, store.now())
    for grade, barcodes in LISTS.items():
        form = lists.ListForm(f"{grade}年级推荐书目", grade, "2026春", 0)
        list_id = lists.save_list(store, form, 6, "t").events[0].data["list"]
        for barcode in barcodes:
            ok(lists.add_title(store, list_id, barcode, "t"))
    c = Circulation(store, "Asia/Shanghai")
    for when, patron, barcode in LOANS:
        at = dt.datetime.fromisoformat(f"2026-{when.replace(' ', 'T')}:00").replace(tzinfo=TZ)
        assert at >= clock.now(), when  # the table is in time order
        clock.advance((at - clock.now()).total_seconds())
        ok(c.checkout(patron, barcode) if patron else c.checkin(barcode))
    with store.write() as db:  # 周离校 left the school after the festival: on no roll now
        row = {"id": "S40", "name": "周离校", "role": "student", "grade": 4}
        put_patron(db, {**row, "class_name": "四(1)班", "status": "left"}, [], store.now())
    return store, settings
