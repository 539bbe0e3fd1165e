"""Rankings of a period: classes by loans per student, top readers, most-borrowed books."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import class_order
from kiosk.circulation.stats import Period
from kiosk.circulation.stats.reading import ROSTER, ClassFigures, by_class, loans_by_patron
from kiosk.circulation.store import Store


def class_ranking(store: Store, period: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Return classes ranked by loans per student (equal figures share a rank)."""
    return rank([c for c in by_class(store, period, tz) if c.students])


def rank(classes: list[ClassFigures]) -> list[dict[str, Any]]:
    """Rank class figures by loans per student, then class order; equal figures share a rank."""
    ordered = sorted(classes, key=lambda c: (-c.per_student, class_order(c.name)))
    rows: list[dict[str, Any]] = []
    for i, c in enumerate(ordered):
        same = rows and rows[-1]["per_student"] == c.per_student
        rows.append({"rank": rows[-1]["rank"] if same else i + 1, **c.row()})
    return rows


def top_readers(
    store: Store, period: Period, tz: ZoneInfo, by: str = "class", limit: int = 3
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return the students with most loans per class (or per grade), most first, ties by name."""
    loans = loans_by_patron(store, period, tz)
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in store.query(f"SELECT id, name, grade, class_name FROM patrons WHERE {ROSTER}"):
        n = loans.get(s["id"], 0)
        if not n:
            continue
        key = s["class_name"] if by == "class" else str(s["grade"] or "-")
        groups.setdefault(key or "-", []).append({**s, "loans": n})
    result = []
    for key in sorted(groups, key=class_order):
        people = sorted(groups[key], key=lambda r: (-r["loans"], r["name"], r["id"]))
        # Everyone tied with the last place shown is shown too: no child is left out by a tie.
        cut = people[limit - 1]["loans"] if len(people) >= limit else 0
        result.append((key, [p for i, p in enumerate(people) if i < limit or p["loans"] == cut]))
    return result


def top_books(store: Store, period: Period, tz: ZoneInfo, limit: int = 10) -> list[dict[str, Any]]:
    """Return the most borrowed titles of the period (all copies of a title together)."""
    since, until = period.bounds(tz)
    return store.query(
        "SELECT i.title AS title, i.author AS author, sum(c.n) AS loans, "
        "count(DISTINCT i.barcode) AS copies FROM (SELECT item_barcode, count(*) AS n "
        "FROM loans WHERE checked_out_at >= ? AND checked_out_at < ? GROUP BY item_barcode) c "
        "JOIN items i ON i.barcode = c.item_barcode "
        "GROUP BY i.title, i.author ORDER BY loans DESC, i.title LIMIT ?",
        [since, until, limit],
    )
