"""The SIP2 self-check's tables: cards the library system accepted and the offline queue.

A transaction taken offline is its event (checkout or checkin, in the event log like any other)
plus a queue row, written in the same transaction: committed before the beep. The row moves
waiting -> sending (committed before the message goes out) -> sent or refused, so that after a
crash a row left `sending` is known to be in doubt and is checked before it is sent again.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import Event, fetch

OPEN = ("waiting", "sending")


def card_accepted(db: Database, patron_id: str, at: str) -> None:
    """Remember that the library system accepted this card now."""
    db.execute(
        "INSERT INTO sip2_cards (patron_id, accepted_at) VALUES (?, ?) "
        "ON CONFLICT(patron_id) DO UPDATE SET accepted_at = excluded.accepted_at",
        [patron_id, at],
    )


def accepted_at(db: Database, patron_id: str) -> str | None:
    """Return when the library system last accepted this card, or None."""
    row = db.execute(
        "SELECT accepted_at FROM sip2_cards WHERE patron_id = ?", [patron_id]
    ).fetchone()
    return row[0] if row else None


def enqueue(db: Database, event: Event, due_at: str | None = None, in_doubt: bool = False) -> None:
    """Queue an offline checkout or checkin, in the transaction that recorded its event.

    `in_doubt`: its message went out and the answer was lost, so it starts as `sending`: the
    system is asked whether it has it before it is sent again.
    """
    db.execute(
        "INSERT INTO sip2_queue "
        "(event_uuid, seq, kind, patron_id, item_barcode, at, due_at, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            event.uuid,
            event.seq,
            event.type,
            event.patron_id,
            event.item_barcode,
            event.at,
            due_at,
            "sending" if in_doubt else "waiting",
        ],
    )


def open_rows(db: Database) -> list[dict[str, Any]]:
    """Return the queued transactions not yet answered, oldest first."""
    return fetch(
        db,
        "SELECT * FROM sip2_queue WHERE state IN ('waiting', 'sending') ORDER BY seq",
    )


def mark(db: Database, event_uuid: str, state: str, at: str, answer: str = "") -> None:
    """Move a queued transaction on: sending, sent or refused (with the system's words)."""
    db.execute(
        "UPDATE sip2_queue SET state = ?, answer = ?, done_at = ? WHERE event_uuid = ?",
        [state, answer, at if state in ("sent", "refused") else None, event_uuid],
    )


def offline_loans(db: Database, patron_id: str) -> int:
    """Return how many books a card borrowed offline that wait to be sent."""
    row = db.execute(
        "SELECT count(*) FROM sip2_queue WHERE patron_id = ? AND kind = 'checkout' "
        "AND state IN ('waiting', 'sending')",
        [patron_id],
    ).fetchone()
    return int(row[0])


def waiting(db: Database) -> int:
    """Return how many transactions wait to be sent."""
    return int(
        db.execute(
            "SELECT count(*) FROM sip2_queue WHERE state IN ('waiting', 'sending')"
        ).fetchone()[0]
    )


def conflicts(db: Database) -> list[dict[str, Any]]:
    """Return what the library system refused on replay, newest first, with titles and names."""
    return fetch(
        db,
        "SELECT q.*, i.title, p.name FROM sip2_queue q "
        "LEFT JOIN items i ON i.barcode = q.item_barcode "
        "LEFT JOIN patrons p ON p.id = q.patron_id "
        "WHERE q.state = 'refused' ORDER BY q.seq DESC",
    )


def save_link(db: Database, online: bool, offline_since: str | None, error: str, at: str) -> None:
    """Keep the link's state for `kiosk status` (another process than the daemon)."""
    db.execute(
        "INSERT INTO sip2_link (id, online, offline_since, last_error, updated_at) "
        "VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET online = excluded.online, "
        "offline_since = excluded.offline_since, last_error = excluded.last_error, "
        "updated_at = excluded.updated_at",
        [int(online), offline_since, error, at],
    )


def link(db: Database) -> dict[str, Any] | None:
    """Return the link's state as the daemon last saved it, or None."""
    rows = fetch(db, "SELECT * FROM sip2_link WHERE id = 1")
    return rows[0] if rows else None
