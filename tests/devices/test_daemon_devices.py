"""The daemon with devices: card reader and scanner in, lights and buzzer out, health of each."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon
from kiosk.devices import build, frames
from kiosk.devices.build import book_check
from kiosk.devices.cardreader import PtyCardReader, SerialCardReader
from kiosk.devices.fakes import FakeCardReader, FakeScanner
from kiosk.devices.indicator import GpioIndicator

from .conftest import Pty, wait_for

GREEN, RED, AMBER, BUZZER = 17, 27, 22, 18


def device_settings(tmp_path: Path, **sections: dict[str, object]) -> config.Settings:
    raw: dict[str, dict[str, object]] = {
        "store": {"path": str(tmp_path / "kiosk.db")},
        "scanner": {"source": "none:"},
        "web": {"enabled": False},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config.from_dict(raw, base_dir=tmp_path)


@pytest.fixture
def running(tmp_path: Path, store: Store, clock: FakeClock) -> Iterator[dict[str, object]]:
    """A daemon on the test school with a fake scanner, a fake card reader and GPIO lights."""
    settings = device_settings(tmp_path)
    factory = MockFactory(pin_class=MockPWMPin)
    scanner = FakeScanner(check=book_check(settings.scanner))
    reader = FakeCardReader()
    daemon = Daemon(
        settings,
        clock=clock,
        indicator=GpioIndicator(pin_factory=factory),
        sources=[scanner, reader],
    )
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    # A fake scanner's scan is handled on the test's thread: before the daemon has started it
    # there is nowhere for the scan to go, so wait until both devices are up.
    wait_for(lambda: scanner.health.connected and reader.health.connected)
    yield {"daemon": daemon, "factory": factory, "scanner": scanner, "reader": reader}
    stop.set()
    thread.join(timeout=5)


def lit(factory: MockFactory, pin: int) -> bool:
    return bool(factory.pin(pin).state)


def test_a_card_then_a_book_light_green_and_record_the_loan(running: dict, store: Store) -> None:
    daemon, factory = running["daemon"], running["factory"]
    running["reader"].present("0F00A1B2C3")  # 王小明's card, on the serial reader
    wait_for(lambda: daemon.kiosk.mode != "idle")
    running["scanner"].scan("9787020002207")
    wait_for(lambda: len(store.db.execute("SELECT * FROM loans").fetchall()) == 1)
    wait_for(lambda: lit(factory, GREEN) and not lit(factory, RED))
    loan = store.db.execute("SELECT item_barcode, patron_id FROM loans").fetchone()
    assert tuple(loan) == ("9787020002207", "S001")


def test_an_unknown_card_lights_red(running: dict) -> None:
    factory = running["factory"]
    running["reader"].present("1A2B3C4D5E")
    wait_for(lambda: lit(factory, RED))
    assert not lit(factory, GREEN)


def test_a_bad_barcode_never_reaches_the_session(running: dict, store: Store) -> None:
    factory = running["factory"]
    events_before = store.db.execute("SELECT count(*) FROM events").fetchone()[0]
    running["scanner"].scan("9787020002208")  # wrong check digit: a misread
    wait_for(lambda: running["scanner"].health.as_dict()["rejected_reads"] == 1)
    # The misread gave no feedback: every light still has only its first (off) state.
    assert [len(factory.pin(p).states) for p in (GREEN, RED, AMBER)] == [1, 1, 1]
    running["scanner"].scan("9787020002207")  # the good read that follows is handled
    # A book with no card first: a warning. Wait for the amber light to have changed, not to be
    # on now: under load the poll may come after its blink has ended.
    wait_for(lambda: len(factory.pin(AMBER).states) >= 2)
    assert [len(factory.pin(p).states) for p in (GREEN, RED)] == [1, 1]
    assert [bool(s.state) for s in factory.pin(AMBER).states][:2] == [False, True]
    assert store.db.execute("SELECT count(*) FROM events").fetchone()[0] == events_before


def test_health_lists_every_device(running: dict) -> None:
    running["reader"].present("0F00A1B2C3")
    wait_for(lambda: running["reader"].health.as_dict()["good_reads"] == 1)
    devices = running["daemon"].health()["devices"]
    assert [(d["name"], d["connected"]) for d in devices] == [
        ("fake scanner", True),
        ("card reader rdm6300 on loop://", True),
        ("indicator gpio", True),
    ]
    assert devices[1]["good_reads"] == 1 and devices[1]["last_read"] is not None


def test_devices_are_built_from_the_config(tmp_path: Path, store: Store, clock: FakeClock) -> None:
    settings = device_settings(
        tmp_path,
        card_reader={"port": "pty:"},
        indicator={"kind": "gpio", "pin_factory": "mock", "quiet": True},
    )
    daemon = Daemon(settings, clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    try:
        (reader,) = daemon.sources or []
        assert isinstance(reader, PtyCardReader)
        assert isinstance(daemon.indicator, GpioIndicator)
        wait_for(lambda: reader.health.connected)
        fd = os.open(reader.pty.path, os.O_WRONLY | os.O_NOCTTY)
        os.write(fd, frames.rdm6300_frame("0F00A1B2C3"))
        os.close(fd)
        wait_for(lambda: daemon.kiosk.mode != "idle")
        green = daemon.indicator.leds["green"]
        wait_for(lambda: green.is_lit)
        assert daemon.indicator.buzzer is not None and not daemon.indicator.buzzer.is_active
    finally:
        stop.set()
        thread.join(timeout=5)


def test_an_unplugged_reader_blinks_red_and_shows_in_health(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    port = Pty()
    factory = MockFactory(pin_class=MockPWMPin)
    reader = SerialCardReader(port.path, "rdm6300", reconnect_s=0.2)
    daemon = Daemon(
        device_settings(tmp_path),
        clock=clock,
        indicator=GpioIndicator(pin_factory=factory),
        sources=[reader],
    )
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: reader.health.connected)
        port.close()  # the USB adapter is pulled out
        wait_for(lambda: lit(factory, RED))
        wait_for(lambda: not lit(factory, RED))
        wait_for(lambda: lit(factory, RED))  # blinking: the fault pattern
        (health,) = [d for d in daemon.health()["devices"] if d["name"].startswith("card")]
        assert health["connected"] is False
        assert port.path in str(health["last_error"])
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=5)


def test_two_parts_on_one_pin_are_refused(tmp_path: Path) -> None:
    # The config check says so (doctor and every command too); the driver holds the rule as well.
    with pytest.raises(config.ConfigError, match="green_pin and red_pin are both GPIO 17"):
        device_settings(tmp_path, indicator={"kind": "gpio", "red_pin": 17})
    settings = device_settings(tmp_path, indicator={"kind": "gpio"})
    doubled = dataclasses.replace(settings.indicator, red_pin=17)
    with pytest.raises(ValueError, match="green_pin and red_pin are both GPIO 17"):
        build.indicator(doubled)


@pytest.mark.skipif(
    Path("/proc/device-tree/model").exists(), reason="this machine may have real GPIO pins"
)
def test_gpio_without_gpio_pins_says_what_to_set(tmp_path: Path) -> None:
    settings = device_settings(tmp_path, indicator={"kind": "gpio"})
    # gpiozero warns as it falls back from one pin factory to the next.
    with pytest.warns(Warning), pytest.raises(ValueError) as refused:
        build.indicator(settings.indicator)
    assert str(refused.value).startswith('[indicator] kind = "gpio": cannot use the GPIO pins')
    assert str(refused.value).endswith('without GPIO use kind = "console" or pin_factory = "mock"')
