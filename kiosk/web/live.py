"""Push session feedback to open pages: one small queue per client, never blocking the kiosk.

The session calls `Broker.publish` from the scanning thread, inside its lock, right after the
store committed. Publishing only copies a few references and does `put_nowait` per client, so a
slow or dead browser can never hold up the lights and the buzzer: a client whose queue is full
is dropped and reconnects (EventSource does that by itself) to a fresh state.

Places: each stream holds a server thread, so there are `max_clients` of them. The kiosk's own
touchscreen (`screen=True`) always gets one: other pages (desk, dashboard) never take the last
place, and when every place is taken a screen's stream pushes out the oldest other one. A page
that says which tab it is (`key`) replaces that tab's earlier stream, which the browser left
when the page went (a desk search reloads the page). The server notices a gone client within
`POLL_S` (waitress's `client_disconnected`), not at the next keep-alive.

Resuming: every update gets a number (`Update.seq`) and the broker keeps the last `BACKLOG`; a
page that reconnects says the last one it saw (SSE `Last-Event-ID`) and gets what it missed.
"""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Response, abort, request

from kiosk.i18n import N_

TOO_MANY_PAGES = N_("Too many live pages are open; close one or try again in a moment.")
CLIENT_QUEUE = 64
CLOSED = object()
# A stream ends after this long and the page connects again (EventSource does that by itself),
# so a client that stopped reading cannot keep a thread for good.
STREAM_MAX_S = 900.0
# How often a waiting stream looks whether its client went away (a closed tab, a reload).
POLL_S = 0.25
# Updates kept for pages that reconnect and say the last one they saw.
BACKLOG = 256


@dataclass(frozen=True)
class Update:
    """One thing that happened, with a snapshot of the session taken at that moment."""

    kind: str  # feedback, session_ended, status
    feedback: Any = None
    mode: str = "idle"
    patron: Any = None
    results: tuple[Any, ...] = ()
    seconds_left: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # numbered by the broker when published


