"""Rankings of a period: classes by loans per student, top readers, most-borrowed books."""

from __future__ import annotations

import heapq
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import class_order
from kiosk.circulation.stats import Period
from kiosk.circulation.stats.reading import (
    ClassFigures,
    by_class,
    loans_by_patron,
    roll,
    what_was_read,
)
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
    for pid, name, grade, class_name, _card in roll(store):
        n = loans.get(pid, 0)
        if not n:
            continue
        key = class_name if by == "class" else str(grade or "-")
        row = {"id": pid, "name": name, "grade": grade, "class_name": class_name, "loans": n}
        groups.setdefault(key or "-", []).append(row)
    result = []
    for key in sorted(groups, key=class_order):
        people = sorted(groups[key], key=lambda r: (-r["loans"], r["name"], r["id"]))
        # Everyone tied with the last place shown is shown too: no child is left out by a tie.
        cut = people[limit - 1]["loans"] if len(people) >= limit else 0
        result.append((key, [p for i, p in enumerate(people) if i < limit or p["loans"] == cut]))
    return result


def top_books(store: Store, period: Period, tz: ZoneInfo, limit: int = 10) -> list[dict[str, Any]]:
    """Return the most borrowed titles of the period (all copies of a title together)."""
    totals = what_was_read(store, period, tz)[0]
    # The limit-th largest count, found among plain numbers; only titles at or above it sorted.
    counts = [t[0] for t in totals.values()]
    cut = heapq.nlargest(limit, counts)[-1] if len(counts) > limit else 0
    ranked = sorted(
        ((k, t) for k, t in totals.items() if t[0] >= cut), key=lambda kv: (-kv[1][0], kv[0][0])
    )[:limit]
    return [{"title": t, "author": a, "loans": n, "copies": c} for (t, a), (n, c) in ranked]
