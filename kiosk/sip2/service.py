"""Circulation as a self-check of a library system: the session's actions over SIP2.

The library system decides; the kiosk keeps a copy of what happened here in its own event log
(the card's patron and the book as the system named them, then the checkout, checkin or renew
event), so that statistics, the idle board and the reports count SIP2 transactions too. When the
system does not answer, returns are always taken and loans within the offline limits; each is
an event plus a queue row committed before the beep (circulation/sip2_queue.py), sent later by
the link (link.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from kiosk.circulation import cards, queries, records, sip2_queue
from kiosk.circulation.answered import Answered
from kiosk.circulation.clock import stamp
from kiosk.circulation.events import Event
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.rules import end_of_day
from kiosk.circulation.service import MESSAGES, OK, Circulation, Identified, Result
from kiosk.circulation.sip2_copy import (
    CopyCheckin,
    CopyCheckout,
    CopyRenew,
    NameItem,
    accepted_lately,
)
from kiosk.circulation.store import Store
from kiosk.config import Sip2Settings
from kiosk.i18n import N_
from kiosk.sip2.client import Offline
from kiosk.sip2.link import Link
from kiosk.sip2.protocol import Malformed, Message, due_date

log = logging.getLogger("kiosk.sip2")
SIP2_ACTOR = "library system"  # the actor of the rows its answers change (stats/names.py)

SIP2_MESSAGES = {
    "card_not_valid": N_("This card is not known to the library. Ask a library helper."),
    "card_blocked": MESSAGES["patron_blocked"],
    "card_lost": MESSAGES["card_lost"],
    "too_many_items": MESSAGES["limit_reached"],
    "fines": N_("You have fines to pay. Please see the librarian."),
    "checkout_refused": N_("This book can't be borrowed here. Please give it to the librarian."),
    "checkin_refused": N_("This book can't be returned here. Please give it to the librarian."),
    "renew_refused": N_("This book can't be renewed. Please see the librarian."),
    "offline_card_unknown": N_(
        "The library system is not answering. You can return books; to borrow, go to the desk."
    ),
    "offline_limit": N_(
        "The library system is not answering, so no more books today. Please go to the desk."
    ),
    "offline_renew": N_("The library system is not answering. Renew at the desk or try later."),
    "unreadable": N_(
        "The library system gave an answer the kiosk cannot read. Please ask a library helper."
    ),
}
# With the library system's own words (AF) after ours, where they help the child or the helper.
SIP2_WITH_SCREEN = {
    "card_blocked": N_(
        "Your card is blocked. Please see the librarian. The library says: {screen}"
    ),
    "fines": N_("You have fines to pay. Please see the librarian. The library says: {screen}"),
    "checkout_refused": N_(
        "This book can't be borrowed here. Please give it to the librarian. "
        "The library says: {screen}"
    ),
    "checkin_refused": N_(
        "This book can't be returned here. Please give it to the librarian. "
        "The library says: {screen}"
    ),
    "renew_refused": N_(
        "This book can't be renewed. Please see the librarian. The library says: {screen}"
    ),
}


@dataclass(frozen=True)
class CardCheck:
    """The library system's answer to a card: accepted, or why not, with its words."""

    ok: bool
    reason: str = OK
    params: dict[str, Any] = field(default_factory=dict)
    offline: bool = False


