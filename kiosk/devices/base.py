"""What every device kind offers: scan sources deliver `Scan`s, indicators show patterns."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.i18n import N_, both

# The patterns an indicator knows; the wiring maps what happened onto one of them.
PATTERNS = (
    "ok",
    "error",
    "warning",
    "session_started",
    "session_ended",
    "offline",
    "online",
    "fault",
    "badge",
)


@dataclass(frozen=True)
class Scan:
    """One code read by a device: where from, what, and when."""

    source: str  # scanner, card, keyboard, ...
    code: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


ScanHandler = Callable[[Scan], None]


@dataclass
class Health:
    """A device's own account of itself, for status pages and `kiosk doctor`."""

    name: str
    connected: bool = False
    last_read: str | None = None
    good_reads: int = 0
    rejected_reads: int = 0
    last_error: str | None = None
    last_rejection: str | None = None
    losses: int = 0  # times it went from working to not working
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def up(self) -> None:
        """Record that the device is open and answering."""
        with self.lock:
            self.connected, self.last_error = True, None

    def down(self, error: str) -> None:
        """Record that the device is gone or failing, and why."""
        with self.lock:
            if self.connected:
                self.losses += 1
            self.connected, self.last_error = False, error

    def good(self) -> None:
        """Count one read that was delivered."""
        with self.lock:
            self.last_read = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self.good_reads += 1

    def rejected(self, reason: str) -> None:
        """Count one read that was dropped (noise, bad check digit, typing), and say why."""
        with self.lock:
            self.rejected_reads += 1
            self.last_rejection = reason

    def as_dict(self) -> dict[str, object]:
        """Return the health as plain values."""
        with self.lock:
            return {
                "name": self.name,
                "connected": self.connected,
                "last_read": self.last_read,
                "good_reads": self.good_reads,
                "rejected_reads": self.rejected_reads,
                "last_error": self.last_error,
                "last_rejection": self.last_rejection,
            }


class ScanSource(Protocol):
    health: Health

    def start(self, handler: ScanHandler) -> None:
        """Start delivering scans to `handler` from a background thread."""
        ...

    def stop(self) -> None:
        """Stop reading and release the device."""
        ...


class Indicator(Protocol):
    def show(self, pattern: str, text: str = "") -> None:
        """Start showing a pattern (replacing the one running); never blocks."""
        ...

    def close(self) -> None:
        """Turn everything off and release the pins."""
        ...


DEVICE_LOST = N_("{name} stopped working. Please ask a library helper.")


class FaultWatch:
    """Show the fault pattern when a device that was working goes away (unplugged, dead port)."""

    def __init__(self, sources: list[ScanSource], indicator: Indicator, language: str) -> None:
        self.sources, self.indicator, self.language = sources, indicator, language
        self._seen = {id(src): src.health.losses for src in sources}

    def __call__(self) -> None:
        """Compare each device with the last look; call this from the daemon's loop."""
        for src in self.sources:
            losses = src.health.losses  # counted, so a loss between two looks is not missed
            if losses > self._seen.get(id(src), 0):
                text = both(DEVICE_LOST, self.language, name=src.health.name)
                self.indicator.show("fault", f"{text} ({src.health.last_error})")
            self._seen[id(src)] = losses
