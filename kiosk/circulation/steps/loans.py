"""Steps of the loan commands: checkout, checkin, renew, a visit, drifting books, undo.

A checkout of a drifting book (图书漂流) is a take and its return ends the hand: those steps
answer with the drifting book's `DriftState`, so the caller can tell which it was.
The kiosk's settings (`Context.settings`): `tz` (a ZoneInfo), `record_stray_returns`, and
`rules_at(db, version)`, the caller's cache of the rules by their version (read again without).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation import decide, queries
from kiosk.circulation.commands import (
    Checkin,
    Checkout,
    EndDrift,
    Renew,
    SetDrifting,
    TakeDrifting,
    UndoLast,
    Visit,
)
from kiosk.circulation.decide import DriftState, LoanState, UndoState
from kiosk.circulation.handler import Context, Decided, step
from kiosk.circulation.models import Patron
from kiosk.circulation.queries import drifting
from kiosk.circulation.rules import Rules, load_rules

DEFAULT_TZ = "Asia/Shanghai"


def _tz(context: Context) -> ZoneInfo:
    tz = context.settings.get("tz")
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz or DEFAULT_TZ))


def _rules(db: Database, context: Context, version: int) -> Rules:
    rules_at = context.settings.get("rules_at")
    return rules_at(db, version) if rules_at is not None else load_rules(db)


def _patron(db: Database, patron_id: str | None) -> Patron | None:
    row = queries.patron_row(db, patron_id) if patron_id is not None else None
    return Patron.from_row(row) if row else None


@step(Checkout)
def checkout(db: Database, cmd: Checkout, context: Context) -> Decided:
    """Read the patron, the book, its open loan and the patron's loans in one read; decide."""
    read = queries.loan_state(db, cmd.patron_id, cmd.barcode, with_patron_due=True)
    if read.drifting:  # a drifting book is taken, never lent
        return take_drifting(db, TakeDrifting(cmd.patron_id, cmd.barcode, cmd.actor), context)
    state = LoanState(read.patron, read.item, read.loan, read.patron_due, read.patron_types)
    rules = _rules(db, context, read.rules_version)
    return Decided(decide.checkout(rules, _tz(context), state, cmd, context.now), state)


@step(Checkin)
def checkin(db: Database, cmd: Checkin, context: Context) -> Decided:
    """Read the book, its open loan and the loan's patron in one read; decide."""
    read = queries.loan_state(db, None, cmd.barcode)
    if read.drifting:  # a drifting book handed in: its hand ends
        return end_drift(db, EndDrift(cmd.barcode, cmd.actor), context)
    # The patron is the loan's, read with it: the answer says whose return it was.
    state = LoanState(read.patron, read.item, read.loan)
    stray = bool(context.settings.get("record_stray_returns", False))
    return Decided(decide.checkin(state, cmd, context.now, stray), state)


@step(Renew)
def renew(db: Database, cmd: Renew, context: Context) -> Decided:
    """Read the patron, the book and its open loan in one read; decide."""
    read = queries.loan_state(db, cmd.patron_id, cmd.barcode)
    state = LoanState(read.patron, read.item, read.loan)
    rules = _rules(db, context, read.rules_version)
    return Decided(decide.renew(rules, _tz(context), state, cmd, context.now), state)


@step(Visit)
def visit(db: Database, cmd: Visit, _: Context) -> Decided:
    """Find the patron; decide."""
    patron = _patron(db, cmd.patron_id)
    return Decided(decide.visit(patron, cmd), patron)


def _drift_state(db: Database, patron_id: str | None, barcode: str) -> DriftState:
    item, loan, drifts = queries.item_and_open_loan(db, barcode)
    return DriftState(
        patron=_patron(db, patron_id),
        item=item,
        drifting=drifts,
        holder=drifting.holder(db, barcode) if item is not None else None,
        on_loan=loan is not None,
    )


@step(SetDrifting)
def set_drifting(db: Database, cmd: SetDrifting, _: Context) -> Decided:
    """Read the book, whether it drifts and who has it; decide."""
    state = _drift_state(db, None, cmd.barcode)
    return Decided(decide.set_drifting(state, cmd), state)


@step(TakeDrifting)
def take_drifting(db: Database, cmd: TakeDrifting, _: Context) -> Decided:
    """Read the child, the book, whether it drifts and who has it; decide."""
    state = _drift_state(db, cmd.patron_id, cmd.barcode)
    return Decided(decide.take_drifting(state, cmd), state)


@step(EndDrift)
def end_drift(db: Database, cmd: EndDrift, _: Context) -> Decided:
    """Read the book, whether it drifts and who has it; decide."""
    state = _drift_state(db, None, cmd.barcode)
    return Decided(decide.end_drift(state, cmd), state)


@step(UndoLast)
def undo(db: Database, cmd: UndoLast, context: Context) -> Decided:
    """Read the actor's last action and the loan (or drifting book's hand) it left; decide."""
    last: Any = queries.last_desk_event(db, cmd.actor)
    state = UndoState(last)
    if last is not None and last["type"] in decide.DRIFT_UNDOABLE:
        barcode = last["item_barcode"]
        hand = drifting.open_hand(db, barcode)
        state = UndoState(last, drifting=drifting.is_drifting(db, barcode), hand=hand)
    elif last is not None and last["type"] in decide.UNDOABLE:
        uuid = last["uuid"] if last["type"] == "checkout" else last["data"].get("loan_uuid")
        loan = queries.loan_by_uuid(db, uuid)
        _, open_now, _ = queries.item_and_open_loan(db, last["item_barcode"])
        state = UndoState(last, loan, open_now is not None)
    return Decided(decide.undo(state, cmd, context.now), state)
