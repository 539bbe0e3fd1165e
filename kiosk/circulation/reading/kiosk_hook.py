"""Reading badges at the kiosk: the collection's hook, with the badges a child earned after it.

A student's badges are looked for when their own session opens (the card tap), after the
store committed it; a book's answer in the session looks for none (`_earns` says why). The
badges earned ride on that answer's `Feedback.badges`, so the screen shows them in that child's
session only, and the lights play the badge tune (app.py). A failed look never holds up the
queue: it is logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from kiosk.circulation.reading import badges, progress
from kiosk.circulation.service import Circulation, Identified
from kiosk.circulation.session import PATRON, Feedback, Kiosk

log = logging.getLogger(__name__)


class BadgeHook:
    """Wrap the session's hook (collection/kiosk_hook.py) and add the reading badges."""

    def __init__(self, inner: Any, circulation: Circulation, rules: badges.Rules) -> None:
        self.inner = inner
        self.circulation = circulation
        self.rules = rules

    def counting(self) -> bool:
        """Say whether a stocktake runs (the collection's hook knows)."""
        return bool(self.inner.counting())

    def before(self, kiosk: Kiosk, code: str, found: Identified) -> Feedback | None:
        """Let the collection's hook answer the scans it owns."""
        return self.inner.before(kiosk, code, found)

    def want(self, kiosk: Kiosk, barcode: str) -> Feedback:
        """Place a hold (the collection's hook)."""
        return self.inner.want(kiosk, barcode)

    def tick(self) -> None:
        """Let the collection's hook expire holds."""
        self.inner.tick()

    def after(self, kiosk: Kiosk, fb: Feedback) -> Feedback:
        """Add the badges a student earned to their card tap's or book's committed answer."""
        earns = _earns(kiosk, fb)
        fb = self.inner.after(kiosk, fb)
        patron = kiosk.patron
        if not earns or patron is None:
            return fb
        try:
            c = self.circulation
            term = progress.term_start(c.rules().term_start, c.local_date(c.store.now()))
            events = badges.award(c.store, patron.id, patron.grade, term, self.rules)
        except Exception:
            log.exception("could not look for the badges of %s; the session goes on", patron.id)
            return fb
        return replace(fb, badges=tuple(badges.shown(e) for e in events)) if events else fb


def _earns(kiosk: Kiosk, fb: Feedback) -> bool:
    """Return whether this answer is one a badge may come with: a student's own session opening.

    A loan counts once it lasted `min_hours` (more than 0, config checks it), so a book's
    answer in the session adds nothing: the loan it starts counts later, the one it ends counted
    already if it lasted. A loan that comes of age during the session shows at the next tap.
    """
    if kiosk.mode != PATRON or kiosk.patron is None or kiosk.patron.role != "student":
        return False
    return fb.kind == "session_started"