class Client:
    """One open page's queue of updates."""

    def __init__(self, address: str = "", screen: bool = True, key: str = "") -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=CLIENT_QUEUE)
        self.dropped = False
        self.address = address
        self.screen = screen
        self.key = key
        self.since = time.monotonic()
        self.missed = False  # it asked to resume from an update no longer kept

    def end(self) -> None:
        """Make the stream end (its page reconnects by itself)."""
        self.dropped = True
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(CLOSED)

    def get(self, timeout: float) -> Any:
        """Return the next update, CLOSED, or None after `timeout` seconds without one."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Broker:
    """Fan updates out to every connected page."""

    def __init__(self, max_clients: int = 1000, per_address: int = 2) -> None:
        self._clients: set[Client] = set()
        self._lock = threading.Lock()
        self.closed = False
        # Each stream holds a server thread: keep some threads free for ordinary requests.
        self.max_clients = max_clients
        self.per_address = per_address
        # Numbers restart with the daemon: the epoch tells a page's old number from a new one.
        self.epoch = secrets.token_hex(4)
        self._seq = 0
        self._backlog: deque[Update] = deque(maxlen=BACKLOG)

    def connect(
        self, address: str = "", screen: bool = True, key: str = "", after: str = ""
    ) -> Client | None:
        """Register a new page, or return None when there is no place for it.

        A screen may use every place and, when all are taken, pushes out the oldest other page
        (or the oldest screen, a page that went away); others get at most `per_address` each
        and never the last place. A page with a `key` replaces the earlier stream of that key.
        `after` is the last event id the page saw: what came since is queued first.
        """
        client: Client | None = Client(address, screen, key)
        ended: list[Client] = []
        with self._lock:
            if key:
                ended += [c for c in self._clients if c.key == key and c.address == address]
                self._clients.difference_update(ended)
            if screen:
                if len(self._clients) >= self.max_clients:
                    oldest = min(self._clients, key=lambda c: (c.screen, c.since))
                    self._clients.discard(oldest)
                    ended.append(oldest)
            elif len(self._clients) >= self.max_clients:
                client = None
            else:
                others = [c for c in self._clients if not c.screen]
                mine = sum(1 for c in others if c.address == address)
                if mine >= self.per_address or len(others) >= self.max_clients - 1:
                    client = None
            if client is not None:
                if self.closed:
                    client.queue.put_nowait(CLOSED)
                elif after:
                    self._resume(client, after)
                self._clients.add(client)
        for old in ended:
            old.end()
        return client

    def _resume(self, client: Client, after: str) -> None:
        epoch, _, number = after.partition("-")
        missed = [u for u in self._backlog if u.seq > int(number)] if number.isdigit() else []
        first = self._backlog[0].seq if self._backlog else self._seq + 1
        kept = epoch == self.epoch and number.isdigit() and int(number) >= first - 1
        if not kept or len(missed) > CLIENT_QUEUE // 2:
            client.missed = True
            return
        for update in missed:
            client.queue.put_nowait(update)

    def event_id(self, update: Update) -> str:
        """Return the id a page sends back to resume after this update."""
        return f"{self.epoch}-{update.seq}"

    def disconnect(self, client: Client) -> None:
        """Forget a page that went away."""
        with self._lock:
            self._clients.discard(client)

    def publish(self, update: Update) -> None:
        """Hand an update to every page without ever waiting."""
        with self._lock:
            self._seq += 1
            update = replace(update, seq=self._seq)
            self._backlog.append(update)
            clients = list(self._clients)
        for client in clients:
            try:
                client.queue.put_nowait(update)
            except queue.Full:
                # This page is not reading: let it go; it reconnects and gets the whole state.
                client.dropped = True
                self.disconnect(client)

    @property
    def count(self) -> int:
        """Return how many pages listen."""
        with self._lock:
            return len(self._clients)

    def pages(self) -> list[Client]:
        """Return the pages listening now."""
        with self._lock:
            return list(self._clients)

    def close(self) -> None:
        """End every stream, for a clean server stop."""
        with self._lock:
            self.closed = True
            clients = list(self._clients)
            self._clients.clear()
        for client in clients:
            with contextlib.suppress(queue.Full):
                client.queue.put_nowait(CLOSED)


def event_stream(
    broker: Broker,
    opening: Callable[[Client], list[str]],
    render: Callable[[Update], str | None],
    idle: Callable[[], str],
    keepalive_s: float,
    address: str = "",
    screen: bool = False,
    key: str = "",
    after: str = "",
    max_s: float = STREAM_MAX_S,
) -> Response:
    """Answer one page with Server-Sent Events until it goes away or the broker closes.

    `opening` gives the first messages (it is told whether the page missed updates), `render`
    turns each update into a message (or None to skip it) and `idle` is sent after
    `keepalive_s` of quiet, so proxies keep the line open.
    """
    client = broker.connect(address, screen, key, after)
    if client is None:
        abort(503, description=TOO_MANY_PAGES)
    ends = time.monotonic() + max_s
    # waitress reads on while the stream runs (channel_request_lookahead), so it sees a closed
    # connection at once; without it (the test client) the next write finds out.
    gone: Callable[[], bool] = request.environ.get("waitress.client_disconnected") or (
        lambda: False
    )

    def stream() -> Iterator[str]:
        try:
            yield from opening(client)
            quiet_since = time.monotonic()
            while time.monotonic() < ends and not gone():
                update = client.get(POLL_S)
                if update is CLOSED or client.dropped:
                    return
                if update is None:
                    if time.monotonic() - quiet_since < keepalive_s:
                        continue
                    message: str | None = idle()
                else:
                    message = render(update)
                quiet_since = time.monotonic()
                if message:
                    yield message
        finally:
            broker.disconnect(client)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream(), mimetype="text/event-stream", headers=headers)


def sse_message(data: dict[str, Any], *, event: str = "", event_id: str = "") -> str:
    """Return one server-sent event: its name and number when it has them, then its JSON data."""
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id else "")
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"
