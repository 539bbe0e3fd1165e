"""The evdev scanner adapter: delivery, checks, unplug (ENODEV) and reconnect, a real UInput."""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest
from evdev import InputEvent

from kiosk import config
from kiosk.codes import check_book_code
from kiosk.devices import build
from kiosk.devices.fakes import FakeScanner
from kiosk.devices.keys import KeyDecoder, key_events
from kiosk.devices.scanner import EvdevScanner, find_device

from .conftest import Scans, wait_for


class FakeKeyboard:
    """Stands in for `evdev.InputDevice`: a pipe to wait on, queued events, and an unplug."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        self.events: list[InputEvent] = []
        self.unplugged = False
        self.closed = False
        self.lock = threading.Lock()

    def fileno(self) -> int:
        return self.r

    def type(self, events: list[InputEvent]) -> None:
        with self.lock:
            self.events.extend(events)
        os.write(self.w, b"x")

    def read(self) -> list[InputEvent]:
        os.read(self.r, 4096)
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        with self.lock:
            events, self.events = self.events, []
        if not events:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return events

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self.w, b"x")

    def close(self) -> None:
        self.closed = True
        os.close(self.r)
        os.close(self.w)


class Socket:
    """The USB socket: opening fails while nothing is plugged in."""

    def __init__(self) -> None:
        self.device: FakeKeyboard | None = FakeKeyboard()
        self.opens = 0

    def open(self) -> FakeKeyboard:
        self.opens += 1
        if self.device is None or self.device.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        return self.device


def test_scanned_codes_are_checked_and_delivered(scans: Scans) -> None:
    socket = Socket()
    scanner = EvdevScanner("scanner", socket.open, check=check_book_code)
    scanner.start(scans)
    try:
        wait_for(lambda: scanner.health.connected)
        assert socket.device is not None
        socket.device.type(key_events("9787020002207", time.time()))
        assert scans.next() == ("scanner", "9787020002207")
        socket.device.type(key_events("702000220X", time.time()))  # ISBN-10
        assert scans.next() == ("scanner", "9787020002207")
        socket.device.type(key_events("9787020002208", time.time()))  # bad check digit
        wait_for(lambda: scanner.health.as_dict()["rejected_reads"] == 1)
        health = scanner.health.as_dict()
        assert health["good_reads"] == 2
        assert health["last_rejection"] == "9787020002208: bad EAN-13 check digit"
    finally:
        scanner.stop()


def test_a_partial_code_is_dropped_after_silence_without_another_key(scans: Scans) -> None:
    socket = Socket()
    scanner = EvdevScanner("scanner", socket.open, decoder=KeyDecoder(partial_timeout_s=0.1))
    scanner.start(scans)
    try:
        wait_for(lambda: scanner.health.connected)
        assert socket.device is not None
        socket.device.type(key_events("9787", time.time(), enter=False))
        wait_for(lambda: scanner.health.as_dict()["rejected_reads"] == 1)
        assert scanner.health.as_dict()["last_rejection"] == "partial code without Enter"
    finally:
        scanner.stop()


def test_unplugging_gives_enodev_and_the_scanner_comes_back_within_2_s(scans: Scans) -> None:
    socket = Socket()
    scanner = EvdevScanner("scanner", socket.open, reconnect_s=0.5)
    scanner.start(scans)
    try:
        wait_for(lambda: scanner.health.connected)
        first = socket.device
        assert first is not None
        first.unplug()
        wait_for(lambda: not scanner.health.connected)
        assert scanner.health.as_dict()["last_error"] == "No such device"
        assert first.closed
        opens = socket.opens
        # Unplugged for a while: it keeps looking (every 0.5 s, counted here, not timed).
        wait_for(lambda: socket.opens - opens >= 2)
        socket.device = FakeKeyboard()  # plugged back in
        wait_for(lambda: scanner.health.connected)
        socket.device.type(key_events("ABC-123", time.time()))
        assert scans.next() == ("scanner", "ABC-123")
    finally:
        scanner.stop()


def test_fake_scanner_types_through_the_real_decoder_and_checks(scans: Scans) -> None:
    scanner = FakeScanner(check=check_book_code)
    scanner.start(scans)
    scanner.scan("9787020002207")
    assert scans.next() == ("scanner", "9787020002207")
    scanner.scan("9787020002207", gap_s=0.1)  # too slow: a person typing
    assert scans.none_within(0.05)
    assert scanner.health.as_dict()["last_rejection"] == (
        "keys too slow for a scanner (someone typing)"
    )


def test_keyboard_card_reader_role_delivers_card_scans(tmp_path: object) -> None:
    settings = config.from_dict(
        {
            "scanner": {"source": "evdev:name=^RFID Reader$", "role": "card"},
            "card_reader": {"decimal_byte_order": "little"},
        }
    )
    source = build.scanner_source(settings, settings.scanner.source)
    assert isinstance(source, EvdevScanner)
    assert source.source == "card"
    assert source.check("3283263744").code == "0010597059"
    assert source.check("9787020002207").code is None  # 13 digits is no card


def test_find_device_says_what_is_missing() -> None:
    with pytest.raises(OSError, match="is not plugged in"):
        find_device("/dev/input/by-id/usb-nothing-event-kbd")
    with pytest.raises(OSError, match="no input device with usb=dead:beef"):
        find_device("usb=dead:beef")


@pytest.mark.skipif(
    not os.access("/dev/uinput", os.W_OK),
    reason="/dev/uinput is missing or not writable here: no virtual keyboard to test with",
)
def test_a_real_uinput_keyboard_is_found_by_name_grabbed_and_read(scans: Scans) -> None:
    from evdev import UInput, ecodes

    from kiosk.devices.keys import CHARMAP
    from kiosk.devices.scanner import open_input

    keys = sorted({code for code, _ in CHARMAP.values()} | {ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT})
    with UInput({ecodes.EV_KEY: keys}, name="kiosk test scanner") as ui:
        wait_for(lambda: os.access(ui.device.path, os.R_OK))  # udev has made the node
        scanner = EvdevScanner(
            "scanner", open_input("name=^kiosk test scanner$"), check=check_book_code
        )
        scanner.start(scans)
        try:
            wait_for(lambda: scanner.health.connected)
            for event in key_events("9787020002207", time.time()):
                ui.write(event.type, event.code, event.value)
                ui.syn()
            assert scans.next() == ("scanner", "9787020002207")
        finally:
            scanner.stop()


def test_a_keyboard_card_reader_can_sit_beside_the_barcode_scanner() -> None:
    settings = config.from_dict(
        {
            "scanner": {"source": "evdev:usb=0c2e:0b61"},
            "card_reader": {"port": "evdev:name=RFID"},
        }
    )
    scanner = build.scanner_source(settings, settings.scanner.source)
    reader = build.card_reader(settings)
    assert isinstance(scanner, EvdevScanner) and isinstance(reader, EvdevScanner)
    assert (scanner.source, reader.source) == ("scanner", "card")
    assert reader.check("0010597059").code == "0010597059"
    assert scanner.check("702000220X").code == "9787020002207"
