"""The circulation service: identify a code, check out, check in, renew.

Each action reads, decides by the rules and writes the loan change and its event in one
transaction; it returns a `Result` that says what happened and why (a stable reason code, and a
message id the screen translates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from kiosk.circulation import cards, decide, queries
from kiosk.circulation.clock import stamp
from kiosk.circulation.commands import Checkin, Checkout, Renew, Visit
from kiosk.circulation.decide import LoanState
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.projector import Refusal, commit
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
    # Item types (rules.ItemType): {type} is the type's name, in the reader's words (i18n.py).
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

    # -- reading ---------------------------------------------------------------------------

    def identify(self, code: str) -> Identified:
        """Say whether a code is a patron's card, an item, a lost card, or unknown."""
        db = self.store.reader
        # Exact codes first; a card's other form (decimal for a hex UID, or the reverse) only
        # when no card or book has exactly this code.
        card = cards.find_exact(db, code)
        item = None if card else self.item(code, db)
        if item:
            return Identified("item", code, item=item)
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
        version = db.execute("SELECT n FROM rules_version").fetchone()[0]
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

    def checkout(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Lend an item to a patron, if the rules allow it."""
        cmd = Checkout(patron_id, barcode, actor)
        with self.store.write() as db:
            state = self._state(db, patron_id, barcode, with_patron_loans=True)
            now = self.store.clock.now()
            decision = decide.checkout(self.rules(db), self.tz, state, cmd, now)
            if isinstance(decision, Refusal):
                return self._refused("checkout", decision, state)
            (event,) = commit(self.store, db, decision, stamp(now))
            loan = self.open_loan(barcode, db)
        return self._done("checkout", "checked_out", state.patron, state.item, loan, event)

    def lend(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Lend a book to a patron: a renewal when the patron already has it, else a checkout."""
        loan = self.open_loan(barcode)
        if loan is not None and loan.patron_id == patron_id:
            return self.renew(patron_id, barcode, actor=actor)
        return self.checkout(patron_id, barcode, actor=actor)

    def checkin(self, barcode: str, actor: str = "") -> Result:
        """Return an item that is on loan."""
        cmd = Checkin(barcode, actor)
        with self.store.write() as db:
            state = self._state(db, None, barcode)
            now = self.store.clock.now()
            decision = decide.checkin(state, cmd, now, self.record_stray_returns)
            if isinstance(decision, Refusal):
                return self._refused("checkin", decision, state)
            (event,) = commit(self.store, db, decision, stamp(now))
            loan, patron = state.loan, state.patron
            if loan is None:
                # A stray return: recorded for the hub, told as "not on loan" here.
                refused = _refuse("checkin", "not_on_loan", item=state.item)
                return Result(**{**refused.__dict__, "event": event})
            patron = self.patron(loan.patron_id, db)
        return self._done("checkin", "checked_in", patron, state.item, loan, event)

    def renew(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Extend a patron's loan of an item, if the rules allow it."""
        cmd = Renew(patron_id, barcode, actor)
        with self.store.write() as db:
            state = self._state(db, patron_id, barcode)
            now = self.store.clock.now()
            decision = decide.renew(self.rules(db), self.tz, state, cmd, now)
            if isinstance(decision, Refusal):
                return self._refused("renew", decision, state)
            (event,) = commit(self.store, db, decision, stamp(now))
            loan = self.open_loan(barcode, db)
        return self._done("renew", "renewed", state.patron, state.item, loan, event)

    def visit(self, patron_id: str, actor: str = "") -> Event | None:
        """Record a visit: a student's card opened a session (one small event, no table changes)."""
        cmd = Visit(patron_id, actor or patron_id)
        with self.store.write() as db:
            decision = decide.visit(self.patron(patron_id, db), cmd)
            if isinstance(decision, Refusal):
                return None
            (event,) = commit(self.store, db, decision, stamp(self.store.clock.now()))
        return event

    def _state(
        self, db: Database, patron_id: str | None, barcode: str, with_patron_loans: bool = False
    ) -> LoanState:
        """Read what a loan decision needs, inside the action's transaction."""
        patron = self.patron(patron_id, db) if patron_id is not None else None
        item = self.item(barcode, db)
        loan = self.open_loan(barcode, db) if item is not None else None
        held: list[dict[str, Any]] = []
        if with_patron_loans and patron is not None:
            held = queries.open_loans_due(db, patron.id)
        return LoanState(
            patron, item, loan, [r["due_at"] for r in held], [r["item_type"] for r in held]
        )

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
