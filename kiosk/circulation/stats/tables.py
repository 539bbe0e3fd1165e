"""Every report as a table (columns and rows) by name: what `kiosk report NAME` and the pages'
CSV and XLSX downloads write. Column titles and stored values are turned into the asked language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.stats import Period, books, overdue, rankings, reading, student
from kiosk.circulation.store import Store
from kiosk.errors import MessageError
from kiosk.i18n import N_, translate


class ReportError(MessageError, ValueError):
    """A report that cannot be made as asked; `message` is a catalog id, `params` fill it in."""


@dataclass(frozen=True)
class Ask:
    """What a report is asked for: the period, a class, a student's card, the language."""

    period: Period
    class_name: str = ""
    card: str = ""
    lang: str = "zh_CN"
    limit: int = 20


@dataclass
class Table:
    """A report ready to write: its title, its columns (key, title) and its rows."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def headers(self, lang: str) -> list[str]:
        """Return the column titles in a language."""
        return [translate(label, lang) for _, label in self.columns]

    def values(self) -> list[list[Any]]:
        """Return the rows as lists in column order."""
        return [[r.get(k) for k, _ in self.columns] for r in self.rows]


FIGURES = [
    ("name", N_("Class")),
    ("students", N_("Students")),
    ("loans", N_("Loans")),
    ("readers", N_("Readers")),
    ("per_student", N_("Loans per student")),
    ("non_readers", N_("Borrowed nothing")),
    ("with_card", N_("With a card")),
    ("coverage", N_("Card coverage %")),
    ("visits", N_("Visits")),
]


def _day(stamp: str | None, tz: ZoneInfo) -> str:
    return parse_stamp(stamp).astimezone(tz).date().isoformat() if stamp else ""


def classes(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Each class's figures, then the school's."""
    figures = reading.by_class(store, ask.period, tz)
    if ask.class_name:
        figures = [c for c in figures if c.name == ask.class_name]
    rows = [c.row() for c in figures]
    rows.append(reading.total(figures, translate(N_("Whole school"), ask.lang)).row())
    return Table(N_("Reading by class"), FIGURES, rows)