class Sip2Circulation(Circulation):
    """The circulation service of a kiosk that is a self-check of a library system."""

    rules_elsewhere = True  # the library system has the loan rules: the pages ask it

    def __init__(self, store: Store, timezone: str, settings: Sip2Settings, link: Link) -> None:
        # Every return is recorded: the loan may be the library's, made anywhere.
        super().__init__(store, timezone, record_stray_returns=True)
        self.s = settings
        self.link = link
        self.client = link.client
        self.checks: dict[str, CardCheck] = {}
        # The patron of each card checked, as the system last named them (refreshed at every
        # tap): a book's answer shows their name without reading the row again.
        self.seen: dict[str, Patron] = {}
        # The offline limits, as the handler's settings for an offline checkout's decision.
        self.limits = {
            "offline_card_days": settings.offline_card_days,
            "offline_max_loans": settings.offline_max_loans,
        }
        self.from_card_reader = False  # set by the session for a card reader's scan
        # The thread of the scan running now (the session sets it): that scan's online copy
        # is written after its answer shows (`write_copies`), kept meanwhile in the journal
        # beside the store. A desk action in another thread writes its copy at once.
        self.answer_first: int | None = None
        self._book_read: tuple[str, Item | None] = ("", None)  # the last book identify read
        self.answered = Answered(store)
        self.answered.recover()  # the copies a kill left between an answer and its write
        self._written = threading.Event()
        self._written.set()
        self._patron_re = re.compile(settings.patron_pattern) if settings.patron_pattern else None
        self._item_re = re.compile(settings.item_pattern) if settings.item_pattern else None

    # -- which code is which ------------------------------------------------------------------

    def identify(self, code: str) -> Identified:
        """Say what a code is: by pattern, by what this kiosk has seen, else by asking (17, 63)."""
        db = self.store.reader
        if self.from_card_reader:
            return self._card(code, surely=True)
        if self._item_re is not None and self._item_re.fullmatch(code):
            return self._book(code, *queries.item_and_open_loan(db, code)[::2])
        if self._patron_re is not None and self._patron_re.fullmatch(code):
            return self._card(code, surely=True)
        if cards.find_exact(db, code) is not None:
            return self._card(code, surely=True)
        item, _, drifts = queries.item_and_open_loan(db, code)
        if item is not None:
            return self._book(code, item, drifts)
        try:
            info = self.link.call(self.client.item_information, code)
        except Offline:
            # Offline, a code nobody knows is most likely a book coming back.
            return self._book(code)
        except Malformed:
            info = None
        if info is not None and info.fixed[:2] != "01" and info.get("AJ"):
            return self._book(code, self._remember_item(code, info.get("AJ")))
        return self._card(code)

    def _book(self, code: str, item: Item | None = None, drifts: bool = False) -> Identified:
        # The book's row and whether it drifts, read together; whose loan it is, the library
        # system knows (open_loan is None here), so the session asks nothing more.
        self._book_read = (code, item)  # the answer shows it, before the copy reads it again
        item = item or self._bare_item(code)
        return Identified("item", code, item=item, loan_read=True, drifting=drifts)

    def _card(self, code: str, surely: bool = False) -> Identified:
        """Check a card with 63; offline, by what the system said last time.

        `surely`: the code is a card (a card reader's, a pattern's, one seen before), so a card
        the system does not know is told as such, not as an unknown code.
        """
        try:
            info = self.link.call(self.client.patron_information, code)
        except Offline:
            return self._card_offline(code)
        except Malformed:
            return Identified("unknown", code)
        if info.get("BL", "Y") == "N" or not info.get("AA"):
            if not surely:
                return Identified("unknown", code)
            self.checks[code] = CardCheck(False, "card_not_valid")
            return Identified(
                "patron", code, patron=Patron(code, "", "student", None, "", "active")
            )
        check = card_check(info)
        patron = self._remember_patron(code, info, check)
        self.checks[patron.id], self.seen[patron.id] = check, patron
        if check.reason == "card_lost":
            return Identified("lost_card", code, patron=patron)
        return Identified("patron", code, patron=patron)

    def _card_offline(self, code: str) -> Identified:
        found = cards.find_exact(self.store.reader, code)
        patron = self.patron(found[1]) if found else None
        if patron is None:
            patron = Patron(code, "", "student", None, "", "active")
            self.checks[code] = CardCheck(False, "offline_card_unknown", offline=True)
            return Identified("patron", code, patron=patron)
        self.seen[patron.id] = patron
        accepted = sip2_queue.accepted_at(self.store.reader, patron.id)
        recent = accepted_lately(accepted, self.store.clock.now(), self.s.offline_card_days)
        if patron.status != "active" or not recent:
            self.checks[patron.id] = CardCheck(False, "offline_card_unknown", offline=True)
        else:
            self.checks[patron.id] = CardCheck(True, offline=True)
        return Identified("patron", code, patron=patron)

    def card_check(self, patron_id: str) -> CardCheck:
        """Return the last answer about a card (the session asks right after identify)."""
        return self.checks.get(patron_id, CardCheck(True))

    # -- the local copy -----------------------------------------------------------------------

    def _remember_patron(self, code: str, info: Message, check: CardCheck) -> Patron:
        pid = info.get("AA") or code
        row = {
            "id": pid,
            "name": info.get("AE") or pid,
            "role": "student",
            "grade": None,
            "class_name": "",
            "status": "blocked" if check.reason == "card_blocked" else "active",
        }
        at = self.store.now()
        with self.store.write(durable=False) as db:  # a copy of the system's answer
            # An event when the answer changed the row (none when it is the same), as any copy.
            records.copy_rows(self.store, [records.patron_copy(row, [code])], SIP2_ACTOR)
            if check.ok:
                sip2_queue.card_accepted(db, pid, at)
        patron = self.patron(pid)
        assert patron is not None
        return patron

    def _remember_item(self, code: str, title: str) -> Item:
        done = handle(self.store, NameItem(code, title), durable=False)  # the system's answer
        item = done.state.item or self._bare_item(code)
        return dataclasses.replace(item, title=done.event.data["title"]) if done.events else item

    def _bare_item(self, code: str) -> Item:
        return Item(code, "", "", "", "", "", "available")

    def _copy(
        self, command: Any, offline: bool, due_at: str | None = None, in_doubt: bool = False
    ) -> Outcome | None:
        """Record the copy of a transaction through the handler (and, offline, its queue row).

        Online, the library system has already committed the transaction (its answer is the
        durable record). In a scan (`answer_first`) the copy is a line in the journal (a kill
        cannot lose it: the next start writes it), written right after the answer shows
        (`write_copies`): None is returned. Elsewhere it is written at once. Either way it
        reaches the disk with the next durable commit. Offline, the queue row is the only
        record of the loan: event and row are synced to disk before the beep, in one
        transaction.
        """
        if not offline and self.answer_first == threading.get_ident():
            self._written.clear()
            self.answered.add(command, stamp(self.store.clock.now()))
            return None
        if not offline:
            return handle(self.store, command, durable=False)
        with self.store.write() as db:
            done = handle(self.store, command, self.limits)
            if done.ok:  # the transaction is the last event (after the book's name, if new)
                sip2_queue.enqueue(db, done.events[-1], due_at, in_doubt)
        if done.ok:
            self.link.wake()  # before the next scan asks whether the queue is open
        return done

    def write_copies(self) -> None:
        """Write the copies of the answers just shown (the session calls it after each scan)."""
        try:
            if self.answered.waiting:
                self.answered.write()
        finally:
            self._written.set()

    def copies_written(self, timeout: float) -> bool:
        """Wait until the answers shown have their copies written (the pages read them)."""
        return self._written.wait(timeout)

    # -- acting --------------------------------------------------------------------------------

    def checkout(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Lend with 11; offline, within the offline limits, queued for later."""
        patron = self.seen.get(patron_id) or self.patron(patron_id)
        if self.link.queue_open():
            return self._checkout_offline(patron, barcode, actor)
        try:
            answer = self.link.call(self.client.checkout, patron_id, barcode)
        except Offline as e:
            return self._checkout_offline(patron, barcode, actor, in_doubt=e.after_send)
        except Malformed:
            return self._no("checkout", "unreadable", patron, barcode)
        title = answer.get("AJ")
        if answer.flag(0) != "1":
            if title:
                self._remember_item(barcode, title)
            return self._no("checkout", "checkout_refused", patron, barcode, answer)
        due = due_date(answer.get("AH"), self.tz)
        due_at = stamp(due) if due is not None else stamp(self._offline_due(patron))
        done = self._copy(CopyCheckout(patron_id, barcode, due_at, title, actor), offline=False)
        return self._yes("checkout", "checked_out", patron, barcode, done, due_at, title)

    def _checkout_offline(
        self, patron: Patron | None, barcode: str, actor: str, in_doubt: bool = False
    ) -> Result:
        if patron is None:
            return self._no("checkout", "offline_card_unknown", patron, barcode)
        check = self.checks.get(patron.id)
        due_at = stamp(self._offline_due(patron))
        ok = check is not None and check.ok
        cmd = CopyCheckout(patron.id, barcode, due_at, actor=actor, offline=True, card_ok=ok)
        done = self._copy(cmd, offline=True, due_at=due_at, in_doubt=in_doubt)
        assert done is not None  # offline: written before the beep
        if done.refusal is not None:
            return self._no("checkout", done.reason, patron, barcode)
        return self._yes("checkout", "checked_out", patron, barcode, done, due_at, "")

    def _offline_due(self, patron: Patron | None) -> dt.datetime:
        rules = self.rules()
        p = patron or Patron("", "", "student", None, "", "active")
        today = self.store.clock.now().astimezone(self.tz).date()
        return end_of_day(rules.due_date(p, today), self.tz)

    def checkin(self, barcode: str, actor: str = "") -> Result:
        """Return with 09; offline, always taken and queued."""
        offline, in_doubt = self.link.queue_open(), False
        answer = None
        if not offline:
            try:
                answer = self.link.call(self.client.checkin, barcode)
            except Offline as e:
                offline, in_doubt = True, e.after_send
            except Malformed:
                return self._no("checkin", "unreadable", None, barcode)
        if answer is not None and answer.flag(0) != "1":
            if answer.get("AJ"):
                self._remember_item(barcode, answer.get("AJ"))
            return self._no("checkin", "checkin_refused", None, barcode, answer)
        patron_id = answer.get("AA") if answer is not None else None
        title = answer.get("AJ") if answer is not None else ""
        cmd = CopyCheckin(barcode, patron_id, title, actor, offline)
        done = self._copy(cmd, offline, in_doubt=in_doubt)
        return self._yes("checkin", "checked_in", None, barcode, done, None, title or "")

    def renew(self, patron_id: str, barcode: str, actor: str = "") -> Result:
        """Renew with 29; offline, a renewal waits for the desk."""
        patron = self.seen.get(patron_id) or self.patron(patron_id)
        if self.link.queue_open():
            return self._no("renew", "offline_renew", patron, barcode)
        try:
            answer = self.link.call(self.client.renew, patron_id, barcode)
        except Offline:
            return self._no("renew", "offline_renew", patron, barcode)
        except Malformed:
            return self._no("renew", "unreadable", patron, barcode)
        if answer.flag(0) != "1":
            return self._no("renew", "renew_refused", patron, barcode, answer)
        due = due_date(answer.get("AH"), self.tz)
        due_at = stamp(due) if due is not None else stamp(self._offline_due(patron))
        done = self._copy(CopyRenew(patron_id, barcode, due_at, actor), offline=False)
        return self._yes("renew", "renewed", patron, barcode, done, due_at, "")

    def end_session(self, patron_id: str) -> None:
        """Send 35 End Patron Session; offline there is nothing to end."""
        try:
            self.link.call(self.client.end_session, patron_id)
        except (Offline, Malformed) as e:
            log.info("SIP2: no end of session for %s: %s", patron_id, e)

    def open_loan(self, barcode: str, db: Any = None) -> None:
        """Return None: the library system, not this kiosk, knows whose a book is."""
        return None

    def loan_here(self, barcode: str) -> Loan | None:
        """Return this kiosk's copy of the book's open loan (made here), if any."""
        return super().open_loan(barcode)

    # -- answers -------------------------------------------------------------------------------

    def _yes(
        self,
        action: str,
        key: str,
        patron: Patron | None,
        barcode: str,
        done: Outcome | None,
        due_at: str | None,
        title: str,
    ) -> Result:
        item, event = self._copied(barcode, done, title)
        params: dict[str, Any] = {"title": item.title}
        if due_at is not None:
            params["due_date"] = self.local_date(due_at).isoformat()
        return Result(True, action, OK, MESSAGES[key], params, patron, item, None, event)

    def _copied(self, barcode: str, done: Outcome | None, title: str) -> tuple[Item, Event | None]:
        """Return the book as the answer names it, and the copy's event (None until written)."""
        if done is None:
            # Written after the answer: the book as identify read it, named as the copy will.
            code, read = self._book_read
            item = read if code == barcode else self.item(barcode)
            if item is None:
                return dataclasses.replace(self._bare_item(barcode), title=title or barcode), None
            return (dataclasses.replace(item, title=title) if title else item), None
        # The book as the copy found it, with the name the copy gave it: no second read.
        item = (done.state.item if done.state is not None else None) or self._bare_item(barcode)
        *named, event = done.events
        if named:
            item = dataclasses.replace(item, title=named[0].data["title"])
        return item, event

    def _no(
        self,
        action: str,
        reason: str,
        patron: Patron | None,
        barcode: str,
        answer: Message | None = None,
    ) -> Result:
        item = self.item(barcode) or self._bare_item(barcode)
        message, params = with_screen(reason, {"title": item.title}, answer)
        return Result(False, action, reason, message, params, patron, item)


def with_screen(
    reason: str, params: dict[str, Any], answer: Message | None = None
) -> tuple[str, dict[str, Any]]:
    """Return the message for a refusal, with the system's own words (AF) when it sent any."""
    screen = params.get("screen", "")
    if answer is not None:
        screen = " ".join(a.strip() for a in answer.all("AF") if a.strip())
    if screen and reason in SIP2_WITH_SCREEN:
        return SIP2_WITH_SCREEN[reason], {**params, "screen": screen}
    return SIP2_MESSAGES[reason], params


def card_check(info: Message) -> CardCheck:
    """Turn a 64 into the kiosk's answer: accepted, blocked, card lost, too many items, fines."""
    status = info.fixed[:14]
    screen = " ".join(a for a in info.all("AF") if a.strip())
    params: dict[str, Any] = {"screen": screen} if screen else {}

    def flag(i: int) -> bool:
        return status[i : i + 1] == "Y"

    if flag(4):
        return CardCheck(False, "card_lost", params)
    if flag(5):
        # 64 counts the charged items; a 24 (23 Patron Status) has no counts.
        count = int(info.fixed[43:47]) if info.fixed[43:47].strip().isdigit() else 0
        return CardCheck(False, "too_many_items", {**params, "count": count})
    if flag(10) or flag(11):
        return CardCheck(False, "fines", params)
    if flag(0) or any(flag(i) for i in (6, 9, 12, 13)):
        return CardCheck(False, "card_blocked", params)
    return CardCheck(True)
