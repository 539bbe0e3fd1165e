"""The collection's year: stocktake, lost and damaged books, weeding, holds, cards, promotion.

Each module holds the commands of one chore, their pure decisions and the named queries its
lists and reports read. A decision takes plain values (the rows it needs, read by the command)
and returns the events to record as `projector.Draft`s, or a `Refusal` with a stable reason
code; the command commits the drafts (`projector.commit`) in one `store.write()`. The tables
they change are written only by `circulation/projections/collection.py`, so the hub's replay of
the same events builds the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.projector import commit
from kiosk.circulation.store import Event, Store, fetch
from kiosk.i18n import N_

# Every event type of this area with the words a page shows for it; the hub replays them all.
EVENT_NAMES = {
    "stocktake_started": N_("stocktake started"),
    "stocktake_scan": N_("stocktake scan"),
    "stocktake_paused": N_("stocktake paused"),
    "stocktake_resumed": N_("stocktake resumed"),
    "stocktake_finished": N_("stocktake finished"),
    "item_lost": N_("marked lost"),
    "item_damaged": N_("marked damaged"),
    "item_found": N_("found again"),
    "compensation_recorded": N_("compensation recorded"),
    "repair_started": N_("sent to repair"),
    "repair_done": N_("repaired"),
    "item_withdrawn": N_("withdrawn"),
    "card_replaced": N_("card replaced"),
    "hold_placed": N_("hold placed"),
    "hold_ready": N_("hold ready"),
    "hold_fulfilled": N_("hold collected"),
    "hold_expired": N_("hold expired"),
    "hold_cancelled": N_("hold cancelled"),
    "year_promoted": N_("new school year"),
    "leavers_closed": N_("leavers closed"),
    "corner_lent": N_("lent to a class corner"),
    "holiday_loans_set": N_("holiday loans set"),
}
EVENT_TYPES = tuple(EVENT_NAMES)


@dataclass(frozen=True)
class Outcome:
    """What a command did: the recorded events, or the decision's refusal."""

    events: tuple[Event, ...] = ()
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        """Return whether the command was carried out."""
        return self.refusal is None

    @property
    def reason(self) -> str:
        """Return 'ok' or the refusal's reason code."""
        return "ok" if self.refusal is None else self.refusal.reason


def apply(store: Store, db: Database, drafts: list[Draft] | Refusal, actor: str) -> Outcome:
    """Record and project a decision's drafts in the caller's write; a refusal changes nothing."""
    if isinstance(drafts, Refusal):
        return Outcome(refusal=drafts)
    done = commit(store, db, [replace(d, actor=actor) for d in drafts], store.now())
    return Outcome(tuple(done))


def school_year_start(today: date) -> str:
    """Return 1 September of the school year `today` is in, as the store's times compare."""
    return f"{today.year if today.month >= 9 else today.year - 1}-09-01"


def one(db: Database, sql: str, params: Any = ()) -> dict[str, Any] | None:
    """Return the first row of a SELECT, or None."""
    found = fetch(db, sql, params)
    return found[0] if found else None