def grades(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Each grade's figures."""
    rows = [g.row() for g in reading.by_grade(reading.by_class(store, ask.period, tz))]
    return Table(N_("Reading by grade"), [("name", N_("Grade")), *FIGURES[1:]], rows)


def ranking(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Classes ranked by loans per student."""
    rows = rankings.class_ranking(store, ask.period, tz)
    return Table(
        N_("Class ranking"),
        [("rank", N_("Rank")), *FIGURES[:5]],
        rows,
    )


def coverage(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Students with an active card, per class."""
    table = classes(store, tz, ask)
    wanted = ("name", "students", "with_card", "coverage")
    table.columns = [c for c in FIGURES if c[0] in wanted]
    table.title = N_("Card coverage")
    return table


def overdue_list(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Open overdue loans by class, with days overdue and the escalation level."""
    rows = overdue.overdue_loans(store, tz, ask.class_name)
    for r in rows:
        r["due_day"] = _day(r["due_at"], tz)
        r["level_name"] = translate(overdue.level_name(r["level"]), ask.lang)
        r["notice_day"] = _day(r["notice_at"], tz)
    return Table(
        N_("Overdue books"),
        [
            ("class_name", N_("Class")),
            ("name", N_("Student")),
            ("title", N_("Book")),
            ("barcode", N_("Barcode")),
            ("due_day", N_("Due")),
            ("days_overdue", N_("Days overdue")),
            ("level_name", N_("Level")),
            ("notice_day", N_("Notice printed")),
        ],
        rows,
    )


def top_books(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """The most borrowed titles."""
    rows = rankings.top_books(store, ask.period, tz, ask.limit)
    for i, r in enumerate(rows, start=1):
        r["place"] = i
    return Table(
        N_("Most borrowed books"),
        [
            ("place", N_("Rank")),
            ("title", N_("Title")),
            ("author", N_("Author")),
            ("loans", N_("Loans")),
            ("copies", N_("Copies")),
        ],
        rows,
    )


def top_readers(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """The three best readers of each class."""
    rows = [
        {**r, "place": i}
        for _, people in rankings.top_readers(store, ask.period, tz, "class", 3)
        for i, r in enumerate(people, start=1)
        if not ask.class_name or r["class_name"] == ask.class_name
    ]
    return Table(
        N_("Top readers"),
        [
            ("class_name", N_("Class")),
            ("place", N_("Rank")),
            ("name", N_("Student")),
            ("loans", N_("Loans")),
        ],
        rows,
    )


def new_books(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Titles added in the period, by 中图法 class."""
    rows = []
    for _letter, subject, titles in books.by_subject(books.new_books(store, ask.period, tz)):
        for r in titles:
            day = _day(r["added_at"], tz)
            rows.append({**r, "subject": translate(subject, ask.lang), "day": day})
    return Table(
        N_("New books"),
        [
            ("letter", N_("CLC")),
            ("subject", N_("Subject")),
            ("title", N_("Title")),
            ("author", N_("Author")),
            ("call_number", N_("Call number")),
            ("copies", N_("Copies")),
            ("day", N_("Added")),
        ],
        rows,
    )


def non_borrowers(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Students who borrowed nothing in the period."""
    rows = reading.non_borrowers(store, ask.period, tz, ask.class_name)
    return Table(
        N_("Students who borrowed nothing"),
        [("class_name", N_("Class")), ("name", N_("Student")), ("id", N_("Id"))],
        rows,
    )


def subjects(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Loans per 中图法 class."""
    rows = [
        {**r, "subject": translate(r["subject"], ask.lang)}
        for r in reading.by_subject(store, ask.period, tz)
    ]
    return Table(
        N_("Loans by subject"),
        [("letter", N_("CLC")), ("subject", N_("Subject")), ("loans", N_("Loans"))],
        rows,
    )


def student_record(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Everything one student borrowed (the student named by card, card number or id)."""
    if not ask.card:
        raise ReportError(N_("Name the student (--card, their card or id)."))
    p = student.patron_by_card(store, ask.card)
    if p is None:
        raise ReportError(N_("No patron has the card or id {card}."), card=ask.card or "-")
    rows = student.reading_record(store, p["id"], tz)
    for r in rows:
        r.update(
            name=p["name"],
            class_name=p["class_name"],
            out=_day(r["checked_out_at"], tz),
            back=_day(r["returned_at"], tz),
        )
    return Table(
        N_("Reading record"),
        [
            ("name", N_("Student")),
            ("class_name", N_("Class")),
            ("school_year", N_("School year")),
            ("term", N_("Term")),
            ("title", N_("Title")),
            ("author", N_("Author")),
            ("out", N_("Borrowed")),
            ("back", N_("Returned")),
        ],
        rows,
    )


def class_summary(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Each student of a class: loans and titles in the period, overdue now."""
    if not ask.class_name:
        raise ReportError(N_("Name the class (--class)."))
    rows = student.class_summary(store, ask.class_name, ask.period, tz)
    return Table(
        N_("Class summary"),
        [
            ("class_name", N_("Class")),
            ("name", N_("Student")),
            ("loans", N_("Loans")),
            ("titles", N_("Titles")),
            ("overdue", N_("Overdue now")),
        ],
        rows,
    )


def notices(store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Parents' notices printed so far, newest first."""
    rows = overdue.printed(store, limit=10_000)
    for r in rows:
        r["day"] = _day(r["printed_at"], tz)
        r["level_name"] = translate(overdue.level_name(r["level"]), ask.lang)
    return Table(
        N_("Notices printed"),
        [
            ("day", N_("Printed")),
            ("class_name", N_("Class")),
            ("name", N_("Student")),
            ("books", N_("Books")),
            ("level_name", N_("Level")),
        ],
        rows,
    )


REPORTS: dict[str, Callable[[Store, ZoneInfo, Ask], Table]] = {
    "classes": classes,
    "grades": grades,
    "ranking": ranking,
    "coverage": coverage,
    "overdue": overdue_list,
    "top-books": top_books,
    "top-readers": top_readers,
    "new-books": new_books,
    "non-borrowers": non_borrowers,
    "subjects": subjects,
    "student": student_record,
    "class-summary": class_summary,
    "notices": notices,
}


def make(name: str, store: Store, tz: ZoneInfo, ask: Ask) -> Table:
    """Return one report by name."""
    if name not in REPORTS:
        raise ReportError(
            N_("There is no report {name}. Reports: {names}."),
            name=name,
            names=", ".join(REPORTS),
        )
    return REPORTS[name](store, tz, ask)
