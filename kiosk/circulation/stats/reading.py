"""Reading statistics of a period: per class, per grade and for the school.

A class's figures count its students (role student, not left): loans they made in the period,
how many of them borrowed (readers), loans per student (so a small class is not punished in a
ranking), who borrowed nothing, and how many hold an active card (coverage). Visits are the
sessions a student's card opened at the kiosk (`visit` events, whether or not a book was lent);
a helper's desk mode, a lend-for at the desk and a return without a card are nobody's visit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import class_order
from kiosk.circulation.order import name_key
from kiosk.circulation.stats import Period, cached, catalogue, memo
from kiosk.circulation.store import Store
from kiosk.i18n import N_

# 中图法 (Chinese Library Classification): the first letter of the call number.
SUBJECTS = {
    "A": N_("Marxism, Leninism, Mao Zedong Thought"),
    "B": N_("Philosophy and religion"),
    "C": N_("Social sciences"),
    "D": N_("Politics and law"),
    "E": N_("Military science"),
    "F": N_("Economics"),
    "G": N_("Culture, science, education and sports"),
    "H": N_("Languages"),
    "I": N_("Literature"),
    "J": N_("Arts"),
    "K": N_("History and geography"),
    "N": N_("Natural sciences"),
    "O": N_("Mathematics, physics and chemistry"),
    "P": N_("Astronomy and earth sciences"),
    "Q": N_("Life sciences"),
    "R": N_("Medicine and health"),
    "S": N_("Agriculture"),
    "T": N_("Technology"),
    "U": N_("Transport"),
    "V": N_("Aviation and space"),
    "X": N_("Environment and safety"),
    "Z": N_("General works"),
}
OTHER_SUBJECT = N_("Not classified")
ROSTER = "role = 'student' AND status != 'left'"


def subject_of(call_number: str) -> str:
    """Return the 中图法 letter of a call number, or '' when it has none."""
    letter = (call_number or "").strip()[:1].upper()
    return letter if letter in SUBJECTS else ""


@dataclass
class ClassFigures:
    """One class's (or grade's, or the school's) figures for a period."""

    name: str
    grade: int | None
    students: int = 0
    with_card: int = 0
    loans: int = 0
    readers: int = 0
    visits: int = 0
    patrons: list[str] = field(default_factory=list, repr=False)

    @property
    def per_student(self) -> float:
        """Return loans per student, 0 for an empty class."""
        return round(self.loans / self.students, 2) if self.students else 0.0

    @property
    def non_readers(self) -> int:
        """Return how many students borrowed nothing."""
        return self.students - self.readers

    @property
    def coverage(self) -> float:
        """Return the share of students with an active card, in percent."""
        return round(100 * self.with_card / self.students, 1) if self.students else 0.0

    def row(self) -> dict[str, Any]:
        """Return the figures as a report row."""
        return {
            "name": self.name,
            "grade": self.grade,
            "students": self.students,
            "loans": self.loans,
            "readers": self.readers,
            "per_student": self.per_student,
            "non_readers": self.non_readers,
            "with_card": self.with_card,
            "coverage": self.coverage,
            "visits": self.visits,
        }


ROLL = (
    "SELECT p.id, p.name, p.grade, p.class_name, EXISTS (SELECT 1 FROM cards c "
    "WHERE c.patron_id = p.id AND c.status = 'active') "
    f"FROM patrons p WHERE {ROSTER}"
)
ITEMS = "SELECT barcode, title, author, upper(substr(ltrim(call_number), 1, 1)) FROM items"


def roll(store: Store) -> list[tuple[str, str, int | None, str, int]]:
    """Return every student on the roll: id, name, grade, class, whether they hold a card."""
    return catalogue(store, "patrons", ROLL)


def roster(store: Store) -> list[dict[str, Any]]:
    """Return every student on the roll as rows, with whether they hold an active card."""
    keys = ("id", "name", "grade", "class_name", "has_card")
    return [dict(zip(keys, r, strict=True)) for r in roll(store)]


def per_patron(store: Store, period: Period, tz: ZoneInfo) -> dict[str, tuple[int, int]]:
    """Return each patron's loans and visits (sessions their card opened) in the period."""
    since, until = period.bounds(tz)
    loans = cached(
        store,
        "SELECT patron_id, count(*) FROM loans "
        "WHERE checked_out_at >= ? AND checked_out_at < ? GROUP BY patron_id",
        (since, until),
    )
    visits = cached(
        store,
        "SELECT patron_id, count(*) FROM events "
        "WHERE at >= ? AND at < ? AND type = 'visit' GROUP BY patron_id",
        (since, until),
    )
    counts = {pid: (n, 0) for pid, n in loans}
    for pid, n in visits:
        counts[pid] = (counts.get(pid, (0, 0))[0], n)
    return counts


def loans_by_patron(store: Store, period: Period, tz: ZoneInfo) -> dict[str, int]:
    """Return each patron's number of loans made in the period (only those who borrowed)."""
    return {pid: n for pid, (n, _) in per_patron(store, period, tz).items() if n}


