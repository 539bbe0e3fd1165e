"""The evdev decoder on hand-built key event sequences: timing, Shift, autorepeat, typing."""

from __future__ import annotations

from evdev import InputEvent, ecodes

from kiosk.devices.keys import Decoded, KeyDecoder, decode, key_events

T0 = 1_800_000_000.0


def ev(t: float, key: int, value: int = 1) -> InputEvent:
    sec = int(t)
    return InputEvent(sec, round((t - sec) * 1e6), ecodes.EV_KEY, key, value)


def codes(results: list[Decoded]) -> list[str | None]:
    return [r.code for r in results]


def test_a_scan_is_decoded_at_enter() -> None:
    results = decode(key_events("9787020002207", T0))
    assert results == [Decoded("9787020002207", "", results[0].at)]
    assert abs(results[0].at - (T0 + 13 * 0.004)) < 1e-5  # the Enter key's own timestamp


def test_shift_held_with_autorepeat_gives_capitals_and_symbols() -> None:
    k = ecodes
    events = [
        ev(T0, k.KEY_LEFTSHIFT, 1),
        ev(T0 + 0.001, k.KEY_A),
        ev(T0 + 0.002, k.KEY_LEFTSHIFT, 2),  # the kernel repeats a held Shift
        ev(T0 + 0.003, k.KEY_4),
        ev(T0 + 0.004, k.KEY_LEFTSHIFT, 0),
        ev(T0 + 0.005, k.KEY_B),
        ev(T0 + 0.006, k.KEY_RIGHTSHIFT, 1),
        ev(T0 + 0.007, k.KEY_5),
        ev(T0 + 0.008, k.KEY_EQUAL),
        ev(T0 + 0.009, k.KEY_RIGHTSHIFT, 0),
        ev(T0 + 0.010, k.KEY_MINUS),
        ev(T0 + 0.011, k.KEY_DOT),
        ev(T0 + 0.012, k.KEY_SLASH),
        ev(T0 + 0.013, k.KEY_SPACE),
        ev(T0 + 0.014, k.KEY_ENTER),
    ]
    assert codes(decode(events)) == ["A$b%+-./ "]


def test_key_up_and_autorepeat_of_other_keys_are_ignored() -> None:
    k = ecodes
    events = [
        ev(T0, k.KEY_1),
        ev(T0 + 0.001, k.KEY_1, 0),
        ev(T0 + 0.002, k.KEY_2),
        ev(T0 + 0.003, k.KEY_2, 2),
        ev(T0 + 0.004, k.KEY_2, 2),
        ev(T0 + 0.005, k.KEY_2, 0),
        ev(T0 + 0.006, k.KEY_ENTER),
    ]
    assert codes(decode(events)) == ["12"]


def test_keypad_digits_and_keypad_enter() -> None:
    k = ecodes
    keys = [k.KEY_KP0, k.KEY_KP1, k.KEY_KP9, k.KEY_KPMINUS, k.KEY_KPDOT, k.KEY_KPENTER]
    events = [ev(T0 + i * 0.003, key) for i, key in enumerate(keys)]
    assert codes(decode(events)) == ["019-."]


def test_slow_keys_are_a_person_typing_and_are_dropped() -> None:
    results = decode(key_events("12345", T0, gap_s=0.08))
    assert results == [Decoded(None, "keys too slow for a scanner (someone typing)", T0 + 0.4)]


def test_the_gap_limit_is_configurable() -> None:
    assert codes(decode(key_events("12345", T0, gap_s=0.08), max_gap_s=0.1)) == ["12345"]


def test_a_partial_code_is_dropped_after_silence_and_the_next_scan_still_reads() -> None:
    events = key_events("978", T0, enter=False) + key_events("9787020002207", T0 + 0.5)
    results = decode(events)
    assert codes(results) == [None, "9787020002207"]
    assert results[0].reason == "partial code without Enter"


def test_expire_drops_a_partial_code_without_a_next_key() -> None:
    decoder = KeyDecoder()
    for e in key_events("978", T0, enter=False):
        assert decoder.feed(e) is None
    assert decoder.expire(T0 + 0.1) is None  # not silent long enough yet
    assert decoder.expire(T0 + 0.5) == Decoded(None, "partial code without Enter", T0 + 0.5)
    assert decoder.expire(T0 + 1.0) is None  # dropped once only


def test_human_typing_interleaved_with_scans() -> None:
    # A helper types "ab" by hand, pauses, the scanner reads a book, the helper types "c".
    human = key_events("ab", T0, gap_s=0.15, enter=False)
    scan = key_events("9787535449456", T0 + 1.0)
    human_after = key_events("c", T0 + 2.0, gap_s=0.12)
    results = decode(human + scan + human_after)
    assert [(r.code, r.reason) for r in results] == [
        (None, "partial code without Enter"),
        ("9787535449456", ""),
        (None, "keys too slow for a scanner (someone typing)"),
    ]


def test_a_key_no_barcode_uses_spoils_the_burst() -> None:
    events = [
        ev(T0, ecodes.KEY_1),
        ev(T0 + 0.002, ecodes.KEY_TAB),
        ev(T0 + 0.004, ecodes.KEY_ENTER),
    ]
    assert decode(events) == [Decoded(None, "key KEY_TAB is not in a barcode", T0 + 0.004)]


def test_too_long_and_lone_enter() -> None:
    assert decode(key_events("1" * 70, T0), max_length=64)[0].reason == (
        "longer than 64 characters"
    )
    assert decode([ev(T0, ecodes.KEY_ENTER)]) == []


def test_non_key_events_are_ignored() -> None:
    events = [InputEvent(int(T0), 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 458782)]
    events += key_events("42", T0)
    assert codes(decode(events)) == ["42"]
