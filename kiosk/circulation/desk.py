"""Desk actions beyond the session: undo the last action of a helper, as its own event.

An undo never edits or deletes an event (the log is immutable): a decision checks that the loan
is still as the last action left it, and the `undo` event's projection puts it back as it was
(the hub applies the same projection, so every kiosk follows). A drifting book (图书漂流) taken
or handed in by mistake is undone the same way: its hand is put back as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.circulation import decide, queries
from kiosk.circulation.commands import UndoLast
from kiosk.circulation.handler import handle
from kiosk.circulation.store import Event, Store

UNDOABLE = decide.UNDOABLE


@dataclass(frozen=True)
class Undo:
    """What an undo did: a reason code (undone, nothing_to_undo, too_late, changed_since)."""

    ok: bool
    reason: str
    params: dict[str, Any]
    event: Event | None = None


def last_action(store: Store, actor: str) -> dict[str, Any] | None:
    """Return the actor's last circulation event, or None if it was an undo or there is none."""
    last = queries.last_desk_event(store.reader, actor)
    return last if last and last["type"] != "undo" else None


def undo_last(store: Store, actor: str, window_s: float) -> Undo:
    """Reverse the actor's last checkout, checkin, renewal, or drifting book taken or handed in,
    if it is recent enough."""
    done = handle(store, UndoLast(actor, window_s))  # steps/loans.py reads, decide.undo decides
    if done.refusal is not None:
        return Undo(False, done.refusal.reason, {})
    last = done.state.last
    return Undo(True, "undone", {"title": last["title"] or last["item_barcode"]}, done.event)
