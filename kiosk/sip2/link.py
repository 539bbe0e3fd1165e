"""The link to the library system: online or offline, and the worker that keeps it.

The worker (a thread) logs in, sends 99 as a heartbeat, reconnects with back-off while the
server is away, and sends the offline queue in order once it is back. A scan never waits for a
reconnect: while the link is down, `call` says so at once and the kiosk goes on offline.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.circulation import sip2_queue
from kiosk.circulation.clock import parse_stamp, stamp
from kiosk.circulation.handler import handle
from kiosk.circulation.sip2_copy import UndoRefused
from kiosk.circulation.store import Store
from kiosk.config import Sip2Settings
from kiosk.i18n import N_
from kiosk.sip2.client import LoginRefused, Offline, Sip2Client
from kiosk.sip2.protocol import Malformed, Message

log = logging.getLogger("kiosk.sip2")

ONLINE_MESSAGE = N_("The library system answers again.")
OFFLINE_MESSAGE = N_("The library system is not answering: returns go on, loans within limits.")

# The server answers, but its 98 says it is offline (its database away): the kiosk is too.
SAYS_OFFLINE = "the library system says it is offline (98: online N)"

# Item circulation statuses (18) that mean "on loan": 04 charged, 05 charged not to be recalled.
CHARGED = ("04", "05")


@dataclass(frozen=True)
class LinkState:
    """What the dashboard and `kiosk status` show about the link."""

    online: bool
    offline_since: str | None
    waiting: int
    last_error: str
    address: str

    def as_dict(self) -> dict[str, Any]:
        """Return the state as plain data."""
        return dict(self.__dict__)


class Link:
    """The SIP2 link's state, its heartbeat and reconnects, and the offline queue's sender."""

    def __init__(
        self,
        client: Sip2Client,
        store: Store,
        settings: Sip2Settings,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.s = settings
        self.on_change = on_change
        self.online = False
        self.offline_since: str | None = store.now()
        self.last_error = "not connected yet"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 1.0
        # Each wake's number, and the number at which the store last said the queue was empty.
        self._wakes = itertools.count(1)
        self._queued, self._empty_since = 0, -1

    # -- the scan path -----------------------------------------------------------------------

    def call(self, fn: Callable[..., Message], *args: Any, **kw: Any) -> Message:
        """Run one request if the link is up; raise Offline at once if it is down."""
        if not self.online:
            raise Offline(self.last_error or "offline")
        try:
            return fn(*args, **kw)
        except Offline as e:
            self._down(str(e))
            raise

    def queue_open(self) -> bool:
        """Return whether offline transactions still wait: new ones queue behind them.

        Only this daemon queues (and then calls `wake`), so once the store said the queue is
        empty, it stays so until the next `wake`: a scan online reads nothing for it.
        """
        if self._empty_since == self._queued:
            return False
        queued = self._queued  # read before the count: a wake while counting is not lost
        if sip2_queue.waiting(self.store.reader) > 0:
            return True
        self._empty_since = queued
        return False

    def state(self) -> LinkState:
        """Return the link's state for the pages and the CLI."""
        return LinkState(
            self.online,
            None if self.online else self.offline_since,
            sip2_queue.waiting(self.store.reader),
            self.last_error,
            self.s.address,
        )

    def wake(self) -> None:
        """Make the worker look at the queue now (a transaction was queued, or may have been)."""
        self._queued = next(self._wakes)
        self._wake.set()

    # -- the worker --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._run, name="sip2-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker and close the connection."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.s.timeout_s + 2)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("SIP2 link worker failed; trying again")
                self._down("internal error (see the log)")
            wait = self.s.heartbeat_s if self.online else self._backoff
            if self.online and self.queue_open():
                wait = 0.05
            self._wake.wait(wait)
            self._wake.clear()

    def step(self) -> None:
        """Connect if down (with back-off), send the queue, or check the link with 99."""
        if not self.online:
            try:
                status = self.client.connect()
            except (Offline, LoginRefused, Malformed) as e:
                self._down(str(e))
                self._backoff = min(self._backoff * 2, self.s.retry_max_s)
                return
            if status.flag(0) != "Y":
                self.client.close()
                self._down(SAYS_OFFLINE)
                self._backoff = min(self._backoff * 2, self.s.retry_max_s)
                return
            self._backoff = 1.0
            self._up()
            if not self.queue_open():
                return  # the login's 99 was this round's check
        if self.queue_open():
            self.drain()
            return
        try:
            status = self.client.heartbeat()
        except (Offline, Malformed) as e:
            self._down(str(e))
            return
        if status.flag(0) != "Y":
            self._down(SAYS_OFFLINE)

    def _up(self) -> None:
        if not self.online:
            self.online, self.offline_since, self.last_error = True, None, ""
            self._save()
            log.info("SIP2: the library system at %s answers", self.s.address)
            if self.on_change is not None:
                self.on_change(True)

    def _down(self, why: str) -> None:
        changed = why != self.last_error or self.online
        was_online, self.last_error = self.online, why
        if was_online:
            self.online, self.offline_since = False, self.store.now()
            self.client.close()
        if changed:
            self._save()
        if was_online:
            # Logged once the state is saved: `kiosk status` then says the same.
            log.warning("SIP2: offline: %s", why)
            if self.on_change is not None:
                self.on_change(False)
        elif changed:
            log.warning("SIP2: not connected: %s", why)

    def _save(self) -> None:
        try:
            with self.store.write() as db:
                sip2_queue.save_link(
                    db, self.online, self.offline_since, self.last_error, self.store.now()
                )
        except Exception:  # the state is for people to read; the link goes on without it
            log.exception("SIP2: could not save the link's state")

    # -- the offline queue -------------------------------------------------------------------

    def drain(self) -> int:
        """Send the waiting transactions in order, each once; return how many were answered."""
        done = 0
        for row in sip2_queue.open_rows(self.store.reader):
            if self._stop.is_set() or not self.online:
                break
            try:
                if row["state"] == "sending" and self._already_taken(row):
                    # Sent before a crash or a lost answer, and the system has it: not again.
                    self._mark(row, "sent", "")
                    done += 1
                    continue
                self._mark(row, "sending", "")
                answer = self._send(row)
            except Offline as e:
                self._down(str(e))
                break
            except Malformed as e:
                self._mark(row, "refused", f"unreadable answer: {e}")
                done += 1
                continue
            ok = answer.flag(0) == "1"
            words = " ".join(a for a in answer.all("AF") if a)
            self._mark(row, "sent" if ok else "refused", "" if ok else words or "refused")
            if not ok:
                log.warning(
                    "SIP2: the library system refused the offline %s of %s: %s",
                    row["kind"],
                    row["item_barcode"],
                    words,
                )
            done += 1
        return done

    def _send(self, row: dict[str, Any]) -> Message:
        at = parse_stamp(row["at"]).astimezone()
        if row["kind"] == "checkout":
            due = parse_stamp(row["due_at"]).astimezone() if row["due_at"] else None
            return self.client.checkout(
                row["patron_id"], row["item_barcode"], at=at, no_block=True, due=due
            )
        return self.client.checkin(row["item_barcode"], at=at, no_block=True)

    def _already_taken(self, row: dict[str, Any]) -> bool:
        """Ask the system whether a transaction in doubt reached it (63 charged items, or 17)."""
        if row["kind"] == "checkout":
            info = self.client.patron_information(row["patron_id"], charged_items=True)
            return row["item_barcode"] in info.all("AU")
        item = self.client.item_information(row["item_barcode"])
        # A book the system knows and does not have on loan is back; a book it does not know
        # (status 01, no title) says nothing: the return is sent, and a refusal listed.
        known = item.fixed[:2] != "01" or bool(item.get("AJ"))
        return known and item.fixed[:2] not in CHARGED

    def _mark(self, row: dict[str, Any], state: str, answer: str) -> None:
        with self.store.write() as db:
            at = stamp(dt.datetime.now(dt.UTC))
            sip2_queue.mark(db, row["event_uuid"], state, at, answer)
            if state == "refused":
                # The library system says it did not happen: the kiosk's copy of the loan
                # follows (an undo of the offline event), in the same transaction.
                cmd = UndoRefused(
                    row["event_uuid"], row["kind"], row["patron_id"], row["item_barcode"], answer
                )
                handle(self.store, cmd)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the queue is empty (for `kiosk sip2 drain` and the bench)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.online and not self.queue_open():
                return True
            self._wake.set()
            time.sleep(0.05)
        return False
