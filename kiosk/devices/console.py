"""Development devices: scans from stdin or a FIFO, feedback printed to the console."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import select
import stat
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO, TextIO

from kiosk.devices.base import Health, Scan, ScanHandler

log = logging.getLogger(__name__)


class LineSplitter:
    """Split a byte stream into lines, never holding more than `max_length` bytes of one.

    A line longer than that comes out once as its (over-long) first part, which is rejected
    downstream, and the rest of it up to the next newline is dropped rather than taken for a scan.
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._partial = b""
        self._discarding = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add bytes; return the complete, non-empty lines they finish."""
        buffer = self._partial + chunk
        lines = []
        while True:
            ends = [i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0]
            if not ends:
                break
            cut = min(ends)
            if not self._discarding:
                lines.append(buffer[:cut])
            self._discarding = False
            buffer = buffer[cut + 1 :]
        if self._discarding:
            buffer = b""
        elif len(buffer) > self.max_length:
            lines.append(buffer)
            buffer, self._discarding = b"", True
        self._partial = buffer
        return [line for line in lines if line]

    @property
    def pending(self) -> bool:
        """Return whether part of a line is waiting for its end."""
        return bool(self._partial) or self._discarding

    def drop_partial(self) -> bytes:
        """Forget a partly received line (and any over-long rest); return what was dropped."""
        dropped, self._partial, self._discarding = self._partial, b"", False
        return dropped


class LineSource:
    """Read newline-separated codes from a binary stream in a thread."""

    def __init__(self, name: str, max_length: int = 64, partial_timeout_s: float = 0.2) -> None:
        self.health = Health(name)
        self.max_length = max_length
        # As for the USB scanner: a code whose end does not come is dropped, never joined on.
        self.partial_timeout_s = partial_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> BinaryIO:
        raise NotImplementedError

    def start(self, handler: ScanHandler) -> None:
        """Start the reading thread."""
        self._thread = threading.Thread(
            target=self._run, args=(handler,), name=self.health.name, daemon=True
        )
        self._thread.start()

    def _run(self, handler: ScanHandler) -> None:
        try:
            stream = self._open()
        except OSError as e:
            with self.health.lock:
                self.health.connected, self.health.last_error = False, str(e)
            log.error("%s: cannot open: %s", self.health.name, e)
            return
        with self.health.lock:
            self.health.connected = True
        splitter = LineSplitter(self.max_length + 1)
        fd = stream.fileno()
        while not self._stop.is_set():
            if splitter.pending:
                ready, _, _ = select.select([fd], [], [], self.partial_timeout_s)
                if not ready:
                    self._reject(splitter.drop_partial())
                    continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            for line in splitter.feed(chunk):
                self._deliver(handler, line)
            # Let the other threads have the GIL between chunks: a writer pouring junk into the
            # FIFO keeps this loop busy, and without a yield a card tap's thread and the main
            # loop wait a switch interval at each step (bench.flood: p50 151 ms, not 4 ms).
            time.sleep(0)
        with self.health.lock:
            self.health.connected = False

    def _deliver(self, handler: ScanHandler, line: bytes) -> None:
        # Bytes that are not UTF-8 become U+FFFD, which the session rejects as an unclear scan.
        code = line.decode("utf-8", errors="replace")
        with self.health.lock:
            self.health.last_read = dt.datetime.now(dt.UTC).isoformat()
            self.health.good_reads += 1
        handler(Scan("scanner", code))

    def _reject(self, partial: bytes) -> None:
        with self.health.lock:
            self.health.rejected_reads += 1
            self.health.last_rejection = f"partial code {partial[:64]!r} without its end"
        log.warning("%s: dropped a partial code %r", self.health.name, partial[:64])

    def stop(self) -> None:
        """Stop after the current read."""
        self._stop.set()


class StdinSource(LineSource):
    """Codes typed or piped into standard input."""

    def __init__(self, max_length: int = 64, partial_timeout_s: float = 0.2) -> None:
        super().__init__("stdin", max_length, partial_timeout_s)

    def _open(self) -> BinaryIO:
        return sys.stdin.buffer


class FifoSource(LineSource):
    """Codes written to a named pipe: `echo 9787020002207 > /run/kiosk/scan`."""

    def __init__(self, path: Path, max_length: int = 64, partial_timeout_s: float = 0.2) -> None:
        super().__init__(f"fifo:{path}", max_length, partial_timeout_s)
        self.path = path

    def _open(self) -> BinaryIO:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(self.path, 0o660)
        elif not stat.S_ISFIFO(self.path.stat().st_mode):
            raise OSError(errno.EINVAL, f"{self.path} exists and is not a FIFO")
        # Opened read-write so that writers coming and going never give us end-of-file.
        fd = os.open(self.path, os.O_RDWR)
        return os.fdopen(fd, "rb", buffering=0)

    def stop(self) -> None:
        """Stop and wake the reader blocked on the pipe."""
        super().stop()
        try:
            # Only a pipe gets the wake-up newline: a file someone put here is not ours to touch.
            if stat.S_ISFIFO(self.path.stat().st_mode):
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, b"\n")
                os.close(fd)
        except OSError:
            pass


class ConsoleIndicator:
    """Print each pattern and its text, one flushed line each, for development and tests."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self.health = Health("indicator console", connected=True)

    def show(self, pattern: str, text: str = "") -> None:
        """Print `[pattern] text`."""
        with self._lock:
            self.stream.write(f"[{pattern}] {text}\n".rstrip() + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Nothing to release."""


class NullIndicator:
    """No feedback at all."""

    def __init__(self) -> None:
        self.health = Health("indicator none", connected=True)

    def show(self, pattern: str, text: str = "") -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""
