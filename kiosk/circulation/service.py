"""The circulation service: identify a code, check out, check in, renew.

Each action is a command run by the one handler (handler.py, steps/loans.py): it reads,
decides by the rules and writes the loan change and its event in one transaction; it returns a
`Result` that says what happened and why (a stable reason code, and a message id the screen
translates).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation import cards, queries
from kiosk.circulation.commands import (
    Checkin,
    Checkout,
    EndDrift,
    Renew,
    SetDrifting,
    TakeDrifting,
    Visit,
)
from kiosk.circulation.decide import DriftState, LoanState
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.queries import drifting
from kiosk.circulation.rules import Rules, load_rules
from kiosk.circulation.store import Event, Store, fetch
from kiosk.i18n import N_, N_plural

# Reason codes are a stable contract with the screen, the API and the hub.
OK = "ok"
MESSAGES = {
    "checked_out": N_("Checked out. Due {due_date}."),
    "checked_in": N_("Returned. Thank you!"),
    "renewed": N_("Renewed. Now due {due_date}."),
    "unknown_code": N_("Not recognised. Ask a library helper."),
    "card_lost": N_("This card was reported lost. Ask the librarian for your new card."),
    "patron_blocked": N_("Your card is blocked. Please see the librarian."),
    "item_unavailable": N_("This book can't be borrowed. Please give it to the librarian."),
    "on_loan_to_other": N_("This book is on loan to someone else. Give it to a library helper."),
    "limit_reached": N_plural(
        "You already have {count} book. Return one first.",
        "You already have {count} books. Return one first.",
    ),
    "has_overdue": N_("You have a book that is overdue. Return it first."),
    "renew_limit": N_("This book can't be renewed again. Please return it."),
    "renew_overdue": N_("This book is overdue. Please return it first."),
    "not_on_loan": N_("This book was not on loan. Put it back on the shelf."),
    "scan_card_first": N_("Tap your card first, then scan the book."),
    # Book drifting (图书漂流): the child keeps it as long as they read it, then passes it on.
    "drift_taken": N_("A drifting book: pass it on when you've read it."),
    "drift_taken_over": N_("A drifting book, passed on to you: pass it on when you've read it."),
    "drift_ended": N_("Drifting book handed in. Thank you!"),
    "drift_yours": N_("This drifting book is already yours. Pass it on when you've read it."),
    "drift_free": N_("A drifting book: tap your card first, then scan it to take it."),
    "drift_not": N_("This book is not drifting."),
    "drift_already": N_("This book is drifting already."),
    "drift_held": N_("A child has this drifting book now: it is handed in first."),
    # Item types (rules.ItemType): {type} is the type's name, in the reader's words
    # (i18n/catalogs.py).
    "reference_only": N_("This is a reference book: read it here in the library."),
    "type_limit": N_("{type}: only {count} at a time. Return one first."),
}


@dataclass(frozen=True)
class Result:
    """What an action did and why."""

    ok: bool
    action: str  # checkout, checkin, renew or none
    reason: str  # e.g. ok, limit_reached, on_loan_to_other
    message: str  # message id for the screen
    params: dict[str, Any] = field(default_factory=dict)
    patron: Patron | None = None
    item: Item | None = None
    loan: Loan | None = None
    event: Event | None = None


@dataclass(frozen=True)
class Identified:
    """What a scanned code turned out to be."""

    kind: str  # patron, item, lost_card or unknown
    code: str
    patron: Patron | None = None
    item: Item | None = None
    # An item's open loan, read with it (loan_read) so a scan does not ask for it again.
    loan: Loan | None = None
    loan_read: bool = False
    drifting: bool = False  # read with the item (loan_read): a drifting book is never lent


def _refuse(action: str, reason: str, **kw: Any) -> Result:
    params = kw.pop("params", {})
    return Result(False, action, reason, MESSAGES[reason], params, **kw)


class Circulation:
    """Circulation actions on one store, with its rules, clock and time zone."""

    def __init__(
        self, store: Store, timezone: str = "Asia/Shanghai", record_stray_returns: bool = False
    ) -> None:
        self.store = store
        self.tz = ZoneInfo(timezone)
        # With a hub, a book this kiosk thinks is on the shelf may be on loan from another
        # kiosk: its return is still recorded, and the hub ends whatever loan it closes.
        self.record_stray_returns = record_stray_returns
        self._rules: tuple[int, Rules] | None = None  # (rules_version, rules)

    def copies_written(self, timeout: float) -> bool:
        """Return True: every answer here is written before it shows (a SIP2 kiosk's waits)."""
        return True

    # -- reading ---------------------------------------------------------------------------

    def identify(self, code: str) -> Identified:
        """Say whether a code is a patron's card, an item, a lost card, or unknown."""
        db = self.store.reader
        # Exact codes first; a card's other form (decimal for a hex UID, or the reverse) only
        # when no card or book has exactly this code.
        card, item, loan, drifts = queries.card_or_item(db, code)  # one read for both
        if item:
            return Identified("item", code, item=item, loan=loan, loan_read=True, drifting=drifts)
        card = card or cards.find_other_form(db, code)
        if card:
            patron = self.patron(card[1], db)
            if card[2] == "lost":
                return Identified("lost_card", code, patron=patron)
            return Identified("patron", code, patron=patron)
        return Identified("unknown", code)

    def patron(self, patron_id: str, db: Database | None = None) -> Patron | None:
        """Return a patron by id."""
        rows = fetch(db or self.store.reader, "SELECT * FROM patrons WHERE id = ?", [patron_id])
        return Patron.from_row(rows[0]) if rows else None

    def item(self, barcode: str, db: Database | None = None) -> Item | None:
        """Return an item by barcode."""
        rows = fetch(db or self.store.reader, "SELECT * FROM items WHERE barcode = ?", [barcode])
        return Item.from_row(rows[0]) if rows else None

    def open_loan(self, barcode: str, db: Database | None = None) -> Loan | None:
        """Return the open loan of an item, if any."""
        rows = fetch(
            db or self.store.reader,
            "SELECT * FROM loans WHERE item_barcode = ? AND returned_at IS NULL",
            [barcode],
        )
        return Loan.from_row(rows[0]) if rows else None

    def loans_of(self, patron_id: str, db: Database | None = None) -> list[dict[str, Any]]:
        """Return a patron's open loans with titles, soonest due first."""
        return fetch(
            db or self.store.reader,
            "SELECT loans.*, items.title, items.item_type FROM loans "
            "JOIN items ON items.barcode = item_barcode "
            "WHERE patron_id = ? AND returned_at IS NULL ORDER BY due_at, loans.id",
            [patron_id],
        )

    def rules(self, db: Database | None = None) -> Rules:
        """Return the rules in force, read again only when the store says they changed."""
        db = db or self.store.reader
        return self._rules_at(db, db.execute("SELECT n FROM rules_version").fetchone()[0])

    def _rules_at(self, db: Database, version: int) -> Rules:
        """Return the rules of this version: the ones kept, or read again when it moved."""
        cached = self._rules
        if cached is not None and cached[0] == version:
            return cached[1]
        rules = load_rules(db)
        self._rules = (version, rules)
        return rules

    def local_date(self, when: str) -> dt.date:
        """Return the school-local date of a stored time."""
        return dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(self.tz).date()

    # -- acting ----------------------------------------------------------------------------

    @property
    def loan_settings(self) -> dict[str, Any]:
        """Return what the handler's loan steps need of this kiosk: time zone, strays, rules."""
        return {
            "tz": self.tz,
            "record_stray_returns": self.record_stray_returns,
            "rules_at": self._rules_at,
        }

    def checkout(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Lend an item to a patron, if the rules allow it (a drifting book is taken, not lent)."""
        done = handle(self.store, Checkout(patron_id, barcode, actor), self.loan_settings)
        if isinstance(done.state, DriftState):
            return self._drifted(done)
        state = done.state
        if done.refusal is not None:
            return self._refused("checkout", done.refusal, state)
        event = done.event
        # The loan as the projection wrote it (a checkout is decided only for a book with no
        # open loan), not read again.
        loan = Loan(None, event.uuid, barcode, patron_id, event.at, event.data["due_at"], None, 0)
        return self._done("checkout", "checked_out", state.patron, state.item, loan, event)

    def lend(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Lend a book to a patron: a renewal when the patron already has it, else a checkout."""
        loan = self.open_loan(barcode)
        if loan is not None and loan.patron_id == patron_id:
            return self.renew(patron_id, barcode, actor=actor)
        return self.checkout(patron_id, barcode, actor=actor)

    def checkin(self, barcode: str, actor: str = "") -> Result:
        """Return an item that is on loan (a drifting book is handed in: its hand ends)."""
        done = handle(self.store, Checkin(barcode, actor), self.loan_settings)
        if isinstance(done.state, DriftState):
            return self._drifted(done)
        state = done.state
        if done.refusal is not None:
            return self._refused("checkin", done.refusal, dataclasses.replace(state, patron=None))
        event = done.event
        if state.loan is None:
            # A stray return: recorded for the hub, told as "not on loan" here.
            refused = _refuse("checkin", "not_on_loan", item=state.item)
            return dataclasses.replace(refused, event=event)
        # state.patron is the loan's patron: the same read found it.
        return self._done("checkin", "checked_in", state.patron, state.item, state.loan, event)

    def renew(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Extend a patron's loan of an item, if the rules allow it."""
        done = handle(self.store, Renew(patron_id, barcode, actor), self.loan_settings)
        state = done.state
        if done.refusal is not None:
            return self._refused("renew", done.refusal, state)
        event = done.event
        assert state.loan is not None  # a renewal is decided only for an open loan
        # The renew projection sets this due date and counts one more renewal.
        renewals = state.loan.renewals + 1
        loan = dataclasses.replace(state.loan, due_at=event.data["due_at"], renewals=renewals)
        return self._done("renew", "renewed", state.patron, state.item, loan, event)

    def visit(self, patron_id: str, actor: str = "") -> Event | None:
        """Record a visit: a student's card opened a session (one small event, no table changes)."""
        done = handle(self.store, Visit(patron_id, actor or patron_id))
        return done.event if done.ok else None

    # -- book drifting (图书漂流): no loan, no due date, not counted against the loan limit --

    def drifting(self, barcode: str) -> bool:
        """Return whether a book drifts (its scans take it or hand it in, never lend it)."""
        return drifting.is_drifting(self.store.reader, barcode)

    def drifting_with(self, patron_id: str) -> list[dict[str, Any]]:
        """Return the drifting books a child has now (their session lists them, no due date)."""
        return drifting.drifting_with(self.store.reader, patron_id)

    def set_drifting(self, barcode: str, on: bool, actor: str = "") -> Result:
        """Let a book drift, or bring it back to its shelf (the librarian's choice)."""
        return self._drifted(handle(self.store, SetDrifting(barcode, on, actor)))

    def take_drifting(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """A child takes a drifting book, from the shelf or from the child who had it."""
        return self._drifted(handle(self.store, TakeDrifting(patron_id, barcode, actor)))

    def end_drift(self, barcode: str, actor: str = "") -> Result:
        """A drifting book is handed in: whoever had it has it no more."""
        return self._drifted(handle(self.store, EndDrift(barcode, actor)))

    def _drifted(self, done: Outcome) -> Result:
        """Say what a drifting book's command did (a take, a hand-in, or the librarian's choice)."""
        state: DriftState = done.state
        item = state.item
        params = {"title": item.shown_title} if item is not None else {}
        if done.refusal is not None:
            reason = done.refusal.reason
            return _refuse("drift", reason, patron=state.patron, item=item, params=params)
        event = done.event
        patron = state.patron
        if event.patron_id is None:
            patron = None
        elif patron is None or patron.id != event.patron_id:
            patron = self.patron(event.patron_id)  # the child who had it, handing it in
        said = {"drift_taken": "drift_taken_over" if state.holder else "drift_taken"}
        message = MESSAGES.get(said.get(event.type, event.type), "")  # item_drifting: no words
        return Result(True, "drift", OK, message, params, patron, item, None, event)

    def _refused(self, action: str, refusal: Refusal, state: LoanState) -> Result:
        # Renewal refusals about the loan itself say which loan it was.
        loan = state.loan if refusal.reason in ("renew_overdue", "renew_limit") else None
        return _refuse(
            action,
            refusal.reason,
            patron=state.patron,
            item=state.item,
            loan=loan,
            params=dict(refusal.params),
        )

    def _done(
        self,
        action: str,
        key: str,
        patron: Patron | None,
        item: Item | None,
        loan: Loan | None,
        event: Event,
    ) -> Result:
        assert item is not None  # a decision that said yes had the item
        params: dict[str, Any] = {"title": item.shown_title}
        if loan is not None and action != "checkin":
            params["due_date"] = self.local_date(loan.due_at).isoformat()
        return Result(True, action, OK, MESSAGES[key], params, patron, item, loan, event)
