"""Make devices from settings: the scan sources, the card reader and the indicator.

The daemon (kiosk/daemon/app.py) and `kiosk devices test` both build through here, so the
installer's test uses exactly what the service will.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, TextIO

from kiosk.codes import canonical_uid, check_book_code, compile_patterns
from kiosk.config import CardReaderSettings, IndicatorSettings, ScannerSettings, Settings
from kiosk.devices.base import Indicator, ScanSource
from kiosk.devices.cardreader import Pn532Timing, PtyCardReader, SerialCardReader
from kiosk.devices.console import ConsoleIndicator, FifoSource, NullIndicator, StdinSource

if TYPE_CHECKING:
    from kiosk.devices.scanner import EvdevScanner


def card_check(scanner: ScannerSettings, reader: CardReaderSettings) -> functools.partial:
    """Return the function that turns a card reader's text into a canonical card code."""
    return functools.partial(
        canonical_uid,
        byte_order=reader.decimal_byte_order,
        card_patterns=compile_patterns(scanner.card_patterns),
    )


def book_check(scanner: ScannerSettings) -> functools.partial:
    """Return the function that checks a barcode scanner's code."""
    return functools.partial(
        check_book_code,
        book_patterns=compile_patterns(scanner.book_patterns),
        card_patterns=compile_patterns(scanner.card_patterns),
        convert_isbn10=scanner.isbn10_to_13,
    )


def scanner_source(settings: Settings, url: str) -> ScanSource | None:
    """Make the scan source a `[scanner] source` URL names (None for `none:`)."""
    s = settings.scanner
    scheme, _, rest = url.partition(":")
    if scheme == "stdin":
        return StdinSource(s.max_code_length, s.partial_timeout_s)
    if scheme == "fifo":
        return FifoSource(settings.resolve(rest), s.max_code_length, s.partial_timeout_s)
    if scheme == "none":
        return None
    if scheme == "evdev":
        return keyboard_source(settings, url, card=s.role == "card")
    raise ValueError(f"[scanner] source: no driver for {url!r}")


def keyboard_source(settings: Settings, url: str, *, card: bool) -> EvdevScanner:
    """Make an evdev source: a barcode scanner, or a card reader that types like a keyboard."""
    # evdev only when used: it loads asyncio, 8 MB a daemon with a serial or FIFO source saves.
    from kiosk.devices.keys import KeyDecoder
    from kiosk.devices.scanner import EvdevScanner, open_input

    s = settings.scanner
    return EvdevScanner(
        f"{'card reader' if card else 'scanner'} {url}",
        open_input(url.partition(":")[2], grab=s.grab),
        decoder=KeyDecoder(s.max_key_gap_s, s.partial_timeout_s, s.max_code_length),
        check=card_check(s, settings.card_reader) if card else book_check(s),
        source="card" if card else "scanner",
        reconnect_s=s.reconnect_s,
    )


def card_reader(settings: Settings) -> ScanSource | None:
    """Make the card reader `[card_reader]` describes, or None when no port is set."""
    c = settings.card_reader
    if not c.port:
        return None
    if c.port.startswith("evdev:"):
        # A USB reader that types card numbers, beside a barcode scanner on [scanner].
        return keyboard_source(settings, c.port, card=True)
    options = {
        "normalise": card_check(settings.scanner, c),
        "baudrate": c.baudrate,
        "repeat_window_s": c.repeat_window_s,
        "reconnect_s": c.reconnect_s,
        "pn532": Pn532Timing(
            c.pn532_ack_timeout_s, c.pn532_response_timeout_s, c.pn532_poll_s, c.pn532_retries
        ),
    }
    if c.port == "pty:":
        return PtyCardReader(c.protocol, **options)
    return SerialCardReader(c.port, c.protocol, **options)  # type: ignore[arg-type]


def indicator(settings: IndicatorSettings, stream: TextIO | None = None) -> Indicator:
    """Make the configured indicator."""
    if settings.kind == "console":
        return ConsoleIndicator(stream or sys.stdout)
    if settings.kind == "none":
        return NullIndicator()
    from gpiozero.exc import GPIOZeroError

    from kiosk.devices.indicator import GpioIndicator, pin_factory  # gpiozero only when used

    pins = {
        "green_pin": settings.green_pin,
        "red_pin": settings.red_pin,
        "amber_pin": settings.amber_pin,
        "buzzer_pin": settings.buzzer_pin,
    }
    used: dict[int, str] = {}
    for key, pin in pins.items():
        if pin >= 0 and pin in used:
            raise ValueError(f"[indicator] {used[pin]} and {key} are both GPIO {pin}")
        used[pin] = key
    try:
        return GpioIndicator(
            pin_factory=pin_factory(settings.pin_factory),
            green=settings.green_pin,
            red=settings.red_pin,
            amber=settings.amber_pin,
            buzzer=settings.buzzer_pin,
            active_high=settings.active_high,
            buzzer_kind=settings.buzzer_kind,
            buzzer_active_high=settings.buzzer_active_high,
            quiet=settings.quiet,
        )
    except (GPIOZeroError, ImportError, OSError, RuntimeError) as e:
        hint = (
            f"install it: .venv/bin/pip install {e.name}"
            if isinstance(e, ImportError) and e.name
            else 'on a Pi 5 set pin_factory = "lgpio"; without GPIO use kind = "console" '
            'or pin_factory = "mock"'
        )
        raise ValueError(
            f'[indicator] kind = "gpio": cannot use the GPIO pins ({type(e).__name__}: {e}); '
            + hint
        ) from e
