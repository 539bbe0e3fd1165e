"""From a scan's last key event to the indicator's first pin change, through the whole daemon.

    .venv/bin/python -m bench.device_latency [--trips 50] [--rounds 3] [--quick] [--dir FOLDER]

It builds a Daemon from settings on a real store in a
temp folder, with the fake devices: a `FakeScanner` whose key events go through the real
decoder and checks, a `FakeCardReader` on `loop://`, and the GPIO indicator on gpiozero's
MockFactory. Each round a student taps a card, scans a book (checkout), ends the session and
scans the book again (return): two measured scans, each one committed transaction. Each round
(bench.harness) runs the trips with devices and the same number without, one after the other.

It prints p50 and p99 of:
- total: Enter key event fed to the decoder -> first pin change (the student's wait);
- device layer: decoding and checking the scan (Enter -> Scan handed to the daemon) plus the
  indicator's own share (show() called -> first pin change);
- baseline, measured in the same run: the same rounds with each `Scan` handed straight to the
  daemon and `show()` as the end: the circulation path with no devices at all.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gpiozero.pins.mock import MockFactory, MockPWMPin

from bench import harness
from kiosk import config
from kiosk.circulation.records import put_item, put_patron
from kiosk.daemon.app import Daemon
from kiosk.devices.base import Scan
from kiosk.devices.build import book_check
from kiosk.devices.fakes import FakeCardReader, FakeScanner
from kiosk.devices.indicator import GpioIndicator
from kiosk.devices.keys import key_events

ROUNDS = 100
CARD, BOOK = "0F00A1B2C3", "9787020002207"
T = TypeVar("T")


class Marks:
    """Timestamps (perf_counter) of one measured scan."""

    armed = False
    enter = scan = show = pin = 0.0

    @classmethod
    def arm(cls) -> None:
        cls.scan = cls.show = cls.pin = 0.0
        cls.armed = True


class StampedPin(MockPWMPin):
    """A mock pin that notes when it first changes after the bench arms it."""

    def _change_state(self, value: float) -> bool:
        changed = super()._change_state(value)
        # Only a change after show(): a pin still moving from the last pattern (a chirp, a
        # blink) is not this scan's light. Without this a late blink once counted as "the" pin
        # change with show() unset, and a round's p99 read 3.8 million ms.
        if changed and Marks.armed and Marks.show and not Marks.pin:
            Marks.pin = time.perf_counter()
        return bool(changed)


class TimedIndicator(GpioIndicator):
    """The GPIO indicator, noting when the daemon asks it to show a pattern."""

    def show(self, pattern: str, text: str = "") -> None:
        if Marks.armed and not Marks.show:
            Marks.show = time.perf_counter()
        super().show(pattern, text)


def wait(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    harness.wait_for(condition, what, timeout, 0.0005)


def make_daemon(folder: Path) -> tuple[Daemon, FakeScanner, FakeCardReader]:
    settings = config.from_dict(
        {
            "store": {"path": str(folder / "kiosk.db")},
            "scanner": {"source": "none:"},
            "web": {"enabled": False},
            "kiosk": {"repeat_scan_window_s": 0},
            "rules": {"closed_weekdays": []},
        },
        base_dir=folder,
    )
    scanner = FakeScanner(check=book_check(settings.scanner))
    reader = FakeCardReader(repeat_window_s=0)
    indicator = TimedIndicator(pin_factory=MockFactory(pin_class=StampedPin))
    daemon = Daemon(settings, indicator=indicator, sources=[reader])
    with daemon.store.write() as db:
        now = daemon.store.now()
        put_patron(
            db,
            {
                "id": "S001",
                "name": "王小明",
                "role": "student",
                "grade": 3,
                "class_name": "三(2)班",
            },
            [CARD],
            now,
        )
        put_item(
            db,
            {"barcode": BOOK, "title": "红楼梦", "author": "曹雪芹", "call_number": "I242.4/1"},
            now,
        )

    def deliver(scan: Scan) -> None:
        Marks.scan = time.perf_counter()
        daemon.submit(scan)

    scanner.start(deliver)
    return daemon, scanner, reader


def scan_with_devices(scanner: FakeScanner) -> tuple[float, float]:
    """Scan the book through the decoder; return (total, device share) in seconds."""
    events = key_events(BOOK, time.time() - 0.004 * len(BOOK))
    scanner.feed(events[:-4])  # everything up to Enter down, SYN, Enter up, SYN
    Marks.arm()
    Marks.enter = time.perf_counter()
    scanner.feed(events[-4:])
    wait(lambda: Marks.pin, "the indicator's first pin change after show()")
    Marks.armed = False
    decode = Marks.scan - Marks.enter
    indicate = Marks.pin - Marks.show
    return Marks.pin - Marks.enter, decode + indicate


def scan_baseline(daemon: Daemon) -> float:
    """Hand the daemon the book's Scan directly; return seconds until show() is called."""
    Marks.arm()
    start = time.perf_counter()
    daemon.submit(Scan("scanner", BOOK))
    wait(lambda: Marks.show, "the daemon to call show()")
    Marks.armed = False
    return Marks.show - start


