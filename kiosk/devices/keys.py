"""Turn evdev key events from a keyboard-style scanner into codes: pure, no device needed.

A USB barcode scanner is a keyboard that types very fast and ends with Enter. The decoder reads
key-down events only (value 1), tracks Shift (values 1 and 2 hold it, 0 releases it), maps the US
layout keys barcodes use (Code 39/128: letters, digits, `-`, `.`, `$`, `/`, `+`, `%`, space; keypad
digits too) and uses the events' own timestamps, so tests replay exact timings:

- a burst with any gap longer than `max_gap_s` between keys is a person typing: dropped at Enter;
- a partial code is dropped after `partial_timeout_s` of silence (checked on the next key, or by
  `expire(now)` when the adapter's wait times out);
- a key no barcode uses (Tab, Ctrl, F1, ...) spoils the burst it is in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evdev import InputEvent, ecodes

# key code -> (unshifted, shifted)
KEYMAP: dict[int, tuple[str, str]] = {}
for _i, _c in enumerate("abcdefghijklmnopqrstuvwxyz"):
    KEYMAP[ecodes.ecodes[f"KEY_{_c.upper()}"]] = (_c, _c.upper())
for _d, _s in zip("1234567890", "!@#$%^&*()", strict=True):
    KEYMAP[ecodes.ecodes[f"KEY_{_d}"]] = (_d, _s)
    KEYMAP[ecodes.ecodes[f"KEY_KP{_d}"]] = (_d, _d)
KEYMAP.update(
    {
        ecodes.KEY_MINUS: ("-", "_"),
        ecodes.KEY_EQUAL: ("=", "+"),
        ecodes.KEY_DOT: (".", ">"),
        ecodes.KEY_COMMA: (",", "<"),
        ecodes.KEY_SLASH: ("/", "?"),
        ecodes.KEY_SPACE: (" ", " "),
        ecodes.KEY_SEMICOLON: (";", ":"),
        ecodes.KEY_KPMINUS: ("-", "-"),
        ecodes.KEY_KPPLUS: ("+", "+"),
        ecodes.KEY_KPDOT: (".", "."),
        ecodes.KEY_KPSLASH: ("/", "/"),
        ecodes.KEY_KPASTERISK: ("*", "*"),
    }
)
# character -> (key code, needs shift), for fakes and tests that type a code; the first key
# listed wins, so main-row digits come before keypad ones, as scanners send them.
CHARMAP: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in KEYMAP.items():
    CHARMAP.setdefault(_plain, (_code, False))
    if _shifted != _plain:
        CHARMAP.setdefault(_shifted, (_code, True))

SHIFT_KEYS = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})
ENTER_KEYS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})
KEY_DOWN, KEY_UP, KEY_REPEAT = 1, 0, 2


@dataclass(frozen=True)
class Decoded:
    """What one burst of keys came to: a code, or None and why it was dropped."""

    code: str | None
    reason: str = ""
    at: float = 0.0  # timestamp of the last key event of the burst


class KeyDecoder:
    """Feed key events one by one; get a `Decoded` whenever a burst ends."""

    def __init__(
        self, max_gap_s: float = 0.05, partial_timeout_s: float = 0.2, max_length: int = 64
    ) -> None:
        self.max_gap_s = max_gap_s
        self.partial_timeout_s = partial_timeout_s
        self.max_length = max_length
        self._shift: set[int] = set()
        self._reset()

    def _reset(self) -> None:
        self._chars: list[str] = []
        self._last: float | None = None
        self._slow = False
        self._spoiled = ""

    def feed(self, event: InputEvent) -> Decoded | None:
        """Take one event; return a result when it ends a burst (or the silence before it did)."""
        if event.type != ecodes.EV_KEY:
            return None
        if event.code in SHIFT_KEYS:
            if event.value == KEY_UP:
                self._shift.discard(event.code)
            else:
                self._shift.add(event.code)
            return None
        if event.value != KEY_DOWN:
            return None  # key-up, and autorepeat of a held key (a person, not a scanner)
        now = event.timestamp()
        dropped = self.expire(now)
        if dropped is not None and event.code in ENTER_KEYS:
            return dropped  # Enter after the silence ends nothing new
        if self._last is not None and now - self._last > self.max_gap_s:
            self._slow = True
        self._last = now
        if event.code in ENTER_KEYS:
            return self._finish(now)
        if dropped is not None:
            self._add(event.code)
            return dropped
        self._add(event.code)
        return None

    def _add(self, key: int) -> None:
        chars = KEYMAP.get(key)
        if chars is None:
            self._spoiled = self._spoiled or f"key {ecodes.KEY.get(key, key)} is not in a barcode"
        elif len(self._chars) >= self.max_length:
            self._spoiled = self._spoiled or f"longer than {self.max_length} characters"
        else:
            self._chars.append(chars[1] if self._shift else chars[0])

    def _finish(self, now: float) -> Decoded | None:
        code, slow, spoiled = "".join(self._chars), self._slow, self._spoiled
        self._reset()
        if spoiled:
            return Decoded(None, spoiled, now)
        if not code:
            return None  # a lone Enter: nothing was read
        if slow:
            return Decoded(None, "keys too slow for a scanner (someone typing)", now)
        return Decoded(code, "", now)

    def expire(self, now: float) -> Decoded | None:
        """Drop a partial code after the silence timeout; return that as a rejection."""
        if self._last is None or now - self._last <= self.partial_timeout_s:
            return None
        had = bool(self._chars or self._spoiled)
        self._reset()
        return Decoded(None, "partial code without Enter", now) if had else None


def decode(events: Iterable[InputEvent], **options: float) -> list[Decoded]:
    """Decode a whole event sequence (tests and recordings) into its results."""
    decoder = KeyDecoder(**options)  # type: ignore[arg-type]
    return [r for r in (decoder.feed(e) for e in events) if r is not None]


def key_events(
    text: str, start: float, gap_s: float = 0.004, enter: bool = True
) -> list[InputEvent]:
    """Return the events a US-layout scanner sends for `text` (Shift for capitals and symbols)."""
    events: list[InputEvent] = []
    t = start

    def add(code: int, value: int) -> None:
        sec = int(t)
        events.append(InputEvent(sec, round((t - sec) * 1e6), ecodes.EV_KEY, code, value))
        events.append(InputEvent(sec, round((t - sec) * 1e6), ecodes.EV_SYN, ecodes.SYN_REPORT, 0))

    for ch in text:
        code, shifted = CHARMAP[ch]
        if shifted:
            add(ecodes.KEY_LEFTSHIFT, KEY_DOWN)
        add(code, KEY_DOWN)
        add(code, KEY_UP)
        if shifted:
            add(ecodes.KEY_LEFTSHIFT, KEY_UP)
        t += gap_s
    if enter:
        add(ecodes.KEY_ENTER, KEY_DOWN)
        add(ecodes.KEY_ENTER, KEY_UP)
    return events
