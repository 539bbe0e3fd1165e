"""The GPIO indicator on gpiozero's MockFactory: pin states, how many, and in what order.

A manual clock drives the indicator's thread, so the tests step through each pattern in its own
time and never compare the wall clock with a tolerance.
"""

from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk.devices.indicator import GpioIndicator, SystemClock

from .conftest import wait_for

GREEN, RED, AMBER, BUZZER = 17, 27, 22, 18
PINS = (GREEN, RED, AMBER, BUZZER)
# Every step starts and ends on a multiple of 0.02 s: look between them, every 0.02 s, so that
# each step's end is seen 0.01 s after it and none is skipped.
LOOK_EVERY = 0.02

# Per pattern and pin: (seconds since the pattern started, state it changes to); pins not named
# stay off.
EXPECTED = {
    "ok": {GREEN: [(0, 1), (1.5, 0)], BUZZER: [(0, 1), (0.1, 0)]},
    "error": {RED: [(0, 1), (2.0, 0)], BUZZER: [(0, 1), (0.6, 0)]},
    "warning": {
        AMBER: [(0, 1), (1.5, 0)],
        BUZZER: [(0, 1), (0.1, 0), (0.2, 1), (0.3, 0)],
    },
    "session_started": {GREEN: [(0, 1), (0.5, 0)], BUZZER: [(0, 1), (0.12, 0)]},
    "session_ended": {BUZZER: [(0, 1), (0.12, 0)]},
    # A reading badge: green and amber together, a double beep unlike any other pattern's.
    "badge": {
        GREEN: [(0, 1), (1.5, 0)],
        AMBER: [(0, 1), (1.5, 0)],
        BUZZER: [(0, 1), (0.16, 0), (0.24, 1), (0.4, 0)],
    },
    "fault": {
        RED: [(0, 1), (0.2, 0), (0.4, 1), (0.6, 0), (0.8, 1), (1.0, 0)],
        BUZZER: [(0, 1), (0.2, 0), (0.4, 1), (0.6, 0), (0.8, 1), (1.0, 0)],
    },
}


class ManualClock(SystemClock):
    """Time that moves only when the test moves it; `advance_to` waits for the thread."""

    def __init__(self) -> None:
        self.start = 100.0
        self.t = self.start
        self.generation = 0  # bumped by every move
        self._read = -1  # generation the indicator last read the time at
        self._settled = -1  # generation the indicator's thread last went to wait at
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            self._read = self.generation
            return self.t

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        with self._lock:
            # Waiting with a deadline means "nothing due at the time I read"; without one, the
            # pins do not depend on the time at all.
            self._settled = self._read if timeout is not None else self.generation
        cond.wait(0.002)  # poll: the test moves the time without notifying

    def advance_to(self, seconds: float) -> None:
        """Move to `seconds` after the start and wait until the indicator has acted on it."""
        with self._lock:
            assert self.start + seconds >= self.t, "time only moves forward"
            self.t = self.start + seconds
            self.generation += 1
            generation = self.generation
        wait_for(lambda: self._settled == generation)


def state_at(changes: list[tuple[float, int]], seconds: float) -> int:
    """Return the state a pin with these changes has at `seconds`."""
    state = 0
    for at, new in changes:
        if at <= seconds:
            state = new
    return state


def history(factory: MockFactory, pin: int) -> list[float]:
    return [float(s.state) for s in factory.pin(pin).states]


def make(**options: object) -> tuple[MockFactory, GpioIndicator, ManualClock]:
    factory, clock = MockFactory(pin_class=MockPWMPin), ManualClock()
    indicator = GpioIndicator(pin_factory=factory, clock=clock, **options)  # type: ignore[arg-type]
    return factory, indicator, clock


