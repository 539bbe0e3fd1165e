"""Fakes with verbs, for tests and development: they run the real decoders, not shortcuts.

`FakeScanner.scan("9787020002207")` types the code as a US-layout scanner would (key events with
timestamps, Shift for capitals) into the same decoder and checks the evdev scanner uses.
`FakeCardReader.present("0F00A1B2C3")` writes an RDM6300 frame into a `loop://` port that the
real serial card reader is reading. (The pty card reader a developer types into is
`cardreader.PtyCardReader`, chosen with `[card_reader] port = "pty:"`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from evdev import InputEvent

from kiosk.codes import Checked
from kiosk.devices import frames
from kiosk.devices.base import ScanHandler
from kiosk.devices.cardreader import Port, SerialCardReader
from kiosk.devices.keys import KeyDecoder, key_events
from kiosk.devices.scanner import EvdevScanner, KeyDevice


def _no_device() -> KeyDevice:
    raise OSError("a fake scanner has no device")


class FakeScanner(EvdevScanner):
    """A scanner driven by method calls; scans are decoded on the caller's thread."""

    def __init__(
        self,
        *,
        decoder: KeyDecoder | None = None,
        check: Callable[[str], Checked] = Checked,
        source: str = "scanner",
    ) -> None:
        super().__init__("fake scanner", _no_device, decoder=decoder, check=check, source=source)

    def start(self, handler: ScanHandler) -> None:
        """Remember where scans go; no thread is needed."""
        self._handler = handler
        self.health.up()

    def stop(self) -> None:
        """Nothing to release."""
        self.health.down("stopped")

    def scan(self, code: str, gap_s: float = 0.004) -> None:
        """Type `code` and Enter as a scanner does, ending now."""
        self.feed(key_events(code, time.time() - gap_s * len(code), gap_s))

    def feed(self, events: list[InputEvent]) -> None:
        """Feed raw key events, as a recording or a test built them."""
        for event in events:
            self.result(self.decoder.feed(event))


class FakeCardReader(SerialCardReader):
    """An RDM6300 card reader on a `loop://` port: `present()` a card and the reader reads it."""

    def __init__(self, repeat_window_s: float = 1.0, **options: object) -> None:
        super().__init__("loop://", "rdm6300", repeat_window_s=repeat_window_s, **options)  # type: ignore[arg-type]
        self._port: Port | None = None

    def _open(self) -> Port:
        self._port = super()._open()
        return self._port

    def present(self, uid: str, frames_sent: int = 1) -> None:
        """Hold a card to the reader: it sends the card's frame `frames_sent` times."""
        self.send(frames.rdm6300_frame(uid) * frames_sent)

    present_card = present

    def send(self, data: bytes) -> None:
        """Put raw bytes on the line (noise, broken frames)."""
        deadline = time.monotonic() + 2
        while self._port is None or not self.health.connected:
            if time.monotonic() > deadline:
                raise RuntimeError("fake card reader was not started")
            time.sleep(0.005)
        self._port.write(data)
