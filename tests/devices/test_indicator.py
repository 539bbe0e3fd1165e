"""The GPIO indicator on gpiozero's MockFactory: pin states, how many, and when."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk.devices.indicator import GpioIndicator

from .conftest import wait_for

GREEN, RED, AMBER, BUZZER = 17, 27, 22, 18
TOLERANCE = 0.04  # seconds; the background thread is not real-time

# Per pattern and pin: the states after the initial one, each with the seconds since the previous
# change (None: the first change, whose time is when the pattern started).
EXPECTED = {
    "ok": {GREEN: [(None, 1), (1.5, 0)], BUZZER: [(None, 1), (0.1, 0)]},
    "error": {RED: [(None, 1), (2.0, 0)], BUZZER: [(None, 1), (0.6, 0)]},
    "warning": {
        AMBER: [(None, 1), (1.5, 0)],
        BUZZER: [(None, 1), (0.1, 0), (0.1, 1), (0.1, 0)],
    },
    "session_started": {GREEN: [(None, 1), (0.5, 0)], BUZZER: [(None, 1), (0.12, 0)]},
    "session_ended": {BUZZER: [(None, 1), (0.12, 0)]},
    "fault": {
        RED: [(None, 1), (0.2, 0), (0.2, 1), (0.2, 0), (0.2, 1), (0.2, 0)],
        BUZZER: [(None, 1), (0.2, 0), (0.2, 1), (0.2, 0), (0.2, 1), (0.2, 0)],
    },
}


def history(factory: MockFactory, pin: int) -> list[tuple[float, float]]:
    return [(s.timestamp, float(s.state)) for s in factory.pin(pin).states]


def assert_history(factory: MockFactory, pin: int, expected: list[tuple[float | None, int]]):
    actual = history(factory, pin)
    # MockPin.assert_states zips and ignores extra states: compare the count too.
    assert len(actual) == len(expected) + 1, (pin, actual)
    assert actual[0][1] == 0
    for (seconds, state), (got_seconds, got_state) in zip(expected, actual[1:], strict=True):
        assert got_state == state, (pin, actual)
        if seconds is not None:
            assert abs(got_seconds - seconds) < TOLERANCE, (pin, actual)


def make(**options: object) -> tuple[MockFactory, GpioIndicator]:
    factory = MockFactory(pin_class=MockPWMPin)
    return factory, GpioIndicator(pin_factory=factory, **options)  # type: ignore[arg-type]


def test_every_pattern_sets_the_right_pins_for_the_right_times() -> None:
    # One indicator per pattern, all at once, so the test takes as long as the longest pattern.
    running = {pattern: make() for pattern in EXPECTED}
    for pattern, (_factory, indicator) in running.items():
        indicator.show(pattern, "text")
    time.sleep(2.2)
    for pattern, (factory, indicator) in running.items():
        indicator.close()
        for pin in (GREEN, RED, AMBER, BUZZER):
            assert_history(factory, pin, EXPECTED[pattern].get(pin, []))


def test_show_returns_at_once_and_sets_the_first_pins_before_returning() -> None:
    factory, indicator = make()
    try:
        start = time.perf_counter()
        indicator.show("ok")
        took = time.perf_counter() - start
        assert factory.pin(GREEN).state == 1 and factory.pin(BUZZER).state == 1
        assert took < 0.01  # a few pin writes; the rest of the pattern runs in the background
        indicator.show("no-such-pattern")
        assert indicator.health.as_dict()["rejected_reads"] == 1
    finally:
        indicator.close()


def test_a_new_pattern_replaces_the_running_one() -> None:
    factory, indicator = make()
    indicator.show("ok")
    time.sleep(0.3)
    indicator.show("error")
    time.sleep(2.1)
    indicator.close()
    assert_history(factory, GREEN, [(None, 1), (0.3, 0)])
    assert_history(factory, RED, [(None, 1), (2.0, 0)])
    assert_history(factory, BUZZER, [(None, 1), (0.1, 0), (0.2, 1), (0.6, 0)])


def test_quiet_mode_shows_lights_only() -> None:
    factory, indicator = make(quiet=True)
    indicator.show("warning")
    time.sleep(1.6)
    indicator.close()
    assert_history(factory, AMBER, [(None, 1), (1.5, 0)])
    assert_history(factory, BUZZER, [])


def test_tonal_buzzer_plays_each_pattern_at_its_pitch() -> None:
    factory, indicator = make(buzzer_kind="tonal")
    try:
        indicator.show("ok")
        assert factory.pin(BUZZER).frequency == pytest.approx(880, rel=0.01)
        wait_for(lambda: factory.pin(BUZZER).state == 0)
        indicator.show("error")
        assert factory.pin(BUZZER).frequency == pytest.approx(220, rel=0.01)
        wait_for(lambda: factory.pin(BUZZER).state == 0, timeout=1.0)
        duty = [s for _t, s in history(factory, BUZZER)]
        assert duty == [0, 0.5, 0, 0.5, 0]  # a PWM square wave while sounding, silent between
    finally:
        indicator.close()


def test_offline_blinks_amber_between_other_patterns_until_online() -> None:
    factory, indicator = make()
    indicator.show("offline")
    time.sleep(0.3)
    indicator.show("ok")  # a checkout while offline still gets its green light...
    time.sleep(1.7)  # ...then the slow amber blink resumes
    indicator.show("online")
    time.sleep(0.3)
    indicator.close()
    assert_history(factory, AMBER, [(None, 1), (0.2, 0), (1.6, 1), (0.2, 0)])
    assert_history(factory, GREEN, [(None, 1), (1.5, 0)])
    assert_history(factory, BUZZER, [(None, 1), (0.1, 0)])  # offline itself is silent


def test_active_low_leds_and_close_turns_everything_off() -> None:
    factory, indicator = make(active_high=False)
    indicator.show("error")
    time.sleep(0.05)
    indicator.close()
    red = [s for _t, s in history(factory, RED)]
    # Driven high (off) at start, low (on), high (off) at close, then released as an input.
    assert red == [0, 1, 0, 1, 0]
    assert factory.pin(RED).function == "input"
    assert factory.pin(BUZZER).state == 0


def test_unfitted_parts_are_left_out() -> None:
    _factory, indicator = make(amber=-1, buzzer=-1)
    indicator.show("warning")
    indicator.close()
    assert set(indicator.leds) == {"green", "red"}
    assert indicator.buzzer is None
