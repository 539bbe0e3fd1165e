"""Lights and buzzer on GPIO (gpiozero): one pattern per kind of feedback, never in the way.

`show()` sets the pattern's first step at once (a few microseconds of pin writes) and leaves the
rest to a background thread; a new pattern replaces the running one. `offline`/`online` are not
flashes but a state: while the hub is unreachable the amber LED blinks slowly between other
patterns (quietly: students are not alarmed), and `online` ends that.

gpiozero is used as it is, not wrapped in look-alikes: the pin factory passes straight through,
so tests use `MockFactory` and read each pin's state history.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from gpiozero import LED, Buzzer, TonalBuzzer
from gpiozero.tones import Tone

from kiosk.devices.base import PATTERNS, Health

log = logging.getLogger(__name__)

HIGH, MID, LOW = 880.0, 660.0, 220.0  # Hz; within TonalBuzzer's range with octaves=2


@dataclass(frozen=True)
class Step:
    """Hold these lights (and this tone, if any) for `seconds`."""

    seconds: float
    lights: frozenset[str] = frozenset()
    tone: float | None = None


def step(seconds: float, *lights: str, tone: float | None = None) -> Step:
    """Make a step: `step(0.1, "green", tone=HIGH)`."""
    return Step(seconds, frozenset(lights), tone)


STEPS: dict[str, tuple[Step, ...]] = {
    # Green and one short high beep: done, take your book.
    "ok": (step(0.1, "green", tone=HIGH), step(1.4, "green")),
    # Red and one long low beep: something is wrong, look at the screen.
    "error": (step(0.6, "red", tone=LOW), step(1.4, "red")),
    # Amber and two beeps: not wrong, but something to do (tap your card first).
    "warning": (
        step(0.1, "amber", tone=MID),
        step(0.1, "amber"),
        step(0.1, "amber", tone=MID),
        step(1.2, "amber"),
    ),
    # A rising chirp: hello; a falling one: goodbye.
    "session_started": (
        step(0.06, "green", tone=MID),
        step(0.06, "green", tone=HIGH),
        step(0.38, "green"),
    ),
    "session_ended": (step(0.06, tone=HIGH), step(0.06, tone=MID)),
    # Red blinking three times with low beeps: ask a helper.
    "fault": (
        step(0.2, "red", tone=LOW),
        step(0.2),
        step(0.2, "red", tone=LOW),
        step(0.2),
        step(0.2, "red", tone=LOW),
        step(0.2),
    ),
    # A child earned a reading badge: green and amber together, a short three-note tune up.
    "badge": (
        step(0.08, "green", "amber", tone=MID),
        step(0.08, "green", "amber", tone=HIGH),
        step(0.08, "green", "amber"),
        step(0.16, "green", "amber", tone=HIGH),
        step(1.1, "green", "amber"),
    ),
}
# Repeats until `online`, silently, whenever no other pattern is showing.
OFFLINE_BLINK = (step(0.2, "amber"), step(1.8))
LIGHTS = ("green", "red", "amber")


class SystemClock:
    """The indicator's sense of time: monotonic seconds, and a wait on its condition."""

    def now(self) -> float:
        """Return monotonic seconds."""
        return time.monotonic()

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        """Wait on `cond` (held) until notified or `timeout` seconds pass."""
        cond.wait(timeout)


