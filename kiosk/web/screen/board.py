"""The idle screen's board (`/board.json`): this month's class ranking, most borrowed and new books.

Classes and books only, from the reports' named queries (`kiosk.circulation.stats`); a child's
own count never goes on the public screen.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation.dashboard import local_today
from kiosk.circulation.stats import books, month, rankings
from kiosk.web import web
from kiosk.web.screen import bp


@bp.get("/board.json")
def board_data() -> Any:
    """Return this month's class ranking, most borrowed and new books for the idle screen."""
    store = web().store
    tz = ZoneInfo(web().settings.kiosk.timezone)
    today = local_today(store, tz)
    when = month(today.year, today.month)
    ranked = rankings.class_ranking(store, when, tz)
    return {
        "classes": [
            {"rank": r["rank"], "name": r["name"], "per_student": r["per_student"]}
            for r in ranked[:5]
            if r["loans"]
        ],
        "books": [
            {"title": b["title"], "author": b["author"]}
            for b in rankings.top_books(store, when, tz, 5)
        ],
        "new": books.latest(store, 5),
    }
