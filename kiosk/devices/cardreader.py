"""Serial card readers (pyserial): RDM6300 and line readers that talk, a PN532 that is asked.

The port is a pyserial URL or device path (`/dev/serial0`, `hwgrep://1a86:7523`, `loop://`, a
pty path), as pyserial's own URL handlers make fake, spy and real ports a matter of config. The
framing lives in `frames.py`; this module only moves bytes and keeps the port alive: when it
fails (unplugged: `SerialException`/`OSError`), the reader reports it in its health, closes the
port and tries again every `reconnect_s` until it is back, without ever giving up or spinning.

Like pyserial's `serial.threaded`, framing (`frames.Rdm6300Parser`, ...) is kept apart from the
transport; unlike its `ReaderThread`, which ends for good at the first `SerialException`, one
thread here owns the whole life of the port (open, read, reopen) and can also hold a
request/response conversation, which the PN532 needs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from kiosk.codes import Checked
from kiosk.devices import frames
from kiosk.devices.base import Health, Scan, ScanHandler
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

BAUDRATES = {"rdm6300": 9600, "pn532": 115200, "line": 9600}
READ_TIMEOUT_S = 0.05  # how long a read may block: bounds how late stop() takes effect


class Port(Protocol):
    """The part of `serial.Serial` a reader uses."""

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read."""
        ...

    def read(self, size: int = 1) -> bytes:
        """Read up to `size` bytes, waiting at most the port's timeout."""
        ...

    def write(self, data: bytes) -> int | None:
        """Write bytes."""
        ...

    def close(self) -> None:
        """Close the port."""
        ...