class GpioIndicator:
    """Green, red and amber LEDs and an active or tonal buzzer on GPIO pins."""

    def __init__(
        self,
        *,
        pin_factory: Any = None,
        green: int = 17,
        red: int = 27,
        amber: int = 22,
        buzzer: int = 18,
        active_high: bool = True,
        buzzer_kind: str = "active",
        buzzer_active_high: bool = True,
        quiet: bool = False,
        clock: SystemClock | None = None,
    ) -> None:
        # A clock object, so tests can step through a pattern deterministically.
        self.clock = clock or SystemClock()
        self.health = Health("indicator gpio")
        self.quiet = quiet
        pins = {"green": green, "red": red, "amber": amber}
        self.leds = {
            name: LED(pin, active_high=active_high, pin_factory=pin_factory)
            for name, pin in pins.items()
            if pin >= 0
        }
        self.buzzer: Buzzer | TonalBuzzer | None = None
        if buzzer >= 0 and buzzer_kind == "tonal":
            self.buzzer = TonalBuzzer(buzzer, octaves=2, pin_factory=pin_factory)
        elif buzzer >= 0:
            self.buzzer = Buzzer(buzzer, active_high=buzzer_active_high, pin_factory=pin_factory)
        self._cond = threading.Condition()
        self._steps: tuple[Step, ...] | None = None
        self._index = 0
        self._deadline = 0.0
        self._offline = False
        self._closed = False
        self.health.up()
        self._thread = threading.Thread(target=self._run, name="indicator", daemon=True)
        self._thread.start()

    def show(self, pattern: str, text: str = "") -> None:
        """Start a pattern now, replacing the one running; returns at once."""
        if pattern not in PATTERNS:
            self.health.rejected(f"unknown pattern {pattern!r}")
            return
        with self._cond:
            if self._closed:
                return
            if pattern == "offline":
                self._offline = True
                if self._steps is None:
                    self._begin(OFFLINE_BLINK)
            elif pattern == "online":
                self._offline = False
                if self._steps is OFFLINE_BLINK:
                    self._steps = None
                    self._apply(Step(0))
            else:
                self._begin(STEPS[pattern])
            self._cond.notify()
        self.health.good()

    def close(self) -> None:
        """Turn everything off and release the pins."""
        with self._cond:
            self._closed = True
            self._steps = None
            self._cond.notify()
        self._thread.join(timeout=2)
        for device in (*self.leds.values(), self.buzzer):
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()

    def _begin(self, steps: tuple[Step, ...]) -> None:
        self._steps, self._index = steps, 0
        self._apply(steps[0])
        self._deadline = self.clock.now() + steps[0].seconds

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._steps is None:
                    self.clock.wait(self._cond, None)
                    continue
                left = self._deadline - self.clock.now()
                if left > 0:
                    self.clock.wait(self._cond, left)
                    continue
                self._advance()
            self._apply(Step(0))

    def _advance(self) -> None:
        assert self._steps is not None
        self._index += 1
        if self._index < len(self._steps):
            current = self._steps[self._index]
            self._apply(current)
            # From the planned time, not from now, so a late wake-up does not stretch a pattern.
            self._deadline = max(self._deadline + current.seconds, self.clock.now())
        elif self._offline:
            self._begin(OFFLINE_BLINK)
        else:
            self._steps = None
            self._apply(Step(0))

    def _apply(self, s: Step) -> None:
        try:
            for name, led in self.leds.items():
                if (name in s.lights) != bool(led.value):
                    led.value = name in s.lights
            self._sound(None if self.quiet else s.tone)
        except Exception as e:  # a pin error must not stop the kiosk; it shows in health
            if self.health.connected:
                log.exception("indicator: cannot set pins")
            self.health.down(str(e))

    def _sound(self, tone: float | None) -> None:
        if isinstance(self.buzzer, TonalBuzzer):
            if tone is None:
                if self.buzzer.is_active:
                    self.buzzer.stop()
            else:
                self.buzzer.play(Tone.from_frequency(tone))
        elif self.buzzer is not None and (tone is not None) != bool(self.buzzer.value):
            self.buzzer.value = tone is not None


def pin_factory(name: str) -> Any:
    """Return the gpiozero pin factory a config names, or None for gpiozero's own choice."""
    if name == "":
        return None
    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if name == "pigpio":
        from gpiozero.pins.pigpio import PiGPIOFactory

        return PiGPIOFactory()
    if name == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    raise ValueError(f"unknown pin factory {name!r}")
