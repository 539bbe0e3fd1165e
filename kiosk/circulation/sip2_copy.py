"""A SIP2 self-check's own record of what the library system did: commands and pure decisions.

The library system decides a loan; the kiosk keeps a copy of it in its own event log (so that
statistics, the idle board and the reports count it): a checkout, checkin or renew event, after
an `item_named` event the first time the kiosk sees the book (or when the system renamed it),
so the log explains the book's row. Offline, the kiosk decides itself within the
offline limits (a card the system accepted lately, a few books) and the link sends the
transaction later; a transaction the system refuses then is undone here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.models import Item, Loan

ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class CopyCheckout:
    """Record a loan the library system made (online) or the kiosk takes for it (offline)."""

    patron_id: str
    barcode: str
    due_at: str
    title: str = ""  # the book's title in the system's answer (AJ), "" when it sent none
    actor: str = ""
    offline: bool = False
    card_ok: bool = True  # offline: the system accepted this card when it was last asked


@dataclass(frozen=True)
class CopyCheckin:
    """Record a return the library system took (online) or the kiosk takes for it (offline)."""

    barcode: str
    patron_id: str | None = None  # the system's AA: whose loan it was, when not lent here
    title: str = ""
    actor: str = ""
    offline: bool = False


@dataclass(frozen=True)
class CopyRenew:
    """Record a renewal the library system made."""

    patron_id: str
    barcode: str
    due_at: str
    actor: str = ""


@dataclass(frozen=True)
class NameItem:
    """Keep a book as the library system named it (its 17, or a refusal that named it)."""

    barcode: str
    title: str


@dataclass(frozen=True)
class UndoRefused:
    """The library system refused an offline transaction when it was sent: it did not happen."""

    event_uuid: str
    kind: str  # checkout or checkin
    patron_id: str | None
    barcode: str
    answer: str  # the system's words


@dataclass(frozen=True)
class CopyState:
    """What a copy reads: the book's row and this kiosk's copy of its open loan; offline, the
    card's last acceptance and how many books it borrowed offline that wait to be sent."""

    item: Item | None
    loan: Loan | None = None
    accepted_at: str | None = None
    offline_loans: int = 0


@dataclass(frozen=True)
class OfflineLimits:
    """How far the kiosk lends on its own while the library system does not answer."""

    card_days: int
    max_loans: int


def accepted_lately(accepted_at: str | None, now: dt.datetime, days: int) -> bool:
    """Return whether the library system accepted a card within the last `days` days."""
    return accepted_at is not None and parse_stamp(accepted_at) >= now - dt.timedelta(days=days)


def _named(state: CopyState, barcode: str, title: str) -> list[Draft]:
    # The book as the system named it, recorded before the transaction when the book is new
    # here or renamed; a book the system did not name is kept under its barcode.
    if state.item is None:
        name = title or barcode
    elif title and title != state.item.title:
        name = title
    else:
        return []
    return [Draft("item_named", "sip2", None, barcode, {"title": name})]


def checkout(
    state: CopyState, cmd: CopyCheckout, now: dt.datetime, limits: OfflineLimits | None = None
) -> list[Draft] | Refusal:
    """Record the system's loan; offline, only for a card it accepted lately, within the limit."""
    if cmd.offline:
        if limits is None:
            raise ValueError("an offline checkout needs the offline limits")
        if not cmd.card_ok or not accepted_lately(state.accepted_at, now, limits.card_days):
            return Refusal("offline_card_unknown")
        if state.offline_loans >= limits.max_loans:
            return Refusal("offline_limit")
    data = {"due_at": cmd.due_at, "sip2": OFFLINE if cmd.offline else ONLINE}
    loan = Draft("checkout", cmd.actor or cmd.patron_id, cmd.patron_id, cmd.barcode, data)
    return [*_named(state, cmd.barcode, cmd.title), loan]


def checkin(state: CopyState, cmd: CopyCheckin) -> list[Draft]:
    """Record the return: of this kiosk's loan when it has one, else of the system's patron."""
    loan = state.loan
    patron_id = loan.patron_id if loan is not None else cmd.patron_id or None
    data: dict[str, str | None] = {
        "loan_uuid": loan.uuid if loan is not None else None,
        "sip2": OFFLINE if cmd.offline else ONLINE,
    }
    back = Draft("checkin", cmd.actor or "self-service", patron_id, cmd.barcode, data)
    return [*_named(state, cmd.barcode, cmd.title), back]


def renew(state: CopyState, cmd: CopyRenew) -> list[Draft]:
    """Record the renewal with the system's new due date."""
    loan = state.loan
    data = {"loan_uuid": loan.uuid if loan else None, "due_at": cmd.due_at, "sip2": ONLINE}
    return [Draft("renew", cmd.actor or cmd.patron_id, cmd.patron_id, cmd.barcode, data)]


def name_item(state: CopyState, cmd: NameItem) -> list[Draft]:
    """Name the book when it is new here or the system renamed it; else nothing."""
    return _named(state, cmd.barcode, cmd.title)


def undo_refused(cmd: UndoRefused) -> list[Draft]:
    """Undo the offline event the system refused, with its words."""
    data = {"undone": cmd.event_uuid, "undone_type": cmd.kind, "sip2": cmd.answer}
    return [Draft("undo", "sip2", cmd.patron_id, cmd.barcode, data)]