def round_trip(daemon: Daemon, reader: FakeCardReader, scan: Callable[[], T]) -> list[T]:
    """One student: tap, scan (checkout), done, scan again (return); the two scans measured."""
    results = []
    reader.present(CARD)
    wait(lambda: daemon.kiosk.mode != "idle", "the card to start a session")
    time.sleep(0.14)  # let the hello chirp end, so the next pattern changes a pin
    results.append(scan())
    wait(
        lambda: (
            daemon.store.reader.execute(
                "SELECT count(*) FROM loans WHERE returned_at IS NULL"
            ).fetchone()[0]
            == 1
        ),
        "the checkout to be committed",
    )
    daemon.kiosk.done()
    time.sleep(0.14)
    results.append(scan())
    wait(
        lambda: (
            daemon.store.reader.execute(
                "SELECT count(*) FROM loans WHERE returned_at IS NULL"
            ).fetchone()[0]
            == 0
        ),
        "the return to be committed",
    )
    time.sleep(0.14)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the tables."""
    ap = harness.parser(__doc__)
    ap.add_argument("--trips", type=int, help="round trips (2 scans) per round: 50")
    args = ap.parse_args(argv)
    trips = args.trips or harness.size(args, 50, 2)
    bench = harness.Bench("device_latency", args)
    with harness.workdir(args, "device") as folder:
        daemon, scanner, reader = make_daemon(folder)
        stop = threading.Event()
        thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait(lambda: reader.health.connected, "the card reader to connect")
            for _ in range(harness.size(args, 3, 1)):  # warm up: caches, first SQLite pages
                round_trip(daemon, reader, lambda: scan_with_devices(scanner))
            for _ in bench.rounds():
                total: list[float] = []
                device: list[float] = []
                baseline: list[float] = []
                for _ in range(trips):
                    for t, d in round_trip(daemon, reader, lambda: scan_with_devices(scanner)):
                        total.append(t * 1000)
                        device.append(d * 1000)
                    baseline += [
                        t * 1000 for t in round_trip(daemon, reader, lambda: scan_baseline(daemon))
                    ]
                bench.record("total: last key event -> first pin", total)
                bench.record("device layer: decode + show -> pin", device)
                bench.record("baseline: Scan -> show(), no devices", baseline)
        finally:
            stop.set()
            thread.join(timeout=5)
    bench.compare(
        "scan to light: p99",
        "total: last key event -> first pin",
        "baseline: Scan -> show(), no devices",
        "p99",
        harness.at_most(1000, "ms"),
    )
    bench.compare(
        "device layer's share of a scan: p99",
        "device layer: decode + show -> pin",
        None,
        "p99",
        harness.at_most(2, "ms"),
    )
    bench.note(f"{trips} round trips (checkout and return) per round, {sys.platform}")
    bench.report()


if __name__ == "__main__":
    main()
