"""Overdue chasing: the list per class, escalation levels, parents' notices and their record.

Levels by days overdue: 1 a reminder (the helpers tell the child), 2 the class teacher's list,
3 a notice to the parents. Each printed parents' notice is a `notice_printed` event (projected
into `notices`), so the librarian sees what was already sent, and when.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.commands import (
    NoticePrinted,
    RecordNoticesPrinted,
    SetNoticeLevels,
    SetNoticeText,
)
from kiosk.circulation.dashboard import class_order
from kiosk.circulation.decide import NOTICE_MOST_DAYS, NOTICE_PLACEHOLDERS
from kiosk.circulation.decide import levels_problems as levels_problems  # the form checks
from kiosk.circulation.decide import template_problem as template_problem  # the form checks
from kiosk.circulation.handler import handle
from kiosk.circulation.order import name_key
from kiosk.circulation.schemas import is_utc_stamp
from kiosk.circulation.store import Store
from kiosk.i18n import N_

# (first day overdue of the level, its name): a level holds until the next one starts. The
# librarian can move the second and third (`set_levels`); these are the days until then.
LEVELS = ((1, N_("Reminder")), (8, N_("Class teacher")), (21, N_("Parents")))
TEMPLATE_KEY = "parents_notice"
DEFAULT_LEVELS = tuple(first for first, _ in LEVELS)
LEVELS_KEY = "levels"
MOST_DAYS = NOTICE_MOST_DAYS
RANGE = N_("Write a number from {low} to {high}.")
# The school's text on every parents' notice until the librarian writes their own.
DEFAULT_TEMPLATE = (
    "尊敬的{name}同学家长：\n"
    "您的孩子（{class_name}）从学校图书馆借阅的以下{count}本图书已经超过归还日期。"
    "请提醒孩子尽快把书还到图书馆。如果图书已经遗失或损坏，请与图书管理员联系。谢谢您的配合！"
)
PLACEHOLDERS = NOTICE_PLACEHOLDERS
# Who gets a reminder of their own instead of a notice to their parents: the adults.
STAFF_ROLES = ("teacher", "librarian")
STAFF = ""  # the group of the adults' loans in the lists, after every class
NO_CLASS = "-"  # the group of students without a class


def levels(store: Store) -> tuple[int, ...]:
    """Return the first day overdue of each level, as the librarian set them."""
    raw = store.value("SELECT body FROM report_texts WHERE key = ?", [LEVELS_KEY])
    try:
        days = tuple(int(d) for d in json.loads(raw)) if raw else ()
    except (TypeError, ValueError):
        days = ()
    return days if len(days) == len(LEVELS) else DEFAULT_LEVELS


def level_of(days_overdue: int, firsts: tuple[int, ...] = DEFAULT_LEVELS) -> int:
    """Return the escalation level of a loan that is this many days overdue."""
    return max([i + 1 for i, first in enumerate(firsts) if days_overdue >= first] or [0])


def set_levels(store: Store, teacher: int, parents: int, actor: str) -> None:
    """Save the days overdue from which the teacher, then the parents, are told (one event)."""
    done = handle(store, SetNoticeLevels(teacher, parents, actor))
    if done.refusal is not None:
        raise ValueError(f"levels must be 2 <= {teacher} < {parents} <= {MOST_DAYS}")


def level_name(level: int) -> str:
    """Return a level's name (a catalog id)."""
    return LEVELS[level - 1][1] if 1 <= level <= len(LEVELS) else ""


def overdue_loans(
    store: Store, tz: ZoneInfo, class_name: str = "", min_level: int = 1
) -> list[dict[str, Any]]:
    """Return open overdue loans (with level and last notice) by class, name and due date."""
    now = store.clock.now()
    rows = store.query(
        "SELECT p.class_name, p.name, p.id AS patron_id, p.grade, p.role, i.title, i.barcode, "
        "i.call_number, l.uuid AS loan_uuid, l.checked_out_at, l.due_at, "
        "(SELECT max(printed_at) FROM notices n WHERE n.patron_id = p.id) AS notice_at "
        "FROM loans l JOIN patrons p ON p.id = l.patron_id "
        "JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.returned_at IS NULL AND l.due_at < ? AND (? = '' OR p.class_name = ?)",
        [store.now(), class_name, class_name],
    )
    today = now.astimezone(tz).date()
    firsts = levels(store)
    result = []
    for r in rows:
        if not is_utc_stamp(r["due_at"]):
            continue  # a bad record from a store before the hub's checks: the loan page shows it
        # Days counted by the school's calendar: due yesterday is one day overdue.
        r["days_overdue"] = max(1, (today - parse_stamp(r["due_at"]).astimezone(tz).date()).days)
        r["level"] = level_of(r["days_overdue"], firsts)
        if r["level"] >= min_level:
            result.append(r)
    return sorted(
        result, key=lambda r: (class_order(r["class_name"]), name_key(r["name"]), r["due_at"])
    )


