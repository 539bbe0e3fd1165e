"""The new-books bulletin: titles added in a period, grouped by 中图法 class."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.stats import Period
from kiosk.circulation.stats.reading import OTHER_SUBJECT, SUBJECTS, subject_of
from kiosk.circulation.store import Store


def new_books(store: Store, period: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Return the titles added in the period (one row per title, with its copies), newest first."""
    since, until = period.bounds(tz)
    rows = store.query(
        "SELECT title, author, min(call_number) AS call_number, count(*) AS copies, "
        "max(added_at) AS added_at FROM items WHERE added_at >= ? AND added_at < ? "
        "AND status NOT IN ('withdrawn', 'lost') GROUP BY title, author "
        "ORDER BY max(added_at) DESC, title",
        [since, until],
    )
    for r in rows:
        r["letter"] = subject_of(r["call_number"])
        r["subject"] = SUBJECTS.get(r["letter"], OTHER_SUBJECT)
    return rows


def by_subject(rows: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Group new titles by 中图法 class: (letter, subject, titles), in the classification order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["letter"], []).append(r)
    return [
        (k, SUBJECTS.get(k, OTHER_SUBJECT), sorted(groups[k], key=lambda r: r["title"]))
        for k in sorted(groups, key=lambda k: k or "~")
    ]


def latest(store: Store, limit: int = 6) -> list[dict[str, Any]]:
    """Return the titles added last, for the idle screen."""
    # Walk the newest copies on the added_at index; copies of one title count once.
    seen: dict[tuple[str, str], None] = {}
    for title, author in store.reader.execute(
        "SELECT title, author FROM items WHERE status IN ('available', 'on_loan') "
        "ORDER BY added_at DESC, title LIMIT ?",
        [limit * 20],
    ):
        seen.setdefault((title, author), None)
        if len(seen) == limit:
            break
    return [{"title": t, "author": a} for t, a in seen]