def play(
    actions: list[tuple[float, str]],
    expected: dict[int, list[tuple[float, int]]],
    **options: object,
) -> None:
    """Show patterns at their times; check every pin between every two steps."""
    factory, indicator, clock = make(**options)
    try:
        changes = {at for pin_changes in expected.values() for at, _state in pin_changes}
        end = max(changes | {at for at, _pattern in actions}) + 0.2
        looks = {LOOK_EVERY / 2 + LOOK_EVERY * k for k in range(round(end / LOOK_EVERY))}
        shows = dict(actions)
        moments = sorted(looks | set(shows))
        for moment in moments:
            clock.advance_to(moment)
            if moment in shows:
                indicator.show(shows[moment], "text")
            else:
                for pin in PINS:
                    want = state_at(expected.get(pin, []), moment)
                    assert factory.pin(pin).state == want, (pin, moment, history(factory, pin))
    finally:
        indicator.close()
    for pin in PINS:
        # MockPin.assert_states zips and ignores extra states: compare whole lists, count included.
        assert history(factory, pin) == [0] + [s for _at, s in expected.get(pin, [])], pin


@pytest.mark.parametrize("pattern", sorted(EXPECTED))
def test_every_pattern_sets_the_right_pins_for_the_right_times(pattern: str) -> None:
    play([(0, pattern)], EXPECTED[pattern])


def test_a_wrong_pattern_fails_the_check() -> None:
    wrong = {GREEN: [(0, 1), (1.0, 0)], BUZZER: [(0, 1), (0.1, 0)]}  # green too short
    with pytest.raises(AssertionError):
        play([(0, "ok")], wrong)


def test_show_sets_the_first_pins_before_returning() -> None:
    factory, indicator, _clock = make()
    try:
        indicator.show("ok")
        assert factory.pin(GREEN).state == 1 and factory.pin(BUZZER).state == 1
        indicator.show("no-such-pattern")
        assert indicator.health.as_dict()["rejected_reads"] == 1
    finally:
        indicator.close()


def test_a_new_pattern_replaces_the_running_one() -> None:
    play(
        [(0, "ok"), (0.3, "error")],
        {
            GREEN: [(0, 1), (0.3, 0)],
            RED: [(0.3, 1), (2.3, 0)],
            BUZZER: [(0, 1), (0.1, 0), (0.3, 1), (0.9, 0)],
        },
    )


def test_quiet_mode_shows_lights_only() -> None:
    play([(0, "warning")], {AMBER: [(0, 1), (1.5, 0)]}, quiet=True)


def test_tonal_buzzer_plays_each_pattern_at_its_pitch() -> None:
    factory, indicator, clock = make(buzzer_kind="tonal")
    try:
        indicator.show("ok")
        assert factory.pin(BUZZER).frequency == pytest.approx(880, rel=0.01)
        clock.advance_to(0.11)
        assert factory.pin(BUZZER).state == 0
        indicator.show("error")
        assert factory.pin(BUZZER).frequency == pytest.approx(220, rel=0.01)
        clock.advance_to(0.11 + 0.57)
        assert factory.pin(BUZZER).state == 0.5  # the long low beep is still sounding
        clock.advance_to(0.11 + 0.61)
        assert history(factory, BUZZER) == [0, 0.5, 0, 0.5, 0]  # PWM while sounding, silent between
    finally:
        indicator.close()


def test_offline_blinks_amber_between_other_patterns_until_online() -> None:
    play(
        # A checkout while offline still gets its green light, then the slow amber blink resumes.
        [(0, "offline"), (0.3, "ok"), (2.0, "online")],
        {
            AMBER: [(0, 1), (0.2, 0), (1.8, 1), (2.0, 0)],
            GREEN: [(0.3, 1), (1.8, 0)],
            BUZZER: [(0.3, 1), (0.4, 0)],  # offline itself is silent
        },
    )


def test_active_low_leds_and_close_turns_everything_off() -> None:
    factory, indicator, _clock = make(active_high=False)
    indicator.show("error")
    indicator.close()
    # Driven high (off) at start, low (on), high (off) at close, then released as an input.
    assert history(factory, RED) == [0, 1, 0, 1, 0]
    assert factory.pin(RED).function == "input"
    assert factory.pin(BUZZER).state == 0


def test_unfitted_parts_are_left_out() -> None:
    _factory, indicator, _clock = make(amber=-1, buzzer=-1)
    indicator.show("warning")
    indicator.close()
    assert set(indicator.leds) == {"green", "red"}
    assert indicator.buzzer is None
