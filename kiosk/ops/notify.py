"""Tell systemd how the daemon is doing (sd_notify), with no library: one datagram per message.

`READY=1` once devices and store are up, `STATUS=` a one-line summary that `systemctl status
kiosk` shows, `WATCHDOG=1` only from the main loop and only while the store still answers, so a
hung loop or a dead store stops the pings and systemd restarts the service (`WatchdogSec=`).
Where `NOTIFY_SOCKET` is unset (a terminal, the tests) nothing is sent at all.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import Any

from kiosk.i18n import _

log = logging.getLogger(__name__)

# How often the STATUS line is refreshed when nothing else changes.
STATUS_EVERY_S = 5.0


class Notifier:
    """Send sd_notify messages to the socket systemd names in `NOTIFY_SOCKET`."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET", "") or None
        self.watchdog_s = _watchdog_interval(env)

    @property
    def enabled(self) -> bool:
        """Return whether a service manager is listening."""
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """Send `KEY=value` lines in one datagram; return whether it was sent."""
        if self.address is None:
            return False
        # A leading "@" names a socket in the abstract namespace.
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # Never wait: a receiver that stopped reading must not stall the main loop.
                sock.setblocking(False)
                sock.sendto("\n".join(lines).encode("utf-8"), target)
        except OSError as e:
            # systemd gone or socket full: the service goes on, the watchdog will tell.
            log.debug("sd_notify to %s failed: %s", self.address, e)
            return False
        return True

    def ready(self, status: str) -> bool:
        """Say that start-up is complete."""
        return self.send("READY=1", f"STATUS={_one_line(status)}")

    def status(self, status: str) -> bool:
        """Replace the one-line status."""
        return self.send(f"STATUS={_one_line(status)}")

    def watchdog(self) -> bool:
        """Ping the watchdog."""
        return self.send("WATCHDOG=1")

    def stopping(self, status: str) -> bool:
        """Say that the daemon is shutting down."""
        return self.send("STOPPING=1", f"STATUS={_one_line(status)}")


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Return how often to ping: half of `WATCHDOG_USEC`, if the watchdog is meant for us."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000 / 2


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Supervision:
    """The main loop's side of the watchdog: ping while healthy, keep the status line fresh.

    Called from the main loop (a `Daemon.on_loop` hook), never from a thread of its own: pings
    prove that the loop is turning. `check` says whether the daemon is healthy; it returns the
    problem as text, or None.
    """

    def __init__(
        self,
        notifier: Notifier,
        summary: Callable[[], str],
        check: Callable[[], str | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.summary = summary
        self.check = check
        self.clock = clock
        self._next_ping = 0.0
        self._next_status = 0.0
        self._last_status = ""
        self.problem: str | None = None

    def ready(self) -> None:
        """Send READY=1 with the first status line."""
        self._last_status = self.summary()
        self.notifier.ready(self._last_status)
        self._next_status = self.clock() + STATUS_EVERY_S

    def __call__(self) -> None:
        """Run once per main-loop turn: ping the watchdog when due and healthy."""
        if not self.notifier.enabled:
            return
        now = self.clock()
        interval = self.notifier.watchdog_s
        if interval is not None and now >= self._next_ping:
            self.problem = self.check()
            if self.problem is None:
                self.notifier.watchdog()
            else:
                log.error("unhealthy, not pinging the watchdog: %s", self.problem)
            self._next_ping = now + interval
        if now >= self._next_status:
            self._next_status = now + STATUS_EVERY_S
            text = self.summary() if self.problem is None else self.problem
            if text != self._last_status:
                self._last_status = text
                self.notifier.status(text)

    def stopping(self) -> None:
        """Send STOPPING=1."""
        self.notifier.stopping(_("stopping"))


def store_answers(store: Any) -> str | None:
    """Return None if the store's file still answers a read, else the problem."""
    try:
        store.value("PRAGMA schema_version")
    except sqlite3.Error as e:
        return _("store not answering: {error}", error=e)
    return None


def daemon_summary(kiosk_id: str, health: dict[str, Any]) -> str:
    """Return the one-line status: kiosk id, devices connected, uptime."""
    devices = health.get("devices", [])
    connected = sum(1 for d in devices if d.get("connected"))
    return _(
        "kiosk {id}: {connected}/{total} devices connected, up {uptime} s",
        id=kiosk_id,
        connected=connected,
        total=len(devices),
        uptime=int(health.get("uptime_s", 0)),
    )
