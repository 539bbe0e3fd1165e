"""Push session feedback to open pages: one small queue per client, never blocking the kiosk.

The session calls `Broker.publish` from the scanning thread, inside its lock, right after the
store committed. Publishing only copies a few references and does `put_nowait` per client, so a
slow or dead browser can never hold up the lights and the buzzer: a client whose queue is full
is dropped and reconnects (EventSource does that by itself) to a fresh state.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort

from kiosk.i18n import N_

TOO_MANY_PAGES = N_("Too many live pages are open; close one or try again in a moment.")
CLIENT_QUEUE = 64
CLOSED = object()
# A stream ends after this long and the page connects again (EventSource does that by itself),
# so a client that stopped reading cannot keep a thread for good.
STREAM_MAX_S = 900.0


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


class Client:
    """One open page's queue of updates."""

    def __init__(self, address: str = "", trusted: bool = True) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=CLIENT_QUEUE)
        self.dropped = False
        self.address = address
        self.trusted = trusted

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

    def connect(self, address: str = "", trusted: bool = True) -> Client | None:
        """Register a new page, or return None when too many pages already listen.

        A trusted page (the kiosk's own screen) may use every slot; others at most
        `per_address` each and never the last slot, so the screen always gets one.
        """
        client = Client(address, trusted)
        with self._lock:
            if len(self._clients) >= self.max_clients:
                return None
            if not trusted:
                others = [c for c in self._clients if not c.trusted]
                mine = sum(1 for c in others if c.address == address)
                if mine >= self.per_address or len(others) >= self.max_clients - 1:
                    return None
            if self.closed:
                client.queue.put_nowait(CLOSED)
            self._clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        """Forget a page that went away."""
        with self._lock:
            self._clients.discard(client)

    def publish(self, update: Update) -> None:
        """Hand an update to every page without ever waiting."""
        with self._lock:
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
    opening: Callable[[], list[str]],
    render: Callable[[Update], str | None],
    idle: Callable[[], str],
    keepalive_s: float,
    address: str = "",
    trusted: bool = True,
    max_s: float = STREAM_MAX_S,
) -> Response:
    """Answer one page with Server-Sent Events until it goes away or the broker closes.

    `opening` gives the first messages, `render` turns each update into a message (or None to
    skip it) and `idle` is sent after `keepalive_s` of quiet, so proxies keep the line open.
    """
    client = broker.connect(address, trusted)
    if client is None:
        abort(503, description=TOO_MANY_PAGES)
    ends = time.monotonic() + max_s

    def stream() -> Iterator[str]:
        try:
            yield from opening()
            while time.monotonic() < ends:
                update = client.get(keepalive_s)
                if update is CLOSED or client.dropped:
                    return
                message = idle() if update is None else render(update)
                if message:
                    yield message
        finally:
            broker.disconnect(client)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream(), mimetype="text/event-stream", headers=headers)
