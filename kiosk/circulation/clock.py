"""Clocks the circulation logic reads time from, so tests can control it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Return the current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Return seconds from an arbitrary start that never go backwards."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """Return the current UTC time."""
        return dt.datetime.now(UTC)

    def monotonic(self) -> float:
        """Return time.monotonic()."""
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime | str = "2026-11-02T09:00:00+08:00") -> None:
        if isinstance(start, str):
            start = dt.datetime.fromisoformat(start)
        self._now = start.astimezone(UTC)
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """Return the fake current time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        with self._lock:
            return self._mono

    def advance(self, seconds: float = 0, *, days: float = 0) -> None:
        """Move the clock forward."""
        delta = seconds + days * 86400
        with self._lock:
            self._now += dt.timedelta(seconds=delta)
            self._mono += delta


def stamp(t: dt.datetime) -> str:
    """Format a time as the store keeps it: UTC, milliseconds, so text order is time order."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_stamp(s: str) -> dt.datetime:
    """Read a time written by `stamp`."""
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