def is_staff(row: dict[str, Any]) -> bool:
    """Return whether a borrower is an adult (a teacher or librarian), not a child."""
    return row.get("role") in STAFF_ROLES


def group_of(row: dict[str, Any]) -> str:
    """Return the group an overdue loan is listed in: its class, the staff, or no class."""
    if is_staff(row):
        return STAFF
    return str(row["class_name"] or NO_CLASS)


def by_class(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Group overdue loans by class, in class order; the staff's loans last, as one group."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(group_of(r), []).append(r)
    return sorted(groups.items(), key=lambda kv: (kv[0] == STAFF, class_order(kv[0])))


def by_student(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group overdue loans per student: one parents' notice each, with the highest level."""
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = people.setdefault(
            r["patron_id"],
            {
                "patron_id": r["patron_id"],
                "name": r["name"],
                "class_name": r["class_name"],
                "role": r.get("role", "student"),
                "notice_at": r["notice_at"],
                "level": 0,
                "books": [],
            },
        )
        p["level"] = max(p["level"], r["level"])
        p["books"].append(r)
    return sorted(
        people.values(), key=lambda p: (class_order(p["class_name"]), name_key(p["name"]))
    )


def already_noticed(student: dict[str, Any]) -> bool:
    """Return whether a parents' notice was recorded after every one of these books fell due."""
    latest_due = max(b["due_at"] for b in student["books"])
    return bool(student["notice_at"]) and student["notice_at"] > latest_due


def template(store: Store) -> str:
    """Return the text of the parents' notice, as the librarian last wrote it."""
    body = store.value("SELECT body FROM report_texts WHERE key = ?", [TEMPLATE_KEY])
    return str(body) if body else DEFAULT_TEMPLATE


def fill(body: str, student: dict[str, Any], day: dt.date) -> str:
    """Return a notice text with the student's name, class, number of books and the date."""
    text = body.format(
        name=student["name"],
        class_name=student["class_name"] or "",
        count=len(student["books"]),
        date=day.isoformat(),
    )
    # A student without a class: no empty brackets where the class would be.
    return text if student["class_name"] else text.replace("（）", "").replace("()", "")


def set_template(store: Store, body: str, actor: str) -> None:
    """Save the parents' notice text (one event, projected into report_texts)."""
    done = handle(store, SetNoticeText(body, actor))
    if done.refusal is not None:
        message, params = done.refusal.params["message"], done.refusal.params["params"]
        raise ValueError(message.format(**params) if params else message)


def record_printed(store: Store, students: list[dict[str, Any]], actor: str) -> int:
    """Record that these students' parents' notices were printed; one event each, one write."""
    notices = tuple(
        NoticePrinted(
            s["patron_id"], s["level"], tuple(b["loan_uuid"] for b in s["books"]), s["class_name"]
        )
        for s in students
    )
    handle(store, RecordNoticesPrinted(notices, actor))
    return len(students)


def printed(store: Store, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Return the notices printed, newest first, with the student's name and class."""
    return store.query(
        "SELECT n.printed_at, n.level, n.books, n.actor, n.patron_id, p.name, p.class_name "
        "FROM notices n LEFT JOIN patrons p ON p.id = n.patron_id "
        "ORDER BY n.printed_at DESC, p.class_name COLLATE school, p.name COLLATE pinyin "
        "LIMIT ? OFFSET ?",
        [limit, offset],
    )


def printed_count(store: Store) -> int:
    """Return how many parents' notices have been printed."""
    return int(store.value("SELECT count(*) FROM notices") or 0)
