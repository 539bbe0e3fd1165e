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

from kiosk.circulation import cards
from kiosk.circulation.clock import stamp
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.rules import Rules, end_of_day, load_rules
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
            "SELECT loans.*, items.title FROM loans JOIN items ON items.barcode = item_barcode "
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
        with self.store.write() as db:
            patron, item = self.patron(patron_id, db), self.item(barcode, db)
            if patron is None or item is None:
                return _refuse("checkout", "unknown_code", patron=patron, item=item)
            rules = self.rules(db)
            refusal = self._checkout_refusal(db, rules, patron, item)
            if refusal:
                return refusal
            now = self.store.clock.now()
            due = end_of_day(rules.due_date(patron, now.astimezone(self.tz).date()), self.tz)
            event = self.store.event(
                "checkout",
                actor=actor or patron.id,
                patron_id=patron.id,
                item_barcode=item.barcode,
                data={"due_at": stamp(due)},
            )
            db.execute(
                "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [event.uuid, item.barcode, patron.id, event.at, stamp(due)],
            )
            self._set_status(db, item.barcode, "on_loan", event.at)
            event = self.store.record(db, event)
            loan = self.open_loan(item.barcode, db)
        return self._done("checkout", "checked_out", patron, item, loan, event)

    def _checkout_refusal(
        self, db: Database, rules: Rules, patron: Patron, item: Item
    ) -> Result | None:
        if patron.status != "active":
            return _refuse("checkout", "patron_blocked", patron=patron, item=item)
        loan = self.open_loan(item.barcode, db)
        if loan is not None:
            return _refuse("checkout", "on_loan_to_other", patron=patron, item=item)
        if item.status != "available":
            return _refuse("checkout", "item_unavailable", patron=patron, item=item)
        loans = self.loans_of(patron.id, db)
        if rules.block_when_overdue and any(row["due_at"] < self.store.now() for row in loans):
            return _refuse("checkout", "has_overdue", patron=patron, item=item)
        limit = rules.limits(patron).max_loans
        if len(loans) >= limit:
            return _refuse(
                "checkout", "limit_reached", patron=patron, item=item, params={"count": len(loans)}
            )
        return None

    def checkin(self, barcode: str, actor: str = "") -> Result:
        """Return an item that is on loan."""
        with self.store.write() as db:
            item = self.item(barcode, db)
            if item is None:
                return _refuse("checkin", "unknown_code")
            loan = self.open_loan(barcode, db)
            if loan is None:
                if not self.record_stray_returns:
                    return _refuse("checkin", "not_on_loan", item=item)
                event = self.store.event(
                    "checkin",
                    actor=actor or "self-service",
                    item_barcode=barcode,
                    data={"loan_uuid": None, "not_on_loan": True},
                )
                event = self.store.record(db, event)
                refused = _refuse("checkin", "not_on_loan", item=item)
                return Result(**{**refused.__dict__, "event": event})
            patron = self.patron(loan.patron_id, db)
            event = self.store.event(
                "checkin",
                actor=actor or loan.patron_id,
                patron_id=loan.patron_id,
                item_barcode=barcode,
                data={"loan_uuid": loan.uuid, "overdue": loan.due_at < self.store.now()},
            )
            db.execute("UPDATE loans SET returned_at = ? WHERE id = ?", [event.at, loan.id])
            # A lost or damaged book that comes back keeps its status for the librarian to decide.
            if item.status == "on_loan":
                self._set_status(db, barcode, "available", event.at)
            event = self.store.record(db, event)
        return self._done("checkin", "checked_in", patron, item, loan, event)

    def renew(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Extend a patron's loan of an item, if the rules allow it."""
        with self.store.write() as db:
            patron, item = self.patron(patron_id, db), self.item(barcode, db)
            loan = self.open_loan(barcode, db)
            if patron is None or item is None:
                return _refuse("renew", "unknown_code", patron=patron, item=item)
            if loan is None or loan.patron_id != patron.id:
                reason = "not_on_loan" if loan is None else "on_loan_to_other"
                return _refuse("renew", reason, patron=patron, item=item)
            rules = self.rules(db)
            if patron.status != "active":
                return _refuse("renew", "patron_blocked", patron=patron, item=item)
            if loan.due_at < self.store.now():
                return _refuse("renew", "renew_overdue", patron=patron, item=item, loan=loan)
            if loan.renewals >= rules.limits(patron).renewals:
                return _refuse("renew", "renew_limit", patron=patron, item=item, loan=loan)
            today = self.store.clock.now().astimezone(self.tz).date()
            due = stamp(end_of_day(rules.due_date(patron, today), self.tz))
            due = max(due, loan.due_at)
            event = self.store.event(
                "renew",
                actor=actor or patron.id,
                patron_id=patron.id,
                item_barcode=barcode,
                data={"loan_uuid": loan.uuid, "due_at": due, "previous_due_at": loan.due_at},
            )
            db.execute(
                "UPDATE loans SET due_at = ?, renewals = renewals + 1 WHERE id = ?", [due, loan.id]
            )
            event = self.store.record(db, event)
            loan = self.open_loan(barcode, db)
        return self._done("renew", "renewed", patron, item, loan, event)

    def _set_status(self, db: Database, barcode: str, status: str, at: str) -> None:
        db.execute(
            "UPDATE items SET status = ?, updated_at = ? WHERE barcode = ?", [status, at, barcode]
        )

    def _done(
        self,
        action: str,
        key: str,
        patron: Patron | None,
        item: Item,
        loan: Loan | None,
        event: Event,
    ) -> Result:
        params: dict[str, Any] = {"title": item.title}
        if loan is not None and action != "checkin":
            params["due_date"] = self.local_date(loan.due_at).isoformat()
        return Result(True, action, OK, MESSAGES[key], params, patron, item, loan, event)
