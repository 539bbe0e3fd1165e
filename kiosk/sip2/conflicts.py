"""What the library system refused on replay, in words for the librarian."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.circulation import sip2_queue
from kiosk.circulation.store import Store
from kiosk.i18n import N_, translate

LENT = N_(
    "{when}: {name} ({patron}) borrowed 《{title}》 ({barcode}) while the library system was "
    "away; it refused the loan: {answer}. Find the book and lend it at the desk, or ask the child."
)
RETURNED = N_(
    "{when}: 《{title}》 ({barcode}) was returned while the library system was away; it refused "
    "the return: {answer}. Check the book in at the desk."
)


def refused(store: Store) -> list[dict[str, Any]]:
    """Return the refused offline transactions, newest first."""
    return sip2_queue.conflicts(store.reader)


def local_time(at: str | None, timezone: str) -> str | None:
    """Return a stored time as the school's local YYYY-MM-DD HH:MM."""
    if not at:
        return None
    t = dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(ZoneInfo(timezone))
    return t.strftime("%Y-%m-%d %H:%M")


def describe(row: dict[str, Any], lang: str, timezone: str) -> str:
    """Say one conflict in words."""
    params = {
        "when": local_time(row["at"], timezone),
        "name": row.get("name") or "?",
        "patron": row.get("patron_id") or "",
        "title": row.get("title") or row["item_barcode"],
        "barcode": row["item_barcode"],
        "answer": row.get("answer") or "?",
    }
    return translate(LENT if row["kind"] == "checkout" else RETURNED, lang, **params)


def link_report(store: Store, address: str) -> dict[str, Any]:
    """Return the link as the running kiosk last saw it, and what waits to be sent."""
    saved = sip2_queue.link(store.reader) or {}
    return {
        "address": address,
        "online": bool(saved.get("online")),
        "offline_since": saved.get("offline_since"),
        "waiting": sip2_queue.waiting(store.reader),
        "refused": len(sip2_queue.conflicts(store.reader)),
        "last_error": saved.get("last_error", ""),
        "seen_at": saved.get("updated_at"),
    }
