"""The daemon's scan queue: one bounded queue per scan source, taken in turn.

A flood from one source (a scanner stuck sending junk, 5 MB written into the FIFO, a page
typing codes in a loop) fills only its own queue, where the oldest codes are dropped first,
and the main loop takes one scan from each waiting source in turn: the card a student taps on
the reader is handled next, whatever the scanner is doing.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque

from kiosk.devices.base import Scan

log = logging.getLogger("kiosk.scans")
PER_SOURCE = 1000  # as many as a burst at start-up brings (the main loop starts last)


class ScanQueue:
    """Scans waiting for the main loop, bounded per source, fair between sources."""

    def __init__(self, per_source: int = PER_SOURCE) -> None:
        self.per_source = per_source
        self._queues: dict[str, deque[Scan]] = {}
        self._turn: deque[str] = deque()  # sources with scans waiting, in the order served
        self._ready = threading.Condition()
        self.dropped = 0

    def put_nowait(self, scan: Scan) -> None:
        """Queue a scan without waiting; a full source drops its own oldest scan."""
        with self._ready:
            waiting = self._queues.setdefault(scan.source, deque())
            if len(waiting) >= self.per_source:
                waiting.popleft()
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("scan source %s floods: dropped its oldest scans", scan.source)
            waiting.append(scan)
            if scan.source not in self._turn:
                self._turn.append(scan.source)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> Scan:
        """Return the next scan, one source after the other; raise queue.Empty after timeout."""
        with self._ready:
            if not self._turn and not self._ready.wait_for(lambda: bool(self._turn), timeout):
                raise queue.Empty
            source = self._turn.popleft()
            waiting = self._queues[source]
            scan = waiting.popleft()
            if waiting:
                self._turn.append(source)  # its next scan waits behind the other sources
            return scan

    def get_nowait(self) -> Scan:
        """Return the next scan or raise queue.Empty."""
        return self.get(timeout=0)

    def qsize(self) -> int:
        """Return how many scans wait."""
        with self._ready:
            return sum(len(q) for q in self._queues.values())
