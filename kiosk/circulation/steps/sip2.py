"""Steps of a SIP2 self-check's copy: read the book, its loan here, the card's standing; decide."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.circulation import queries, sip2_copy, sip2_queue
from kiosk.circulation.handler import Context, Decided, step, step_alone
from kiosk.circulation.sip2_copy import (
    CopyCheckin,
    CopyCheckout,
    CopyRenew,
    CopyState,
    NameItem,
    OfflineLimits,
    UndoRefused,
)


def _state(db: Database, barcode: str) -> CopyState:
    item, loan, _ = queries.item_and_open_loan(db, barcode)
    return CopyState(item, loan)


@step(CopyCheckout)
def copy_checkout(db: Database, cmd: CopyCheckout, context: Context) -> Decided:
    """Read the book's row (offline also the card's standing); decide."""
    item, _, _ = queries.item_and_open_loan(db, cmd.barcode)
    state, limits = CopyState(item), None
    if cmd.offline:
        accepted = sip2_queue.accepted_at(db, cmd.patron_id)
        state = CopyState(item, None, accepted, sip2_queue.offline_loans(db, cmd.patron_id))
        # The [sip2] section's limits, given to handle() as its settings.
        s = context.settings
        limits = OfflineLimits(s["offline_card_days"], s["offline_max_loans"])
    return Decided(sip2_copy.checkout(state, cmd, context.now, limits), state)


@step(CopyCheckin)
def copy_checkin(db: Database, cmd: CopyCheckin, _: Context) -> Decided:
    """Read the book's row and this kiosk's copy of its open loan; decide."""
    state = _state(db, cmd.barcode)
    return Decided(sip2_copy.checkin(state, cmd), state)


@step(CopyRenew)
def copy_renew(db: Database, cmd: CopyRenew, _: Context) -> Decided:
    """Read the book's row and this kiosk's copy of its open loan; decide."""
    state = _state(db, cmd.barcode)
    return Decided(sip2_copy.renew(state, cmd), state)


@step(NameItem)
def name_item(db: Database, cmd: NameItem, _: Context) -> Decided:
    """Read the book's row; decide."""
    state = _state(db, cmd.barcode)
    return Decided(sip2_copy.name_item(state, cmd), state)


step_alone(UndoRefused, sip2_copy.undo_refused)
