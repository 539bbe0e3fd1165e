"""Badges that reward reading, not speed: simple milestones of a term, each given once.

A loan counts once it lasted `min_hours` (a day by default): returned after that, or still out
that long. A book taken out and back within the day counts nothing, so no child earns a badge
by scanning books out and in. The milestones (config `[reading] badge_milestones`):

- `first_book`: the first book of the term;
- `list_target`: the grade's recommended list's target reached (titles of it read);
- `subjects`: books of `subjects` different 中图法 classes (the call number's first letter).

`award` reads what counts, `decide` (pure) returns a `badge_awarded` event for each milestone
reached and not held yet this term, and its projection keeps the badge in `badges`. The kiosk
shows the badges with the answer that earned them (reading/kiosk_hook.py): a badge held is never
given, so never shown, again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.events import Draft
from kiosk.circulation.handler import handle
from kiosk.circulation.reading.commands import AwardBadges
from kiosk.circulation.reading.lists import grade_list
from kiosk.circulation.reading.progress import titles_read
from kiosk.circulation.store import Event, Store, fetch
from kiosk.config import BADGE_MILESTONES as MILESTONES
from kiosk.i18n import N_, N_plural

# What the child reads on the screen when they earn the badge.
SAID = {
    "first_book": N_("Your first book of the term!"),
    "list_target": N_plural(
        "You read {count} book of your grade's list: target reached!",
        "You read {count} books of your grade's list: target reached!",
    ),
    "subjects": N_plural(
        "You read books of {count} different subject this term!",
        "You read books of {count} different subjects this term!",
    ),
}
# The badge's name, on the screen and on the patron's page of the dashboard.
NAMES = {
    "first_book": N_("First book"),
    "list_target": N_("Grade list target"),
    "subjects": N_("Many subjects"),
}


@dataclass(frozen=True)
class Rules:
    """The badges a school gives: which milestones, how many subjects, how long a loan lasts."""

    milestones: tuple[str, ...] = MILESTONES
    subjects: int = 5
    min_hours: float = 24.0


@dataclass(frozen=True)
class Reading:
    """What counts of a child's reading this term (loans that lasted `min_hours`)."""

    books: int
    subjects: int
    list_done: int = 0
    list_target: int = 0  # 0: no grade list, or an empty one


def decide(
    patron_id: str, term: str, reading: Reading, held: set[str], rules: Rules
) -> list[Draft]:
    """Return a badge for each milestone of `rules` reached this term and not held yet."""
    reached = {
        "first_book": 1 if reading.books >= 1 else 0,
        "list_target": reading.list_done
        if reading.list_target and reading.list_done >= reading.list_target
        else 0,
        "subjects": reading.subjects if reading.subjects >= rules.subjects else 0,
    }
    return [
        Draft(
            "badge_awarded",
            patron_id=patron_id,
            data={"badge": badge, "term": term, "count": reached[badge]},
        )
        for badge in MILESTONES
        if badge in rules.milestones and reached[badge] and badge not in held
    ]


def award(
    store: Store, patron_id: str, grade: int | None, term: str, rules: Rules
) -> tuple[Event, ...]:
    """Give a child the badges they earned this term (from `term`, its first day); return them."""
    # Most card taps earn nothing: one read, and no write transaction for them.
    if not earned(store.reader, patron_id, grade, term, store.now(), rules):
        return ()
    return handle(store, AwardBadges(patron_id, grade, term, rules), actor=patron_id).events


def earned(
    db: Database, patron_id: str, grade: int | None, term: str, now: str, rules: Rules
) -> list[Draft]:
    """Read a child's reading of the term and their badges by `now`; decide."""
    reading = reading_of(db, patron_id, grade, term, now, rules.min_hours)
    return decide(patron_id, term, reading, held(db, patron_id, term), rules)


def shown(event: Event) -> dict[str, Any]:
    """Return what the screen needs of a `badge_awarded` event: the badge and its count."""
    return {"badge": event.data["badge"], "count": int(event.data.get("count", 0))}


# Named queries.


def counted_loans(
    db: Database, patron_id: str, since: str, now: str, min_hours: float
) -> list[dict[str, Any]]:
    """Return the books of a child's loans since `since` that lasted `min_hours` by `now`
    (returned after that long, or still out that long)."""
    return fetch(
        db,
        "SELECT i.isbn, i.title, i.call_number FROM loans l "
        "JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.patron_id = ? AND l.checked_out_at >= ? "
        "AND (julianday(COALESCE(l.returned_at, ?)) - julianday(l.checked_out_at)) * 24 >= ?",
        [patron_id, since, now, min_hours],
    )


def reading_of(
    db: Database, patron_id: str, grade: int | None, since: str, now: str, min_hours: float
) -> Reading:
    """Return what counts for badges of a child's reading since `since`."""
    loans = counted_loans(db, patron_id, since, now, min_hours)
    classes = {r["call_number"].strip()[:1].upper() for r in loans if r["call_number"]}
    classes.discard("")
    found = grade_list(db, grade) if grade is not None else None
    if found is None:
        return Reading(len(loans), len(classes))
    titles = fetch(
        db, "SELECT isbn, title FROM reading_list_titles WHERE list_id = ?", [found["id"]]
    )
    done = sum(titles_read(titles, loans))
    return Reading(len(loans), len(classes), done, found["target"] or len(titles))


def held(db: Database, patron_id: str, term: str) -> set[str]:
    """Return the badges a child holds for a term."""
    rows = fetch(db, "SELECT badge FROM badges WHERE patron_id = ? AND term = ?", [patron_id, term])
    return {r["badge"] for r in rows}


def of_patron(db: Database, patron_id: str) -> list[dict[str, Any]]:
    """Return a child's badges, newest first, for the librarian's patron page."""
    return fetch(
        db,
        "SELECT badge, term, count, awarded_at FROM badges WHERE patron_id = ? "
        "ORDER BY awarded_at DESC, badge",
        [patron_id],
    )