def lent_items(store: Store, period: Period, tz: ZoneInfo) -> list[tuple[str, int]]:
    """Return each item lent in the period with its number of loans."""
    since, until = period.bounds(tz)
    return cached(
        store,
        "SELECT item_barcode, count(*) FROM loans WHERE checked_out_at >= ? "
        "AND checked_out_at < ? GROUP BY item_barcode",
        (since, until),
    )


def items(store: Store) -> dict[str, tuple[str, str, str]]:
    """Return the catalogue in memory: barcode -> title, author, 中图法 letter.

    Looking titles up here costs less than a lookup per copy in SQL, and the catalogue is read
    again only after a title, author or call number changed.
    """
    found: dict[str, tuple[str, str, str]] = catalogue(store, "items", ITEMS, by_key=True)
    return found


def by_class(store: Store, period: Period, tz: ZoneInfo) -> list[ClassFigures]:
    """Return each class's figures for the period, in class order (三(2)班 before 四(1)班)."""
    counts = per_patron(store, period, tz)
    classes: dict[str, ClassFigures] = {}
    none = (0, 0)
    for pid, _name, grade, class_name, has_card in roll(store):
        name = class_name or "-"
        c = classes.get(name)
        if c is None:
            c = classes[name] = ClassFigures(name, grade)
        n, visits = counts.get(pid, none)
        c.students += 1
        c.with_card += 1 if has_card else 0
        c.loans += n
        c.readers += 1 if n else 0
        c.visits += visits
        c.patrons.append(pid)
        if c.grade is None:
            c.grade = grade
    return sorted(classes.values(), key=lambda c: class_order(c.name))


def total(figures: list[ClassFigures], name: str, grade: int | None = None) -> ClassFigures:
    """Return the sum of several classes' figures under one name."""
    t = ClassFigures(name, grade)
    for c in figures:
        t.students += c.students
        t.with_card += c.with_card
        t.loans += c.loans
        t.readers += c.readers
        t.visits += c.visits
        t.patrons.extend(c.patrons)
    return t


def by_grade(classes: list[ClassFigures]) -> list[ClassFigures]:
    """Return the figures per grade, from the classes' figures."""
    grades: dict[int | None, list[ClassFigures]] = {}
    for c in classes:
        grades.setdefault(c.grade, []).append(c)
    return [
        total(cs, str(g) if g is not None else "-", g)
        for g, cs in sorted(grades.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]


def non_borrowers(
    store: Store, period: Period, tz: ZoneInfo, class_name: str = ""
) -> list[dict[str, Any]]:
    """Return the students who borrowed nothing in the period, by class and name."""
    loans = loans_by_patron(store, period, tz)
    rows = [
        (cls, name, pid)
        for pid, name, _grade, cls, _card in roll(store)
        if pid not in loans and (not class_name or cls == class_name)
    ]
    order = {c: class_order(c) for c in {r[0] for r in rows}}
    rows.sort(key=lambda r: (order[r[0]], name_key(r[1]), r[2]))
    return [{"class_name": c, "name": n, "id": i} for c, n, i in rows]


def collection(store: Store, period: Period, tz: ZoneInfo) -> dict[str, Any]:
    """Return the collection's figures: holdings, loans, turnover and share ever lent."""
    holdings = store.value("SELECT count(*) FROM items WHERE status NOT IN ('withdrawn', 'lost')")
    lent = lent_items(store, period, tz)
    loans = sum(n for _, n in lent)
    return {
        "holdings": holdings,
        "loans": loans,
        "items_lent": len(lent),
        # Loans per book held: the usual "circulation rate" of a school library's annual report.
        "rate": round(loans / holdings, 2) if holdings else 0.0,
        "share_lent": round(100 * len(lent) / holdings, 1) if holdings else 0.0,
    }


def what_was_read(
    store: Store, period: Period, tz: ZoneInfo
) -> tuple[dict[tuple[str, str], list[int]], dict[str, int]]:
    """Return loans and copies per title (title, author), and loans per 中图法 letter."""

    def count() -> tuple[dict[tuple[str, str], list[int]], dict[str, int]]:
        known, none = items(store), ("", "", "")
        titles: dict[tuple[str, str], list[int]] = {}
        letters: dict[str, int] = {}
        # One pass over the period's items for both: a term of a grown store lends 40,000.
        for barcode, n in lent_items(store, period, tz):
            title, author, letter = known.get(barcode, none)
            t = titles.get((title, author))
            if t is None:
                titles[title, author] = [n, 1]
            else:
                t[0] += n
                t[1] += 1
            letters[letter] = letters.get(letter, 0) + n
        return titles, letters

    return memo(store, "what_was_read", period.bounds(tz), count)


def by_subject(store: Store, period: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Return loans per 中图法 class (the call number's first letter), most first."""
    counts: dict[str, int] = {}
    for letter, n in what_was_read(store, period, tz)[1].items():
        key = letter if letter in SUBJECTS else ""
        counts[key] = counts.get(key, 0) + n
    return [
        {"letter": k, "subject": SUBJECTS.get(k, OTHER_SUBJECT), "loans": n}
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    ]
