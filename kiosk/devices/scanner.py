"""The USB barcode scanner (or keyboard-style card reader) through evdev: find, grab, read.

Only this thin adapter touches `/dev/input`; decoding is `keys.KeyDecoder`, checking is
`codes`. The scanner is grabbed so its keystrokes never reach the kiosk browser. When it is
unplugged the read fails with ENODEV: the adapter reports that, closes the device and looks for
it again every `reconnect_s` (a plain wait, no busy loop) until it is back.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from evdev import InputDevice, InputEvent, ecodes, list_devices

from kiosk.codes import Checked
from kiosk.devices.base import Health, Scan, ScanHandler
from kiosk.devices.keys import Decoded, KeyDecoder

log = logging.getLogger(__name__)


class KeyDevice(Protocol):
    """The part of `evdev.InputDevice` the scanner uses."""

    def fileno(self) -> int:
        """The file descriptor to wait on."""
        ...

    def read(self) -> Iterable[InputEvent]:
        """Return the events that are ready (raises BlockingIOError when none are)."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


def readable_devices() -> Iterator[InputDevice]:
    """Yield each input device this process may open, by path; each is closed after its turn."""
    for path in sorted(list_devices()):
        try:
            dev = InputDevice(path)
        except OSError:
            continue
        try:
            yield dev
        finally:
            dev.close()


def types_codes(dev: InputDevice) -> bool:
    """Return whether a device can type Enter (a scanner's node that reads codes)."""
    return ecodes.KEY_ENTER in dev.capabilities().get(ecodes.EV_KEY, [])


def find_device(spec: str) -> str:
    """Return the /dev/input path an `evdev:` spec names: a path, name=REGEX or usb=VID:PID."""
    if spec.startswith("name=") or spec.startswith("usb="):
        key, _, wanted = spec.partition("=")
        for dev in readable_devices():
            if key == "name":
                hit = re.search(wanted, dev.name) is not None
            else:
                vid, _, pid = wanted.partition(":")
                hit = (dev.info.vendor, dev.info.product) == (int(vid, 16), int(pid, 16))
            # A scanner may show several event nodes; the one that can type Enter reads codes.
            if hit and types_codes(dev):
                return str(dev.path)
        raise OSError(errno.ENODEV, f"no input device with {spec} is plugged in")
    if not os.path.exists(spec):
        raise OSError(errno.ENODEV, f"{spec} is not plugged in")
    return spec


def open_input(spec: str, grab: bool = True) -> Callable[[], KeyDevice]:
    """Return an opener for the input device `spec` names, grabbed for the kiosk alone."""

    def opener() -> KeyDevice:
        dev = InputDevice(find_device(spec))
        if grab:
            try:
                dev.grab()
            except OSError:
                dev.close()
                raise
        return dev

    return opener


class EvdevScanner:
    """Deliver each checked code a keyboard-style device types, from a background thread."""

    def __init__(
        self,
        name: str,
        open_device: Callable[[], KeyDevice],
        *,
        decoder: KeyDecoder | None = None,
        check: Callable[[str], Checked] = Checked,
        source: str = "scanner",
        reconnect_s: float = 0.5,
    ) -> None:
        self.health = Health(name)
        self.open_device = open_device
        self.decoder = decoder or KeyDecoder()
        self.check = check
        self.source = source
        self.reconnect_s = reconnect_s
        self._handler: ScanHandler = lambda scan: None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    def start(self, handler: ScanHandler) -> None:
        """Start reading in a background thread."""
        self._handler = handler
        self._thread = threading.Thread(target=self._run, name=self.health.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and release the device."""
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                dev = self.open_device()
            except OSError as e:
                self._failed(e)
                continue
            self.health.up()
            log.info("%s: connected", self.health.name)
            error: OSError | None = None
            try:
                self._read(dev)
            except OSError as e:  # ENODEV when unplugged
                error = e
            with contextlib.suppress(OSError):
                dev.close()
            if error is not None:
                self._failed(error)

    def _failed(self, error: OSError) -> None:
        message = error.strerror or str(error)
        if self.health.as_dict()["last_error"] != message:
            log.warning(
                "%s: %s; looking again every %.1f s", self.health.name, message, self.reconnect_s
            )
        self.health.down(message)
        self._stop.wait(self.reconnect_s)

    def _read(self, dev: KeyDevice) -> None:
        fd = dev.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([fd, self._wake_r], [], [], self.decoder.partial_timeout_s)
            if self._wake_r in ready:
                return
            if not ready:
                self.result(self.decoder.expire(time.time()))
                continue
            try:
                events = list(dev.read())
            except BlockingIOError:
                continue
            for event in events:
                self.result(self.decoder.feed(event))

    def result(self, decoded: Decoded | None) -> None:
        """Check a decoded burst and deliver it, or count it as rejected."""
        if decoded is None:
            return
        if decoded.code is None:
            self.health.rejected(decoded.reason)
            return
        checked = self.check(decoded.code)
        if checked.code is None:
            self.health.rejected(f"{decoded.code}: {checked.reason}")
            return
        self.health.good()
        self._handler(Scan(self.source, checked.code))