class RepeatFilter:
    """Let a held card count once: the same UID counts again only after `window_s` away."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: tuple[str, float] | None = None

    def admit(self, uid: str, now: float) -> bool:
        """Return whether this read is a new tap (and remember it either way)."""
        last, self._last = self._last, (uid, now)
        return last is None or last[0] != uid or now - last[1] >= self.window_s


@dataclass(frozen=True)
class Pn532Timing:
    """How patient to be with a PN532."""

    ack_timeout_s: float = 0.1
    response_timeout_s: float = 1.0
    poll_s: float = 0.1
    retries: int = 3


class Pn532Error(KioskError):
    """The PN532 did not answer as it should."""


class SerialCardReader:
    """Read cards from a serial port in a background thread and deliver `Scan("card", uid)`."""

    def __init__(
        self,
        port: str,
        protocol: str = "rdm6300",
        *,
        normalise: Callable[[str], Checked] = Checked,  # for text lines only
        baudrate: int = 0,
        repeat_window_s: float = 1.0,
        reconnect_s: float = 0.5,
        pn532: Pn532Timing | None = None,
    ) -> None:
        if protocol not in BAUDRATES:
            raise ValueError(f"unknown card reader protocol {protocol!r}")
        self.port, self.protocol = port, protocol
        self.baudrate = baudrate or BAUDRATES[protocol]
        self.normalise = normalise
        self.repeats = RepeatFilter(repeat_window_s)
        self.reconnect_s = reconnect_s
        self.pn532 = pn532 or Pn532Timing()
        self.health = Health(f"card reader {protocol} on {port}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handler: ScanHandler = lambda scan: None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, handler: ScanHandler) -> None:
        """Start reading in a background thread."""
        self._handler = handler
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.health.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _open(self) -> Port:
        return serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=READ_TIMEOUT_S)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as e:
                self._failed(f"cannot open {self.port}: {e}")
                continue
            error = ""
            try:
                self._session(port)
            except (serial.SerialException, OSError, Pn532Error) as e:
                error = f"{self.port}: {e}"
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
            if error:
                self._failed(error)

    def _failed(self, error: str) -> None:
        if self.health.as_dict()["last_error"] != error:
            log.warning("%s; retrying every %.1f s", error, self.reconnect_s)
        self.health.down(error)
        self._stop.wait(self.reconnect_s)

    def _session(self, port: Port) -> None:
        if self.protocol == "pn532":
            self._pn532_session(port)
            return
        parser = frames.Rdm6300Parser() if self.protocol == "rdm6300" else frames.LineParser()
        self.health.up()
        while not self._stop.is_set():
            chunk = port.read(port.in_waiting or 1)
            if chunk:
                self._deliver_all(parser.feed(chunk))

    # -- delivery ----------------------------------------------------------------------------

    def _deliver_all(self, found: list[frames.Frame]) -> None:
        for frame in found:
            if frame.uid is None:
                self.health.rejected(frame.reason)
                continue
            # RDM6300 and PN532 frames carry binary UIDs, already canonical hex; only text lines
            # may be decimal numbers or hex with separators.
            checked = self.normalise(frame.uid) if self.protocol == "line" else Checked(frame.uid)
            if checked.code is None:
                self.health.rejected(checked.reason)
            elif self.repeats.admit(checked.code, time.monotonic()):
                self.health.good()
                self._handler(Scan("card", checked.code))

    # -- PN532 -------------------------------------------------------------------------------

    def _pn532_session(self, port: Port) -> None:
        chip = Pn532(port, self.pn532, self._stop)
        failures = 0
        chip.setup()
        self.health.up()
        while not self._stop.is_set():
            try:
                frame = chip.poll()
            except Pn532Error as e:
                failures += 1
                self.health.rejected(str(e))
                if failures >= self.pn532.retries:
                    self.health.down(f"PN532 stopped answering: {e}")
                    log.warning("PN532 stopped answering (%s); waking it again", e)
                    chip.setup()  # raises when it still does not answer: reopen the port
                    self.health.up()
                    failures = 0
                continue
            failures = 0
            if frame is not None:
                self._deliver_all([frame])
            self._stop.wait(self.pn532.poll_s)


class Pn532:
    """One conversation with a PN532 on HSU: command, ACK, response, with timeouts."""

    def __init__(self, port: Port, timing: Pn532Timing, stop: threading.Event) -> None:
        self.port, self.timing, self.stop = port, timing, stop
        self.parser = frames.Pn532Parser()
        self._pending: list[frames.Pn532Reply] = []

    def setup(self) -> None:
        """Wake the chip, check it answers, and set it up to poll for ISO 14443A cards."""
        self.port.write(frames.WAKEUP)
        self.parser, self._pending = frames.Pn532Parser(), []  # forget what came before
        self.command(frames.GET_FIRMWARE_VERSION)
        self.command(frames.SAM_CONFIGURATION, b"\x01\x14\x01")  # normal mode, 1 s, use IRQ
        # Passive activation retries 0x02: InListPassiveTarget answers soon even with no card.
        self.command(frames.RF_CONFIGURATION, b"\x05\xff\x01\x02")

    def poll(self) -> frames.Frame | None:
        """Ask for one ISO 14443A card at 106 kbps; return its UID frame, or None."""
        return frames.target_uid(self.command(frames.IN_LIST_PASSIVE_TARGET, b"\x01\x00"))

    def command(self, command: int, data: bytes = b"") -> bytes:
        """Send a command, wait for its ACK and then its response; return the response data."""
        self.port.write(frames.pn532_frame(frames.HOST_TO_PN532, command, data))
        reply = self._next(self.timing.ack_timeout_s, f"no ACK to command 0x{command:02X}")
        if reply.kind != "ack":
            raise Pn532Error(f"{reply.kind} instead of ACK to 0x{command:02X} {reply.reason}")
        while True:
            reply = self._next(
                self.timing.response_timeout_s, f"no answer to command 0x{command:02X}"
            )
            if reply.kind == "response" and reply.command == command + 1:
                return reply.data
            if reply.kind == "error":
                self.port.write(frames.NACK)  # ask for the answer again
                continue
            raise Pn532Error(f"unexpected {reply.kind} 0x{reply.command:02X} to 0x{command:02X}")

    def _next(self, timeout_s: float, error: str) -> frames.Pn532Reply:
        deadline = time.monotonic() + timeout_s
        pending = self._pending
        while not pending:
            if self.stop.is_set():
                raise Pn532Error("stopped")
            if time.monotonic() > deadline:
                raise Pn532Error(error)
            chunk = self.port.read(self.port.in_waiting or 1)
            if chunk:
                pending = self.parser.feed(chunk)
        self._pending = pending[1:]
        return pending[0]


class PtyPort:
    """The master side of a pseudo-terminal, read like a serial port."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # bytes pass untouched: STX, ETX, CR stay what they are
        # Keeping the slave open means writers may come and go without the master seeing EIO.
        self.path = os.ttyname(self.slave)

    @property
    def in_waiting(self) -> int:
        """Say nothing is known to be waiting: reads wait briefly instead."""
        return 0

    def read(self, size: int = 1) -> bytes:
        """Read what is there, waiting at most the read timeout."""
        ready, _, _ = select.select([self.master], [], [], READ_TIMEOUT_S)
        return os.read(self.master, max(size, 4096)) if ready else b""

    def write(self, data: bytes) -> int:
        """Write towards whoever has the pty open."""
        return os.write(self.master, data)

    def close(self) -> None:
        """Keep the pty: its path was printed and must stay valid while the kiosk runs."""

    def release(self) -> None:
        """Close both sides."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class PtyCardReader(SerialCardReader):
    """A card reader on a pseudo-terminal the kiosk creates: type RDM6300 frames into its path."""

    def __init__(self, protocol: str = "rdm6300", **options: object) -> None:
        self.pty = PtyPort()
        super().__init__(self.pty.path, protocol, **options)  # type: ignore[arg-type]
        self.health.name = f"card reader {protocol} on pty {self.pty.path}"
        log.info(
            "card reader: pseudo-terminal %s; try: printf '\\x020F00A1B2C3DF\\x03' > %s",
            self.pty.path,
            self.pty.path,
        )

    def _open(self) -> Port:
        return self.pty

    def stop(self) -> None:
        """Stop reading and close the pty."""
        super().stop()
        self.pty.release()
