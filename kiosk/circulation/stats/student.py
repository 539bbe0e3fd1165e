"""A student's reading record across terms and school years, and a class's term summary."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation import cards
from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.stats import Period, school_year_of
from kiosk.circulation.stats.reading import ROSTER
from kiosk.circulation.store import Store


def patron_by_card(store: Store, code: str) -> dict[str, Any] | None:
    """Return the patron who holds a card (by its code or its printed number), or by id."""
    rows = store.query("SELECT * FROM patrons WHERE id = ?", [code])
    card = cards.find(store.reader, code) if not rows else None
    if card is not None:
        rows = store.query("SELECT * FROM patrons WHERE id = ?", [card[1]])
    return rows[0] if rows else None


def reading_record(store: Store, patron_id: str, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Return everything a patron borrowed, newest first, with the school year and term of each."""
    rows = store.query(
        "SELECT l.checked_out_at, l.due_at, l.returned_at, l.renewals, i.title, i.author, "
        "i.call_number, i.barcode FROM loans l JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.patron_id = ? ORDER BY l.checked_out_at DESC",
        [patron_id],
    )
    for r in rows:
        day = parse_stamp(r["checked_out_at"]).astimezone(tz).date()
        year = school_year_of(day)
        r["school_year"] = f"{year.first.year}-{year.last.year}"
        # First term September to January, second February to August.
        r["term"] = 1 if day.month >= 9 or day.month == 1 else 2
    return rows


def by_term(rows: list[dict[str, Any]]) -> list[tuple[str, int, list[dict[str, Any]]]]:
    """Group a reading record by school year and term, newest first."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["school_year"], r["term"]), []).append(r)
    return [(y, t, rs) for (y, t), rs in sorted(groups.items(), reverse=True)]


def class_summary(
    store: Store, class_name: str, period: Period, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Return each student of a class with loans and distinct titles in the period, by name."""
    since, until = period.bounds(tz)
    return store.query(
        "SELECT p.id, p.name, p.class_name, "
        "(SELECT count(*) FROM loans l WHERE l.patron_id = p.id AND l.checked_out_at >= ? "
        "AND l.checked_out_at < ?) AS loans, "
        "(SELECT count(DISTINCT i.title) FROM loans l JOIN items i ON i.barcode = l.item_barcode "
        "WHERE l.patron_id = p.id AND l.checked_out_at >= ? AND l.checked_out_at < ?) AS titles, "
        "(SELECT count(*) FROM loans l WHERE l.patron_id = p.id AND l.returned_at IS NULL "
        "AND l.due_at < ?) AS overdue "
        f"FROM patrons p WHERE {ROSTER} AND p.class_name = ? ORDER BY p.name COLLATE pinyin, p.id",
        [since, until, since, until, store.now(), class_name],
    )


def class_names(store: Store) -> list[str]:
    """Return the classes that have students, in class order."""
    from kiosk.circulation.dashboard import class_order

    rows = store.query(f"SELECT DISTINCT class_name FROM patrons WHERE {ROSTER}")
    return sorted((r["class_name"] for r in rows if r["class_name"]), key=class_order)
