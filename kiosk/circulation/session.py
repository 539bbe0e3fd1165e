"""The kiosk session: what a scan means depends on who tapped their card last.

    idle --student card--> patron --books--> checkout (or renew when already theirs)
    idle --helper card---> desk   --books--> checkin (bulk returns)
                           desk   --any card--> lend_for --books--> checkout for that patron
    idle --book on loan--> checkin; a book not on loan --> "tap your card first"

A session ends on a timeout after the last scan, on a new card, or on done(). Each input gives
one `Feedback`; listeners (indicator, screen) receive it after the store has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.circulation.clock import Clock
from kiosk.circulation.models import Patron
from kiosk.circulation.service import MESSAGES, Circulation, Result
from kiosk.i18n import N_

IDLE, PATRON, DESK, LEND_FOR = "idle", "patron", "desk", "lend_for"

SESSION_MESSAGES = {
    "invalid_scan": N_("That scan was not clear. Please scan again."),
    "session_started": N_("Hello, {name}! Scan your books."),
    "session_ended": N_("Goodbye! See you next time."),
    "desk_opened": N_("Desk mode: scan books to return them, or a card to lend."),
    "lend_for": N_("Lending for {name} ({class_name}). Scan the books."),
}
WARNING_REASONS = {"scan_card_first", "not_on_loan", "invalid_scan"}


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
        timeout_s: float = 30.0,
        desk_timeout_s: float = 300.0,
        repeat_window_s: float = 5.0,
        max_code_length: int = 64,
    ) -> None:
        self.circulation = circulation
        self.clock = clock
        self.timeout_s = timeout_s
        self.desk_timeout_s = desk_timeout_s
        self.repeat_window_s = repeat_window_s
        self.max_code_length = max_code_length
        self.mode = IDLE
        self.patron: Patron | None = None  # whose loans the session shows and lends to
        self.helper: Patron | None = None  # who runs the desk, the actor of desk actions
        self.results: list[Feedback] = []  # this session's book results, newest last
        self._last_input = 0.0
        self._last_book: tuple[str, float, Feedback] | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every feedback, after the store committed."""
        self._listeners.append(listener)

    def _emit(self, fb: Feedback) -> Feedback:
        for listener in list(self._listeners):
            listener(fb)
        return fb

    # -- inputs ----------------------------------------------------------------------------

    def scan(self, raw: str) -> Feedback:
        """Handle one scanned or typed code."""
        with self._lock:
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
            if found.kind == "item":
                fb = self._book(code)
                self._last_book = (code, now, fb)
                self.results.append(fb)
                return self._emit(fb)
            self._last_book = None
            if found.kind == "patron" and found.patron is not None:
                return self._emit(self._card(found.patron))
            reason = "card_lost" if found.kind == "lost_card" else "unknown_code"
            return self._emit(self._result_feedback(self._refusal(reason), code))

    def done(self) -> Feedback | None:
        """End the session now (the done button)."""
        with self._lock:
            return self._emit(self._end()) if self.mode != IDLE else None

    def tick(self) -> Feedback | None:
        """End the session if it has timed out; call this a few times a second."""
        with self._lock:
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
            limit = self.desk_timeout_s if self.mode in (DESK, LEND_FOR) else self.timeout_s
            return max(0.0, limit - (self.clock.monotonic() - self._last_input))

    # -- decisions -------------------------------------------------------------------------

    def _card(self, patron: Patron) -> Feedback:
        if self.mode in (DESK, LEND_FOR) and self.helper is not None:
            if patron.id == self.helper.id and self.mode == LEND_FOR:
                self.patron, self.mode, self.results = None, DESK, []
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
        self._reset()
        self._last_input = self.clock.monotonic()
        if patron.can_run_desk:
            self.mode, self.helper = DESK, patron
            return self._say("session_started", "desk_opened")
        self.mode, self.patron = PATRON, patron
        return self._say("session_started", "session_started", name=patron.given_name)

    def _book(self, code: str) -> Feedback:
        c = self.circulation
        if self.mode == IDLE or self.mode == DESK:
            loan = c.open_loan(code)
            if loan is None and self.mode == IDLE:
                return self._result_feedback(self._refusal("scan_card_first"), code)
            # A return with no card is anonymous: the actor is the kiosk's self-service desk.
            actor = self.helper.id if self.helper else "self-service"
            return self._result_feedback(c.checkin(code, actor=actor), code)
        assert self.patron is not None
        actor = self.helper.id if self.mode == LEND_FOR and self.helper else self.patron.id
        return self._result_feedback(c.lend(self.patron.id, code, actor=actor), code)

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
        self._last_book = None

    # -- feedback --------------------------------------------------------------------------

    def _refusal(self, reason: str, patron: Patron | None = None) -> Result:
        return Result(False, "none", reason, MESSAGES[reason], {}, patron=patron)

    def _result_feedback(self, result: Result, code: str) -> Feedback:
        kind = "ok" if result.ok else "warning" if result.reason in WARNING_REASONS else "error"
        return Feedback(kind, result.reason, result.message, result.params, result, self.mode, code)

    def _say(self, kind: str, key: str, **params: Any) -> Feedback:
        return Feedback(kind, key, SESSION_MESSAGES[key], params, None, self.mode)
