"""Read models of the librarian's reports: named queries over loans, patrons, items and notices.

Every SQL statement of the reports lives in this package; the pages (`kiosk/web/reports/`) and
the command line (`kiosk report`) only call these functions and show what they return. Periods
are the school's local days (`Period`), turned into stored UTC bounds once.
"""

from __future__ import annotations

import calendar
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import day_start, local_today
from kiosk.circulation.rules import load_rules
from kiosk.circulation.store import Store
from kiosk.errors import MessageError
from kiosk.i18n import N_

KINDS = ("month", "term", "year", "range")
CACHED = 8
SCHOOL_YEAR_STARTS = 9  # September: a Chinese school year runs September to August
DEFAULT_TERM_DAYS = 120


class PeriodError(MessageError, ValueError):
    """A period that cannot be used; `message` is a catalog id, `params` fill it in."""


@dataclass(frozen=True)
class Period:
    """A run of the school's local days, first and last included."""

    kind: str
    first: dt.date
    last: dt.date

    def bounds(self, tz: ZoneInfo) -> tuple[str, str]:
        """Return the stored times of the first day's midnight and the midnight after the last."""
        return day_start(self.first, tz), day_start(self.last + dt.timedelta(days=1), tz)

    @property
    def key(self) -> str:
        """Return the period as the pages' and the command line's parameters name it."""
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def month(year: int, number: int) -> Period:
    """Return one calendar month."""
    return Period(
        "month",
        dt.date(year, number, 1),
        dt.date(year, number, 1).replace(day=calendar.monthrange(year, number)[1]),
    )


def school_year_of(day: dt.date) -> Period:
    """Return the school year (September to August) that a day falls in."""
    start = day.year if day.month >= SCHOOL_YEAR_STARTS else day.year - 1
    return Period("year", dt.date(start, SCHOOL_YEAR_STARTS, 1), dt.date(start + 1, 8, 31))


def current_term(store: Store, tz: ZoneInfo) -> Period:
    """Return this term as the rules set it, or the last 120 days when no term is set."""
    rules = load_rules(store.reader)
    today = local_today(store, tz)
    if rules.term_start and rules.term_end and rules.term_start <= rules.term_end:
        return Period("term", rules.term_start, rules.term_end)
    return Period("term", today - dt.timedelta(days=DEFAULT_TERM_DAYS), today)


def resolve(
    store: Store,
    tz: ZoneInfo,
    kind: str = "month",
    *,
    month_text: str = "",
    first: str = "",
    last: str = "",
) -> Period:
    """Return the period a librarian asked for: a month `2026-11`, the term, the year, a range."""
    today = local_today(store, tz)
    if first or last or kind == "range":
        start, end = _day(first), _day(last)
        if end < start:
            raise PeriodError(
                N_("The period ends ({last}) before it starts ({first})."),
                first=start.isoformat(),
                last=end.isoformat(),
            )
        return Period("range", start, end)
    if kind == "term":
        return current_term(store, tz)
    if kind == "year":
        return school_year_of(today)
    if kind != "month":
        raise PeriodError(N_("Unknown period {kind}: use month, term, year or range."), kind=kind)
    if not month_text:
        return month(today.year, today.month)
    try:
        year, number = (int(p) for p in month_text.split("-"))
        return month(year, number)
    except ValueError:
        raise PeriodError(
            N_("{value} is not a month: write it as 2026-11."), value=month_text
        ) from None


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(
            N_("{value} is not a date: write it as 2026-11-02."), value=text or "-"
        ) from None


_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_cache_lock = threading.Lock()


def cached(store: Store, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run a report's heavy query once for as long as the store does not change.

    `PRAGMA data_version` on this thread's read connection moves whenever any other connection
    commits, so a cached answer is never stale: one page that needs a term's loans per patron
    three times (figures, ranking, top readers) scans them once, and a second look at a report
    while nobody scans is free.
    """
    return memo(store, sql, params, lambda: store.reader.execute(sql, params).fetchall())


T = TypeVar("T")


def memo(store: Store, name: str, params: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """Return what `compute` gives, computed again only after the store changed (see cached)."""
    conn = store.reader.conn
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    key = (str(store.path), id(conn), version, name, params)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            found: T = _cache[key]
            return found
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return value


_catalogues: dict[tuple[Any, ...], tuple[int, Any]] = {}


def catalogue(
    store: Store,
    which: str,
    sql: str,
    by_key: bool = False,
    make: Callable[[list[Any]], Any] | None = None,
) -> Any:
    """Return the roll of students or the catalogue of items, read again only after a change.

    Triggers (m006) count every change to names, classes, cards, titles and call numbers in
    `catalogue_version`; a checkout does not count, so the roll stays in memory through lunch.
    """
    version = store.value(f"SELECT {which} FROM catalogue_version")
    key = (str(store.path), sql, by_key, make)
    with _cache_lock:
        found = _catalogues.get(key)
    if found is not None and found[0] == version:
        return found[1]
    rows = store.reader.execute(sql).fetchall()
    # By key: the first column maps to the rest (a barcode to its title, author, letter).
    value = {r[0]: r[1:] for r in rows} if by_key else make(rows) if make else rows
    with _cache_lock:
        _catalogues[key] = (version, value)
    return value


def forget(catalogues: bool = False) -> None:
    """Drop the cached answers, as a scan at the kiosk does (and the roll and catalogue too)."""
    with _cache_lock:
        _cache.clear()
        if catalogues:
            _catalogues.clear()
