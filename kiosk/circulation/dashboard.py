"""Read-only questions the librarian's dashboard and the idle screen ask of the store.

Days are the school's local days: stored times are UTC, so a day runs from the school's midnight
to the next, both turned into stored times. The queries are shaped for a grown store (500,000
loans, a million events): they walk indexes and never read the whole log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import stamp
from kiosk.circulation.order import class_key
from kiosk.circulation.rules import load_rules
from kiosk.circulation.store import Store

ACTIONS = ("checkout", "checkin", "renew", "undo")
DEFAULT_TERM_DAYS = 120


def local_today(store: Store, tz: ZoneInfo) -> dt.date:
    """Return today's date at the school."""
    return store.clock.now().astimezone(tz).date()


def day_start(day: dt.date, tz: ZoneInfo) -> str:
    """Return the stored form of midnight at the start of a local day."""
    return stamp(dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz))


def today(store: Store, tz: ZoneInfo, recent: int = 20) -> dict[str, Any]:
    """Return today's loans, returns and renewals, and the last actions with titles."""
    since = day_start(local_today(store, tz), tz)
    counts = {
        r["type"]: r["n"]
        for r in store.query(
            "SELECT type, count(*) AS n FROM events WHERE at >= ? AND type IN "
            "('checkout', 'checkin', 'renew', 'undo') GROUP BY type",
            [since],
        )
    }
    rows = store.query(
        "SELECT e.seq, e.at, e.type, e.actor, e.item_barcode, e.patron_id, "
        "p.name, p.class_name, i.title FROM events e "
        "LEFT JOIN patrons p ON p.id = e.patron_id "
        "LEFT JOIN items i ON i.barcode = e.item_barcode "
        "WHERE e.at >= ? AND e.type IN ('checkout', 'checkin', 'renew', 'undo') "
        # Ordered by time first so that SQLite walks the `at` index, not the whole log.
        "ORDER BY e.at DESC, e.seq DESC LIMIT ?",
        [since, recent],
    )
    return {
        "loans": counts.get("checkout", 0),
        "returns": counts.get("checkin", 0),
        "renewals": counts.get("renew", 0),
        "undone": counts.get("undo", 0),
        "recent": rows,
    }


def class_order(name: str) -> tuple[Any, ...]:
    """Return a sort key that puts 三(2)班 before 四(1)班 (Chinese numerals as numbers)."""
    return class_key(name)


def term_range(store: Store, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """Return this term's first day and today (or the term's end, if it is over)."""
    today_ = local_today(store, tz)
    rules = load_rules(store.reader)
    start = rules.term_start if rules.term_start and rules.term_start <= today_ else None
    start = start or today_ - dt.timedelta(days=DEFAULT_TERM_DAYS)
    end = min(today_, rules.term_end) if rules.term_end and rules.term_end >= start else today_
    return start, end


def loans_per_day(
    store: Store, tz: ZoneInfo, start: dt.date, end: dt.date
) -> list[tuple[dt.date, int]]:
    """Return the number of loans made on each local day from start to end, zeros included."""
    days = [start + dt.timedelta(days=i) for i in range(max(0, (end - start).days + 1))]
    bounds = [day_start(d, tz) for d in [*days, end + dt.timedelta(days=1)]]
    conn = store.reader.conn
    # One counting seek per day on the checked_out_at index: faster than grouping by a date
    # expression, and each day's bounds are the school's own midnight.
    return [
        (
            d,
            conn.execute(
                "SELECT count(*) FROM loans WHERE checked_out_at >= ? AND checked_out_at < ?",
                (bounds[i], bounds[i + 1]),
            ).fetchone()[0],
        )
        for i, d in enumerate(days)
    ]


def month_start(store: Store, tz: ZoneInfo) -> dt.date:
    """Return the first day of this month at the school."""
    return local_today(store, tz).replace(day=1)


def loans_per_class(store: Store, tz: ZoneInfo, since: dt.date) -> list[tuple[str, int]]:
    """Return loans per class since a day, most first (patrons without a class left out)."""
    rows = store.query(
        "SELECT p.class_name AS class_name, count(*) AS n FROM loans l "
        "JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.checked_out_at >= ? AND p.class_name != '' "
        "GROUP BY p.class_name ORDER BY n DESC, p.class_name",
        [day_start(since, tz)],
    )
    return [(r["class_name"], r["n"]) for r in rows]


def top_books(store: Store, tz: ZoneInfo, since: dt.date, limit: int = 10) -> list[tuple[str, int]]:
    """Return the most borrowed titles since a day (all copies of a title together)."""
    # Count per copy first, then look up each copy's title once.
    rows = store.query(
        "SELECT i.title AS title, sum(c.n) AS n FROM (SELECT item_barcode, count(*) AS n "
        "FROM loans WHERE checked_out_at >= ? GROUP BY item_barcode) c "
        "JOIN items i ON i.barcode = c.item_barcode "
        "GROUP BY i.title ORDER BY n DESC, i.title LIMIT ?",
        [day_start(since, tz), limit],
    )
    return [(r["title"], r["n"]) for r in rows]


def new_books(store: Store, limit: int = 6) -> list[dict[str, Any]]:
    """Return the titles added last, one row per title."""
    return store.query(
        "SELECT title, author FROM items WHERE status IN ('available', 'on_loan') "
        "GROUP BY title ORDER BY max(rowid) DESC LIMIT ?",
        [limit],
    )


def events(
    store: Store,
    *,
    type: str = "",
    actor: str = "",
    patron_id: str = "",
    item_barcode: str = "",
    since: str = "",
    until: str = "",
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Return events matching every filter given (empty ones ignored), newest first."""
    where, params = [], []
    for column, value in (
        ("type", type),
        ("actor", actor),
        ("patron_id", patron_id),
        ("item_barcode", item_barcode),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until)
    sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "")
    return store.query(sql + " ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset])


KNOWN_TYPES = (
    "checkout",
    "checkin",
    "renew",
    "undo",
    "visit",
    "import",
    "rules_set",
    "card_lost",
)


def event_types(store: Store, recent: int = 20_000) -> list[str]:
    """Return event types for the filter: the usual ones and any in the recent log."""
    # A DISTINCT over the whole log reads every event; the recent ones are enough here.
    rows = store.query(
        "SELECT DISTINCT type FROM (SELECT type FROM events ORDER BY seq DESC LIMIT ?)", [recent]
    )
    return sorted({*KNOWN_TYPES, *(r["type"] for r in rows)})
