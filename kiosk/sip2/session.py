"""The lunch-queue session of a SIP2 self-check: the same flow, with the library system's answers.

A card's answer comes from 63 (accepted, blocked, card lost, too many items, fines), with the
system's own words where they help; Done and a timed-out session send 35 End Patron Session.
"""

from __future__ import annotations

import threading
from typing import Any

from kiosk.circulation.models import Item, Patron
from kiosk.circulation.service import Identified, Result
from kiosk.circulation.session import PATRON, Feedback, Kiosk
from kiosk.sip2.service import Sip2Circulation, with_screen

CARD_READER = "card"  # the source name of kiosk.devices' card readers


class Sip2Kiosk(Kiosk):
    """The session state machine over a `Sip2Circulation`."""

    circulation: Sip2Circulation

    def __init__(self, circulation: Sip2Circulation, *args: Any, **kw: Any) -> None:
        super().__init__(circulation, *args, **kw)

    def scan(self, raw: str) -> Feedback:
        """Handle a scan: the answer goes to the listeners first, the kiosk's copy right after."""
        with self._lock:
            self.circulation.answer_first = threading.get_ident()
            try:
                return super().scan(raw)
            finally:
                self.circulation.answer_first = None
                self.circulation.write_copies()

    def scan_from(self, source: str, raw: str) -> Feedback:
        """Handle a scan, knowing its source: a card reader's code is a card."""
        with self._lock:
            self.circulation.from_card_reader = source == CARD_READER
            try:
                return self.scan(raw)
            finally:
                self.circulation.from_card_reader = False

    def _card(self, patron: Patron) -> Feedback:
        check = self.circulation.card_check(patron.id)
        if not check.ok:
            self._reset()  # a card is someone stepping up: the last child's session is over
            message, params = with_screen(check.reason, dict(check.params))
            result = Result(False, "none", check.reason, message, params, patron=patron)
            return self._result_feedback(result, patron.id)
        return super()._card(patron)

    def _book(self, code: str, item: Item | None, found: Identified | None = None) -> Feedback:
        # A book lent in this session, scanned again: "already yours", not a second 11.
        if self.mode == PATRON and self.patron is not None and code in self._borrowed:
            loan = self.circulation.loan_here(code)
            if loan is not None and loan.patron_id == self.patron.id:
                due = self.circulation.local_date(loan.due_at).isoformat()
                result = self._refusal("already_yours", item=item, loan=loan)
                return self._say("ok", "already_yours", result=result, code=code, due_date=due)
        return super()._book(code, item, found)

    def _end(self) -> Feedback:
        if self.mode == PATRON and self.patron is not None:
            self.circulation.end_session(self.patron.id)
        return super()._end()
