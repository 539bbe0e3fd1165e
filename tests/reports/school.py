"""A generated school whose reading figures are known exactly (see the table in `build`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store

TZ = "Asia/Shanghai"
PATRONS = [
    # id, name, role, grade, class, cards
    ("S11", "王小明", "student", 3, "三(1)班", ["0F00000011"]),
    ("S12", "李雨涵", "student", 3, "三(1)班", ["0F00000012"]),
    ("S13", "张晨", "student", 3, "三(1)班", ["0F00000013"]),
    ("S14", "刘一诺", "student", 3, "三(1)班", ["0F00000014"]),
    ("S21", "陈思博", "student", 3, "三(2)班", ["0F00000021"]),
    ("S22", "杨佳怡", "student", 3, "三(2)班", []),
    ("S31", "黄子涵", "student", 4, "四(1)班", ["0F00000031"]),
    ("S32", "赵天乐", "student", 4, "四(1)班", ["0F00000032"]),
    ("S33", "吴可心", "student", 4, "四(1)班", ["0F00000033"]),
    ("S40", "周离校", "student", 4, "四(1)班", ["0F00000040"]),  # left: on no roll
    ("T01", "陈老师", "teacher", None, "三(1)班", ["0F000000A1"]),
]
ITEMS = [
    ("B1", "小王子", "圣埃克苏佩里", "I565.88/1"),
    ("B2", "小王子", "圣埃克苏佩里", "I565.88/2"),
    ("B3", "草房子", "曹文轩", "I287.45/3"),
    ("B4", "上下五千年", "林汉达", "K220.9/4"),
    ("B5", "昆虫记", "法布尔", "Q96/5"),
    ("B6", "青铜葵花", "曹文轩", "I287.45/6"),
    ("B7", "无索书号", "佚名", ""),
    ("B8", "编程真好玩", "乔恩", "TP311/8"),
]


@dataclass
class School:
    """The built school: its store, clock, service and settings."""

    store: Store
    clock: FakeClock
    circulation: Circulation
    settings: config.Settings

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.store, self.clock, self.circulation))


def build(folder: Path) -> School:
    """Make the school and its loans; the clock is left at 2026-11-03 10:00 in Beijing.

    | day (Beijing)    | what happens                                                    |
    |------------------|-----------------------------------------------------------------|
    | 10-30 (Fri) 9:00 | S11 borrows B3 (an October loan)                                |
    | 11-02 (Mon) 9:00 | S11 returns B3; S11 B1 B4; S12 B5; S21 B2 B6; S22 B8; S31 B7;   |
    |                  | T01 B3                                                          |
    | 11-03 (Tue) 9:00 | S11 returns B1; S12 borrows B1                                  |

    November, students only: 三(1)班 4 loans (S11 2, S12 2) of 4 students; 三(2)班 3 loans
    (S21 2, S22 1) of 2; 四(1)班 1 loan (S31) of 3 (S40 has left). Students due back 11-16 (14
    days), S12's B1 11-17; T01's B3 12-02 (30 days).

    Visits (a card opening a session; a return needs none): each borrower's session before
    borrowing (T01 too, on no roll); on 11-02 S13 visits and borrows nothing, and S11 comes
    back for a second session. November: 三(1)班 5 (S11 2, S12 2, S13 1), 三(2)班 2, 四(1)班 1;
    October: 三(1)班 1 (S11).
    """
    settings = config.from_dict(
        {
            "store": {"path": str(folder / "kiosk.db")},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
            "web": {"enabled": False},
            "rules": {
                "max_loans": {"student": 10, "teacher": 10, "helper": 10, "librarian": 10},
                "max_loans_by_grade": {},
                "block_when_overdue": False,
                "term_start": "2026-09-01",
                "term_end": "2027-01-22",
            },
        },
        base_dir=folder,
    )
    clock = FakeClock("2026-10-30T09:00:00+08:00")
    store = open_store(settings, clock)
    with store.write() as db:
        for pid, name, role, grade, cls, cards in PATRONS:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            if pid == "S40":
                row["status"] = "left"
            put_patron(db, row, cards, store.now())
        for barcode, title, author, call in ITEMS:
            put_item(
                db,
                {"barcode": barcode, "title": title, "author": author, "call_number": call},
                store.now(),
            )
    c = Circulation(store, TZ)
    ok(c.visit("S11"))
    ok(c.checkout("S11", "B3"))
    clock.advance(days=3)
    ok(c.checkin("B3"))
    for pid, barcode in [
        ("S11", "B1"),
        ("S11", "B4"),
        ("S12", "B5"),
        ("S21", "B2"),
        ("S21", "B6"),
        ("S22", "B8"),
        ("S31", "B7"),
        ("T01", "B3"),
    ]:
        if barcode not in ("B4", "B6"):  # a second book in the same session
            ok(c.visit(pid))
        ok(c.checkout(pid, barcode))
    ok(c.visit("S13"))
    ok(c.visit("S11"))
    clock.advance(days=1)
    ok(c.checkin("B1"))
    ok(c.visit("S12"))
    ok(c.checkout("S12", "B1"))
    clock.advance(3600)
    return School(store, clock, c, settings)


def ok(result: object) -> None:
    """Fail loudly when the school cannot be built as the table says."""
    assert result is not None and getattr(result, "ok", True), result
