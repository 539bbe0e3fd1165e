"""What the collection adds to a scan at the kiosk, plugged into the session as its `hook`.

- stocktake mode (an open stocktake in the store): a scanned book, or an unknown barcode, counts
  for the stocktake and is never lent or returned; only a helper's card opens a session (the
  desk), other cards are asked to come back later (the session follows `counting()`);
- a withdrawn book is refused with its own message;
- a lost book that turns up is restored, scanned with or without a card;
- a book held for someone else is not lent to another student;
- a return of a held book says "hold shelf"; the waiting student's next tap says it is there;
  borrowing it closes the hold.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kiosk.circulation.collection import holds, lost, stocktake, weeding
from kiosk.circulation.models import Item
from kiosk.circulation.service import Circulation, Identified, Result
from kiosk.circulation.session import DESK, IDLE, Feedback, Kiosk
from kiosk.circulation.store import fetch

EXPIRY_EVERY_S = 3600.0
STOCKTAKE_KIND = {
    "found": "ok",
    "misplaced": "warning",
    "on_loan_found": "warning",
    "drifting": "ok",  # counted; it is simply on no shelf
}


class CollectionHook:
    """Stocktake mode, withdrawn and lost books, and holds at the kiosk."""

    def __init__(
        self,
        circulation: Circulation,
        hold_days: int = holds.HOLD_DAYS,
        max_holds: int = holds.MAX_HOLDS,
    ) -> None:
        self.circulation = circulation
        self.store = circulation.store
        self.hold_days = hold_days
        self.max_holds = max_holds
        self._expired_at: float | None = None
        # The book `before` found no hold on, in this scan: its checkout has no hold to fulfil,
        # so `after` need not look again (a hold placed in that millisecond waits as any other).
        self._no_holds: str | None = None

    def counting(self) -> bool:
        """Say whether a stocktake runs (open, not paused): the kiosk is in stocktake mode."""
        return stocktake.running(self.store.reader) is not None

    def before(self, kiosk: Kiosk, code: str, found: Identified) -> Feedback | None:
        """Answer a scan the collection owns, or None to let the session handle it."""
        self._no_holds = None
        if found.kind not in ("item", "unknown"):
            return None
        # The session read whether a stocktake runs at the start of this scan (`counting()`);
        # the count reads it again inside its own transaction, which is what decides.
        if kiosk.counting:
            counted = self._count(kiosk, code)
            if counted is not None:
                return counted
            # Paused or finished between the look and the count: an ordinary scan again.
        item = found.item
        if item is None:
            return None
        if item.status == "withdrawn":
            return self._feedback(kiosk, "error", "item_withdrawn", weeding.MESSAGES, item)
        if item.status == "lost" and self.circulation.open_loan(code) is None:
            done = lost.found(self.store, code, _actor(kiosk), how="kiosk")
            if done.ok:
                return self._feedback(kiosk, "ok", "item_found", lost.MESSAGES, item, ok=True)
        if kiosk.mode not in (IDLE, DESK) and kiosk.patron is not None:
            waiting = holds.active(self.store.reader, code)
            if waiting and waiting[0]["patron_id"] != kiosk.patron.id:
                return self._feedback(kiosk, "error", "held_for_other", holds.MESSAGES, item)
            if not waiting:
                self._no_holds = code
        return None

    def after(self, kiosk: Kiosk, fb: Feedback) -> Feedback:
        """Add what holds mean to a committed checkin, checkout or a new session."""
        result = fb.result
        if result is not None and result.ok and result.item is not None:
            if result.action == "checkin":
                return self._returned(kiosk, fb, result.item)
            barcode = result.item.barcode
            # No hold to fulfil when `before` found none on this book in this scan.
            if result.action == "checkout" and result.patron and barcode != self._no_holds:
                self._collected(result.patron.id, barcode, _actor(kiosk))
        if fb.reason == "session_started" and kiosk.patron is not None:
            wanted = kiosk.take_wanted()
            if wanted is not None:
                # "I want this" on the idle screen, then this card: the hold, and the place.
                told = self.want(kiosk, wanted)
                message = holds.MESSAGES["hello_queue"] if told.kind == "ok" else told.message
                return replace(fb, reason=told.reason, message=message,
                               params={**fb.params, **told.params})  # fmt: skip
            waiting = holds.ready_for(self.store.reader, kiosk.patron.id)
            if waiting:
                params = {"name": kiosk.patron.given_name, "title": waiting[0]["title"]}
                return replace(
                    fb, reason="hold_waiting", message=holds.MESSAGES["hold_waiting"], params=params
                )
        return fb

    def want(self, kiosk: Kiosk, barcode: str) -> Feedback:
        """Place a hold on the title of `barcode` for the session's student; say their place."""
        assert kiosk.patron is not None
        held = holds.place_for_title(
            self.store, barcode, kiosk.patron.id, _actor(kiosk), self.max_holds
        )
        refusal = held.outcome.refusal
        if refusal is None:
            params: dict[str, Any] = {"title": held.title, "position": held.position}
            return Feedback("ok", "hold_placed", holds.MESSAGES["queue_place"], params,
                            None, kiosk.mode, barcode)  # fmt: skip
        message = holds.MESSAGES.get(refusal.reason, holds.MESSAGES["no_such_hold"])
        params = {"title": held.title, **refusal.params}
        return Feedback("warning", refusal.reason, message, params, None, kiosk.mode, barcode)

    # -- parts ---------------------------------------------------------------------------------

    def _count(self, kiosk: Kiosk, code: str) -> Feedback | None:
        counted = stocktake.scan(self.store, code, _actor(kiosk))
        if not counted.outcome.ok:
            return None
        item = counted.item or {}
        params = {
            "code": code,
            "title": item.get("title", ""),
            "location": item.get("location", ""),
            "call_number": item.get("call_number", ""),
        }
        kind = STOCKTAKE_KIND.get(counted.status, "warning")
        key = f"stocktake_{counted.status}"
        result = Result(
            counted.outcome.ok,
            "stocktake",
            key,
            stocktake.MESSAGES[key],
            params,
            item=Item.from_row(item) if item else None,
            event=counted.outcome.events[0] if counted.outcome.events else None,
        )
        return Feedback(kind, key, result.message, params, result, kiosk.mode, code)

    def _returned(self, kiosk: Kiosk, fb: Feedback, item: Item) -> Feedback:
        today = self.store.clock.now().astimezone(self.circulation.tz).date()
        expires = holds.open_days_after(self.circulation.rules(), today, self.hold_days)
        hold = holds.on_return(self.store, item.barcode, _actor(kiosk), expires)
        if hold is None:
            return fb
        params = {"title": item.title, "name": hold["name"], "class_name": hold["class_name"]}
        return replace(
            fb,
            kind="warning",
            reason="hold_shelf",
            message=holds.MESSAGES["hold_shelf"],
            params=params,
        )

    def _collected(self, patron_id: str, barcode: str, actor: str) -> None:
        for hold in fetch(
            self.store.reader,
            "SELECT id FROM holds WHERE item_barcode = ? AND patron_id = ? "
            "AND status IN ('waiting', 'ready')",
            [barcode, patron_id],
        ):
            holds.close(self.store, hold["id"], "fulfilled", actor)

    def _feedback(
        self,
        kiosk: Kiosk,
        kind: str,
        key: str,
        messages: dict[str, str],
        item: Item,
        ok: bool = False,
    ) -> Feedback:
        params: dict[str, Any] = {"title": item.title}
        action = "found" if ok else "none"
        result = Result(ok, action, key, messages[key], params, patron=kiosk.patron, item=item)
        return Feedback(kind, key, result.message, params, result, kiosk.mode, item.barcode)

    def tick(self) -> None:
        """Expire the holds whose days on the hold shelf are over; does the work once an hour."""
        now = self.store.clock.monotonic()
        if self._expired_at is not None and now - self._expired_at < EXPIRY_EVERY_S:
            return
        self._expired_at = now
        today = self.store.clock.now().astimezone(self.circulation.tz).date()
        holds.expire(self.store, today, "self-service")


def _actor(kiosk: Kiosk) -> str:
    if kiosk.helper is not None:
        return kiosk.helper.id
    return kiosk.patron.id if kiosk.patron is not None else "self-service"
