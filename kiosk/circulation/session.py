"""The kiosk session: what a scan means depends on who tapped their card last.

Built for a lunch-break queue, where the next child steps up while the last one walks away:

    idle --student card--> patron --books--> checkout; own earlier loan: checkin;
                                             borrowed in this session: "already yours";
                                             someone else's loan: checkin, and the session ends
    idle --helper card---> desk   --books--> checkin (bulk returns)
                           desk   --any card--> lend_for --books--> checkout for that patron
                           desk   --open_box(class)--> box --books--> into a class corner's box
                                  (lent by collection.corners when the helper says so)
    idle --book on loan--> checkin; a book not on loan --> "tap your card first"
                           (with a hub: the return is recorded, "returned, tap your card first")

A renewal is never a scan: it is `renew()`, a touch on the child's own list of loans. A session
ends `timeout_s` after the card when nothing is scanned, `after_result_s` after a book's answer,
on any other card, on done(), or when a book of someone else's comes back. Each input gives one
`Feedback`; listeners (indicator, screen) receive it after the store has committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.circulation.clock import Clock
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.service import MESSAGES, Circulation, Identified, Result
from kiosk.i18n import N_

log = logging.getLogger(__name__)

IDLE, PATRON, DESK, LEND_FOR, BOX = "idle", "patron", "desk", "lend_for", "box"
HELPER_MODES = (DESK, LEND_FOR, BOX)

SESSION_MESSAGES = {
    "invalid_scan": N_("That scan was not clear. Please scan again."),
    "already_yours": N_("This book is already yours. Due {due_date}."),
    "returned_here": N_("This book was just returned. To borrow it, tap your card again."),
    "returned_tap_card": N_("Returned, thank you. To borrow it, tap your card first."),
    "session_started": N_("Hello, {name}! Scan your books."),
    "session_ended": N_("Goodbye! See you next time."),
    "desk_opened": N_("Desk mode: scan books to return them, or a card to lend."),
    "lend_for": N_("Lending for {name} ({class_name}). Scan the books."),
    "returned_ended": N_("Returned, thank you! To borrow books, tap your card again."),
    "counting_started": N_("Stocktake: the kiosk counts books now, no lending."),
    "counting_ended": N_("The stocktake has stopped: tap your card to borrow books."),
    "counting_card": N_("The kiosk is counting books now; please come back later to borrow."),
    "counting_desk": N_("Stocktake: scan the books on the shelf, each one is counted."),
    "box_opened": N_("Packing a box for the book corner of {class_name}: scan its books."),
    "box_added": N_("In the box for {class_name} ({count})."),
    "box_twice": N_("Already in the box."),
    "box_not_on_shelf": N_("This book is not on the shelf: it cannot go in the box."),
}
WARNING_REASONS = {
    "scan_card_first",
    "not_on_loan",
    "invalid_scan",
    "returned_here",
    "drift_free",
}


@dataclass(frozen=True)
class Feedback:
    """What the kiosk tells the student about one input."""

    kind: str  # ok, error, warning, session_started, session_ended
    reason: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    result: Result | None = None
    mode: str = IDLE
    code: str = ""
    repeated: bool = False
    # Reading badges this input earned, shown once with it (reading/kiosk_hook.py).
    badges: tuple[dict[str, Any], ...] = ()


Listener = Callable[[Feedback], None]


def clean_code(raw: str, max_length: int = 64) -> str | None:
    """Return the scanned code without surrounding blanks, or None if it is not a plausible code."""
    code = raw.strip()
    if not code or len(code) > max_length:
        return None
    # U+FFFD stands where a source met bytes that were not UTF-8.
    if any(not ch.isprintable() or ch == "\ufffd" for ch in code):
        return None
    return code


class Kiosk:
    """The session state machine over the circulation service."""

    def __init__(
        self,
        circulation: Circulation,
        clock: Clock,
        *,
        timeout_s: float = 20.0,
        after_result_s: float = 10.0,
        desk_timeout_s: float = 300.0,
        repeat_window_s: float = 5.0,
        answer_s: float = 8.0,
        max_code_length: int = 64,
        hook: Any = None,
        search_timeout_s: float = 30.0,
    ) -> None:
        self.circulation = circulation
        # The collection's hook (collection/kiosk_hook.py): stocktake mode, withdrawn and lost
        # books, holds. It answers a scan first (`before`) and adds to committed feedback (`after`).
        self.hook = hook
        self.clock = clock
        self.timeout_s = timeout_s
        self.after_result_s = after_result_s
        self.desk_timeout_s = desk_timeout_s
        self.answer_s = answer_s
        self.repeat_window_s = repeat_window_s
        self.max_code_length = max_code_length
        self.search_timeout_s = search_timeout_s
        self.mode = IDLE
        self.patron: Patron | None = None  # whose loans the session shows and lends to
        self.helper: Patron | None = None  # who runs the desk, the actor of desk actions
        self.results: list[Feedback] = []  # this session's book results, newest last
        self.box: list[str] = []  # box mode: the books packed for a class corner, in order
        self.box_class = ""
        self._borrowed: set[str] = set()  # books lent in this session: "already yours"
        self._returned: set[str] = set()  # books returned in this session: not lent by a scan
        self._answer: tuple[float, Feedback] | None = None  # the last answer, for a new page
        self._last_input = 0.0
        self._last_book: tuple[str, float, Feedback] | None = None
        self._listeners: list[Listener] = []
        # A search on the idle screen: its last touch, and the book asked for ("I want this"),
        # which the next card tapped takes (see want()).
        self._searched_at: float | None = None
        self._wanted: tuple[str, float] | None = None
        self._lock = threading.RLock()
        # Stocktake mode (the hook says a stocktake runs): scans are counted, never lent or
        # returned, and only a helper's card opens a session (the desk).
        self.counting = bool(hook is not None and hook.counting())

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every feedback, after the store committed."""
        self._listeners.append(listener)

    def _emit(self, fb: Feedback) -> Feedback:
        self._answer = (self.clock.monotonic(), fb)
        for listener in list(self._listeners):
            listener(fb)
        return fb

    # -- inputs ----------------------------------------------------------------------------

    def scan(self, raw: str) -> Feedback:
        """Handle one scanned or typed code."""
        with self._lock:
            self._follow_stocktake()
            self._expire()
            code = clean_code(raw, self.max_code_length)
            if code is None:
                return self._emit(self._say("warning", "invalid_scan"))
            now = self.clock.monotonic()
            last = self._last_book
            if last and last[0] == code and now - last[1] < self.repeat_window_s:
                # The same book twice in a moment is one action: show the result again.
                return self._emit(replace(last[2], repeated=True))
            self._last_input = now
            found = self.circulation.identify(code)
            if self.mode == BOX and found.kind == "item":
                fb = self._packed(code, found.item)
                self.results.append(fb)
                return self._emit(fb)
            early = self.hook.before(self, code, found) if self.hook is not None else None
            if early is not None or found.kind == "item":
                fb = self._after(early or self._book(code, found.item, found))
                self._last_book = (code, now, fb)
                if self.mode != IDLE:
                    self.results.append(fb)
                return self._emit(fb)
            self._last_book = None
            if found.kind == "patron" and found.patron is not None:
                # A card ends a search at once (the queue comes first); a book asked for in
                # it goes to this card's session (the hook places the hold), or is forgotten.
                self._searched_at = None
                fb = self._after(self._card(found.patron))
                self._wanted = None
                return self._emit(fb)
            if found.kind == "lost_card" and self.mode == PATRON:
                self._reset()  # a card is someone stepping up: the last child's session is over
            reason = "card_lost" if found.kind == "lost_card" else "unknown_code"
            fb = self._result_feedback(self._refusal(reason), code)
            if reason == "unknown_code" and self.mode != IDLE:
                self.results.append(fb)  # a code scanned as a book: listed with the books
            return self._emit(fb)

    def renew(self, code: str) -> Feedback | None:
        """Renew one of the session patron's loans: a touch on their list, never a scan."""
        with self._lock:
            self._expire()
            if self.mode not in (PATRON, LEND_FOR) or self.patron is None:
                return None
            self._last_input = self.clock.monotonic()
            self._last_book = None
            result = self.circulation.renew(self.patron.id, code, actor=self._actor())
            fb = self._result_feedback(result, code)
            self.results.append(fb)
            return self._emit(fb)

    def open_box(self, class_name: str) -> Feedback | None:
        """Start packing a box of books for a class corner (a helper's session only)."""
        with self._lock:
            self._expire()
            if self.mode not in HELPER_MODES or self.helper is None or not class_name:
                return None
            self.mode, self.patron, self.results = BOX, None, []
            self.box, self.box_class = [], class_name
            self._last_input = self.clock.monotonic()
            return self._emit(self._say("session_started", "box_opened", class_name=class_name))

    def close_box(self, lent: Collection[str] | None = None) -> list[str]:
        """Take the books `lent` out of the box (None: put the whole box away); return the
        books still packed. An empty box ends box mode: the helper's desk goes on."""
        with self._lock:
            if self.mode != BOX:
                return []
            self.box = [c for c in self.box if lent is not None and c not in lent]
            if not self.box:
                # A book scanned while the box was being lent stays packed for the next one.
                self.mode, self.results, self.box_class = DESK, [], ""
            self._last_input = self.clock.monotonic()
            return list(self.box)

    def touch(self) -> None:
        """Count a touch on the screen's search: the child is still there."""
        with self._lock:
            if self.mode == IDLE:
                self._searched_at = self.clock.monotonic()
            else:
                self._last_input = self.clock.monotonic()

    def want(self, barcode: str) -> Feedback | None:
        """Ask for a book that is out ("I want this"): for the session's student now, or for
        the next card tapped while the search lasts; None when it waits for that card."""
        with self._lock:
            self._expire()
            now = self.clock.monotonic()
            if self.hook is None or self.mode == DESK:
                return None
            if self.mode == IDLE:
                self._wanted, self._searched_at = (barcode, now), now
                return None
            self._last_input = now
            return self._emit(self.hook.want(self, barcode))

    def take_wanted(self) -> str | None:
        """Return the book asked for before this card, once (None when none, or too long ago)."""
        with self._lock:
            wanted, self._wanted = self._wanted, None
            if wanted is None or self.clock.monotonic() - wanted[1] > self.search_timeout_s:
                return None
            return wanted[0]

    def search_over(self) -> bool:
        """Return True, once, when a search on the idle screen had no touch for
        `search_timeout_s`: the screen goes back to idle and the book asked for is forgotten."""
        with self._lock:
            if self.mode != IDLE or self._searched_at is None:
                return False
            if self.clock.monotonic() - self._searched_at < self.search_timeout_s:
                return False
            self._searched_at, self._wanted = None, None
            return True

    def fault(self, message: str) -> Feedback:
        """Say the kiosk cannot serve (a damaged store, a failed scan): light, beep and screen."""
        with self._lock:
            self._reset()
            return self._emit(Feedback("fault", "fault", message, {}, None, IDLE))

    def done(self) -> Feedback | None:
        """End the session now (the done button)."""
        with self._lock:
            return self._emit(self._end()) if self.mode != IDLE else None

    def tick(self) -> Feedback | None:
        """End the session if it has timed out or a stocktake started or stopped; call this a
        few times a second."""
        with self._lock:
            if self._follow_stocktake() is not None:
                return None  # already told, and the session is over
            fb = self._expire()
            return self._emit(fb) if fb else None

    def announce(self, result: Result, code: str = "") -> Feedback:
        """Tell the listeners (screen, lights, sync) about an action taken at the desk page."""
        with self._lock:
            return self._emit(self._result_feedback(result, code))

    def seconds_left(self) -> float | None:
        """Return seconds until the session closes, or None when idle."""
        with self._lock:
            if self.mode == IDLE:
                return None
            if self.mode in HELPER_MODES:
                limit = self.desk_timeout_s
            else:
                # Waiting for the first book gives time to find it; after an answer, the child
                # has what they came for, and the next child must not inherit the session.
                limit = self.after_result_s if self.results else self.timeout_s
            return max(0.0, limit - (self.clock.monotonic() - self._last_input))

    def answer(self) -> tuple[Feedback, float] | None:
        """Return the last answer and how many seconds more the idle screen should show it."""
        with self._lock:
            if self._answer is None:
                return None
            at, fb = self._answer
            left = self.answer_s - (self.clock.monotonic() - at)
            return (fb, left) if left > 0 and fb.kind != "session_ended" else None

    # -- decisions -------------------------------------------------------------------------

    def _follow_stocktake(self) -> Feedback | None:
        # Started or stopped from the desk, the dashboard or `kiosk stocktake` (another
        # process): the open session ends at once, so that no shelf scan lends a book.
        try:
            counting = bool(self.hook is not None and self.hook.counting())
        except Exception:
            # A store that cannot answer keeps the mode; a scan then fails and says so itself.
            log.debug("could not read whether a stocktake runs", exc_info=True)
            return None
        if counting == self.counting:
            return None
        self.counting = counting
        helper = self.helper if self.mode in HELPER_MODES else None
        self._reset()
        if helper is not None:
            # The helper who runs the desk (and may have started or paused the stocktake from
            # it) keeps the desk; what they were lending or packing ends with the mode.
            self.mode, self.helper = DESK, helper
            self._last_input = self.clock.monotonic()
            opened = self._say("session_started", "desk_opened")
            if counting:
                opened = replace(opened, message=SESSION_MESSAGES["counting_desk"])
            return self._emit(opened)
        return self._emit(
            self._say("session_ended", "counting_started" if counting else "counting_ended")
        )

    def _card(self, patron: Patron) -> Feedback:
        if self.counting and not (patron.can_run_desk and self.mode == IDLE):
            # Only a helper opens a session now (the desk, whose scans count too).
            return self._say("warning", "counting_card", name=patron.given_name)
        if self.mode in HELPER_MODES and self.helper is not None:
            if patron.id == self.helper.id and self.mode != DESK:
                self.patron, self.mode, self.results = None, DESK, []
                self.box, self.box_class = [], ""
                return self._say("session_started", "desk_opened")
            if patron.status != "active":
                return self._result_feedback(self._refusal("patron_blocked", patron), patron.id)
            self.patron, self.mode, self.results = patron, LEND_FOR, []
            return self._say(
                "session_started", "lend_for", name=patron.given_name, class_name=patron.class_name
            )
        if patron.status != "active":
            self._reset()
            return self._result_feedback(self._refusal("patron_blocked", patron), patron.id)
        # The same card again while its session is open is the same visit, started afresh.
        again = self.mode == PATRON and self.patron is not None and self.patron.id == patron.id
        self._reset()
        self._last_input = self.clock.monotonic()
        if patron.can_run_desk:
            self.mode, self.helper = DESK, patron
            opened = self._say("session_started", "desk_opened")
            # The desk's scans are counted now, not returned: say so.
            return (
                replace(opened, message=SESSION_MESSAGES["counting_desk"])
                if self.counting
                else opened
            )
        self.mode, self.patron = PATRON, patron
        if not again:
            self._visit(patron)
        return self._say("session_started", "session_started", name=patron.given_name)

    def _visit(self, patron: Patron) -> None:
        # The reading statistics count visits; a failed INSERT must not keep a child waiting.
        try:
            self.circulation.visit(patron.id)
        except Exception:
            log.exception("could not record the visit of %s; the session opens anyway", patron.id)

    def _book(self, code: str, item: Item | None, found: Identified | None = None) -> Feedback:
        c = self.circulation
        # identify() read the book's open loan and its drifting with the book: no second read.
        read = found is not None and found.loan_read
        if item is not None and (found.drifting if read and found else c.drifting(code)):
            return self._drifting(code)
        loan = found.loan if read and found else c.open_loan(code)
        if self.mode in (IDLE, DESK):
            if loan is not None or self.mode == DESK:
                return self._result_feedback(c.checkin(code, actor=self._actor()), code)
            if c.record_stray_returns:
                # With a hub, the loan may be another kiosk's: record the return, and say so.
                result = c.checkin(code, actor=self._actor())
                # Recorded (a stray return is recorded, though refused as "not on loan"), or
                # taken with its record to follow (a SIP2 system's answer shows first).
                if result.ok or result.event is not None:
                    return self._say("ok", "returned_tap_card", result=result, code=code)
                return self._result_feedback(result, code)
            return self._result_feedback(self._refusal("scan_card_first", item=item), code)
        assert self.patron is not None
        if loan is not None and loan.patron_id == self.patron.id:
            if code in self._borrowed:
                due = c.local_date(loan.due_at).isoformat()
                result = self._refusal("already_yours", item=item, loan=loan)
                return self._say("ok", "already_yours", result=result, code=code, due_date=due)
            # An earlier loan of their own: the child is handing it back, overdue or not.
            return self._checkin(code)
        if loan is not None and self.mode == PATRON:
            # Someone else's book is here, so its borrower gave it back: take it back, and end
            # the session, as the child now scanning is most likely not the one who tapped
            # (so the return is not theirs either: it is the self-service desk's).
            self._reset()
            result = c.checkin(code, actor=self._actor())
            if result.ok:  # the child is still there: say how to go on borrowing
                return self._say("ok", "returned_ended", result=result, code=code)
            return self._result_feedback(result, code)
        if code in self._returned:
            return self._result_feedback(self._refusal("returned_here", item=item), code)
        result = c.checkout(self.patron.id, code, actor=self._actor())
        if result.ok:
            self._borrowed.add(code)
        return self._result_feedback(result, code)

    def _drifting(self, code: str) -> Feedback:
        # A drifting book is never lent: a child's scan takes it (from whoever had it), the
        # same child's scan in a later session hands it in, and so does any scan with no card.
        c = self.circulation
        if self.mode not in (PATRON, LEND_FOR) or self.patron is None:
            return self._result_feedback(c.end_drift(code, actor=self._actor()), code)
        if code in self._returned:
            return self._result_feedback(self._refusal("returned_here"), code)
        result = c.take_drifting(self.patron.id, code, actor=self._actor())
        if result.reason == "drift_yours" and code not in self._borrowed:
            result = c.end_drift(code, actor=self._actor())
            if result.ok:
                self._returned.add(code)
        elif result.ok:
            self._borrowed.add(code)
        if result.reason == "drift_yours":  # taken in this session: it is theirs, all is well
            return replace(self._result_feedback(result, code), kind="ok")
        return self._result_feedback(result, code)

    def _packed(self, code: str, item: Item | None) -> Feedback:
        # Nothing is lent yet: the box is lent in one go (collection.corners) when it is full.
        params: dict[str, Any] = {"class_name": self.box_class, "count": len(self.box)}
        if item is None:
            return self._result_feedback(self._refusal("unknown_code"), code)
        if code in self.box:
            return self._say("warning", "box_twice", code=code, title=item.title, **params)
        if item.status != "available" or self.circulation.open_loan(code) is not None:
            return self._say("warning", "box_not_on_shelf", code=code, title=item.title)
        self.box.append(code)
        params["count"] = len(self.box)
        return self._say("ok", "box_added", code=code, title=item.title, **params)

    def _checkin(self, code: str) -> Feedback:
        result = self.circulation.checkin(code, actor=self._actor())
        if result.ok:
            self._returned.add(code)
        return self._result_feedback(result, code)

    def _actor(self) -> str:
        # A return with no card is anonymous: the actor is the kiosk's self-service desk.
        if self.helper is not None:
            return self.helper.id
        return self.patron.id if self.patron is not None else "self-service"

    def _expire(self) -> Feedback | None:
        left = self.seconds_left()
        if left is not None and left <= 0:
            return self._end()
        return None

    def _end(self) -> Feedback:
        self._reset()
        return self._say("session_ended", "session_ended")

    def _reset(self) -> None:
        self.mode, self.patron, self.helper, self.results = IDLE, None, None, []
        self.box, self.box_class = [], ""
        self._borrowed, self._returned = set(), set()
        self._last_book = None

    # -- feedback --------------------------------------------------------------------------

    def _refusal(
        self,
        reason: str,
        patron: Patron | None = None,
        item: Item | None = None,
        loan: Loan | None = None,
    ) -> Result:
        message = MESSAGES.get(reason) or SESSION_MESSAGES[reason]
        params = {"title": item.shown_title} if item is not None else {}
        return Result(False, "none", reason, message, params, patron=patron, item=item, loan=loan)

    def _after(self, fb: Feedback) -> Feedback:
        return self.hook.after(self, fb) if self.hook is not None else fb

    def _result_feedback(self, result: Result, code: str) -> Feedback:
        kind = "ok" if result.ok else "warning" if result.reason in WARNING_REASONS else "error"
        return Feedback(kind, result.reason, result.message, result.params, result, self.mode, code)

    def _say(
        self, kind: str, key: str, result: Result | None = None, code: str = "", **params: Any
    ) -> Feedback:
        if result is not None and result.item is not None:
            params = {"title": result.item.shown_title, **params}
        return Feedback(kind, key, SESSION_MESSAGES[key], params, result, self.mode, code)
