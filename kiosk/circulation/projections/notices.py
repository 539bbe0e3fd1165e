"""Projections of the reports' events: a notice printed, the notice's text and levels changed."""

from __future__ import annotations

import json

from sqlite_utils import Database

from kiosk.circulation.events import Event
from kiosk.circulation.projector import projection


@projection("notice_printed")
def notice_printed(db: Database, event: Event) -> None:
    """Remember that a student's parents' notice was printed, at what level, for how many books."""
    db.execute(
        "INSERT OR IGNORE INTO notices (event_uuid, patron_id, printed_at, level, books, actor) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            event.uuid,
            event.patron_id,
            event.at,
            int(event.data.get("level", 0)),
            len(event.data.get("loans", [])),
            event.actor,
        ],
    )


@projection("notice_text_set")
def notice_text_set(db: Database, event: Event) -> None:
    """Keep the parents' notice text the librarian wrote."""
    db.execute(
        "INSERT INTO report_texts (key, body, updated_at) VALUES ('parents_notice', ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        [event.data["body"], event.at],
    )


@projection("notice_levels_set")
def notice_levels_set(db: Database, event: Event) -> None:
    """Keep the days overdue from which each escalation level starts."""
    db.execute(
        "INSERT INTO report_texts (key, body, updated_at) VALUES ('levels', ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        [json.dumps(event.data["levels"]), event.at],
    )
