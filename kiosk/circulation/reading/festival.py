"""Who earns a reading star in a period, and the festival's figures beside the weeks before.

The figures per class: students on the roll, loans made in the period (every loan, as the
reading figures report counts them), readers (students who borrowed), titles of the grade's
list read (a title counts once per child, by the stars' rule of a book read) and stars. The
comparison is the same number of days just before the period: for a festival of whole weeks,
the same number of weeks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import class_order, day_start
from kiosk.circulation.order import name_key
from kiosk.circulation.reading.stars import kept_overnight, list_titles, loans_of
from kiosk.circulation.stats.reading import roster
from kiosk.circulation.store import Store

# The figures shown beside those of the days before the period.
COMPARED = ("loans", "readers", "list_titles")


@dataclass
class Child:
    """A student's reading in a period: books read (kept overnight) and list titles read."""

    id: str
    name: str
    grade: int | None
    class_name: str
    loans: int = 0
    books: int = 0
    list_titles: int = 0


@dataclass
class Figures:
    """A class's, a grade's or the school's festival figures, with the weeks before."""

    name: str
    grade: int | None = None
    students: int = 0
    loans: int = 0
    readers: int = 0
    list_titles: int = 0
    stars: int = 0
    before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPARED, 0))

    def add(self, other: Figures) -> None:
        """Add another class's figures to these."""
        self.students += other.students
        self.loans += other.loans
        self.readers += other.readers
        self.list_titles += other.list_titles
        self.stars += other.stars
        for k in COMPARED:
            self.before[k] += other.before[k]


def dates(rules: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """Return saved rules' first and last day."""
    return dt.date.fromisoformat(rules["first_day"]), dt.date.fromisoformat(rules["last_day"])


def before(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """Return the same number of days just before a period."""
    days = (last - first).days + 1
    return first - dt.timedelta(days=days), first - dt.timedelta(days=1)


def reading(store: Store, first: dt.date, last: dt.date, tz: ZoneInfo) -> list[Child]:
    """Return every student on the roll with their loans, books and list titles of a period."""
    db = store.reader
    since, until = day_start(first, tz), day_start(last + dt.timedelta(days=1), tz)
    children = {
        r["id"]: Child(r["id"], r["name"], r["grade"], r["class_name"] or "-")
        for r in roster(store)
    }
    read: dict[str, list[dict[str, Any]]] = {}
    for loan in loans_of(db, since, until):
        child = children.get(loan["patron_id"])
        if child is None:
            continue
        child.loans += 1
        if kept_overnight(loan["checked_out_at"], loan["returned_at"], tz):
            child.books += 1
            read.setdefault(child.id, []).append(loan)
    lists: dict[int, list[dict[str, Any]]] = {}
    for pid, loans in read.items():
        grade = children[pid].grade
        if grade is None:
            continue
        if grade not in lists:
            lists[grade] = list_titles(db, grade)
        # A list title is read when the child read any copy: by its ISBN, else by its title.
        isbns = {r["isbn"] for r in loans if r["isbn"]}
        names = {r["title"] for r in loans}
        children[pid].list_titles = sum(
            (t["isbn"] in isbns) if t["isbn"] else (t["title"] in names) for t in lists[grade]
        )
    return list(children.values())


def stars(children: list[Child], rules: dict[str, Any]) -> list[tuple[str, list[Child]]]:
    """Return each class's stars, best first, in class order (classes with none left out)."""
    by_class: dict[str, list[Child]] = {}
    for c in children:
        if c.books >= rules["min_books"] and c.list_titles >= rules["min_list"]:
            by_class.setdefault(c.class_name, []).append(c)
    found = []
    for name in sorted(by_class, key=class_order):
        best = sorted(by_class[name], key=lambda c: (-c.books, -c.list_titles, name_key(c.name)))
        if rules["top"]:
            # Everyone tied with the last place kept is a star too.
            cut = best[: rules["top"]][-1]
            best = [c for c in best if (c.books, c.list_titles) >= (cut.books, cut.list_titles)]
        found.append((name, best))
    return found


def figures(store: Store, rules: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Return the festival's figures per class, per grade and for the school, with the same
    number of days before the period beside them."""
    first, last = dates(rules)
    now = reading(store, first, last, tz)
    earlier = {c.id: c for c in reading(store, *before(first, last), tz)}
    starred = {c.id for _, cs in stars(now, rules) for c in cs}
    classes: dict[str, Figures] = {}
    for c in now:
        f = classes.setdefault(c.class_name, Figures(c.class_name, c.grade))
        f.grade = f.grade if f.grade is not None else c.grade
        f.students += 1
        f.loans += c.loans
        f.readers += 1 if c.loans else 0
        f.list_titles += c.list_titles
        f.stars += 1 if c.id in starred else 0
        e = earlier[c.id]
        f.before["loans"] += e.loans
        f.before["readers"] += 1 if e.loans else 0
        f.before["list_titles"] += e.list_titles
    ordered = sorted(classes.values(), key=lambda f: class_order(f.name))
    grades: dict[int | None, Figures] = {}
    school = Figures("")
    for f in ordered:
        grades.setdefault(f.grade, Figures("", f.grade)).add(f)
        school.add(f)
    return {
        "classes": ordered,
        "grades": [grades[g] for g in sorted(grades, key=lambda g: (g is None, g or 0))],
        "school": school,
        "before": before(first, last),
    }
