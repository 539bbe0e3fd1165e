"""SIP2 on the wire: frames with sequence numbers and checksums, and the messages the kiosk uses.

A frame is a message body, then (with error detection) `AY<digit>AZ<four hex digits>`, then the
terminator (`\\r`, some servers `\\r\\n`). The checksum is the two's complement of the 16-bit sum
of every byte before it, `AZ` included. A message is a two-digit code, fixed-width fields in the
spec's order, then variable fields, each a two-letter id, a value and `|`. Pure: no sockets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kiosk.errors import KioskError

ENCODINGS = ("utf-8", "cp850", "gb18030")

# Width of the fixed part of each answer the kiosk reads, after its two-digit code.
FIXED_WIDTH = {
    "94": 1,  # ok
    "96": 0,
    "98": 34,  # online, checkin, checkout, renewal, status update, offline (1 each), timeout
    # (3), retries (3), date-time (18), protocol version (4)
    "64": 59,  # patron status (14), language (3), date (18), six counts (4 each)
    "24": 35,  # patron status (14), language (3), date (18)
    "12": 22,  # ok, renewal ok, magnetic media, desensitize (1 each), date (18)
    "10": 22,  # ok, resensitize, magnetic media, alert (1 each), date (18)
    "30": 22,  # as 12
    "18": 24,  # circulation status (2), security marker (2), fee type (2), date (18)
    "36": 19,  # end session (1), date (18)
}
# The answer each request expects.
ANSWER = {"93": "94", "99": "98", "63": "64", "23": "24", "11": "12", "09": "10", "29": "30"}
ANSWER |= {"17": "18", "35": "36"}

# Patron status (64/24): position -> what it means, as the spec numbers them.
PATRON_STATUS = (
    "charge_denied",
    "renewal_denied",
    "recall_denied",
    "hold_denied",
    "card_lost",
    "too_many_charged",
    "too_many_overdue",
    "too_many_renewals",
    "too_many_claims_returned",
    "too_many_lost",
    "excessive_fines",
    "excessive_fees",
    "recall_overdue",
    "too_many_billed",
)


class Corrupt(KioskError):
    """A frame whose checksum or sequence number is wrong: ask for it again (97)."""


class Malformed(KioskError):
    """An answer that is not the SIP2 message it should be: refuse, never guess."""


def checksum(data: bytes) -> str:
    """Return the four hex digits that make the 16-bit sum of `data` and them zero."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def encode(body: str, seq: int | None, encoding: str, terminator: str) -> bytes:
    """Frame a message body; with a sequence number, add AY and the AZ checksum."""
    raw = body.encode(encoding)
    if seq is not None:
        raw += f"AY{seq % 10}AZ".encode("ascii")
        raw += checksum(raw).encode("ascii")
    return raw + terminator.encode("ascii")


_TRAILER = re.compile(rb"AY(\d)AZ([0-9A-Fa-f]{4})$")
_CHECKSUM_ONLY = re.compile(rb"AZ([0-9A-Fa-f]{4})$")


def decode(frame: bytes, encoding: str, check: bool) -> tuple[str, int | None]:
    """Return a frame's body and sequence number; raise Corrupt on a wrong checksum.

    `frame` may carry either terminator (and a line feed left from the last one before it).
    """
    raw = frame.strip(b"\r\n")
    seq = None
    m = _TRAILER.search(raw) or _CHECKSUM_ONLY.search(raw)
    if m is not None:
        end = m.end() - 4  # the checksum covers everything up to and including "AZ"
        if check and checksum(raw[:end]) != m.group(m.lastindex or 1).upper().decode():
            raise Corrupt("checksum does not match")
        if m.re is _TRAILER:
            seq = int(m.group(1))
        raw = raw[: m.start()]
    elif check:
        raise Corrupt("no checksum, though error detection is on")
    try:
        return raw.decode(encoding), seq
    except UnicodeDecodeError:
        raise Corrupt(f"not {encoding} text") from None


@dataclass(frozen=True)
class Message:
    """A parsed answer: its code, fixed part and variable fields (a field may repeat)."""

    code: str
    fixed: str
    fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def get(self, fid: str, default: str = "") -> str:
        """Return the first value of a field, or `default`."""
        return next((v for k, v in self.fields if k == fid), default)

    def all(self, fid: str) -> list[str]:
        """Return every value of a repeatable field (AF screen messages, AU items)."""
        return [v for k, v in self.fields if k == fid]

    def flag(self, pos: int) -> str:
        """Return one character of the fixed part."""
        return self.fixed[pos]


def parse(body: str) -> Message:
    """Parse a message body; raise Malformed for anything that is not a known answer."""
    code = body[:2]
    if code not in FIXED_WIDTH:
        raise Malformed(f"unknown message {code!r}")
    width = FIXED_WIDTH[code]
    fixed, rest = body[2 : 2 + width], body[2 + width :]
    if len(fixed) != width:
        raise Malformed(f"message {code}: fixed part {len(fixed)} characters, not {width}")
    if code in ("94", "12", "10", "30") and fixed[0] not in "01":
        raise Malformed(f"message {code}: ok is {fixed[0]!r}, not 0 or 1")
    fields = []
    for part in rest.split("|"):
        if not part:
            continue
        if len(part) < 2 or not part[:2].isalpha() or not part[:2].isupper():
            raise Malformed(f"message {code}: field {part[:10]!r} has no two-letter id")
        fields.append((part[:2], part[2:]))
    return Message(code, fixed, tuple(fields))


def when(at: dt.datetime) -> str:
    """Return a time as SIP2's 18 characters, YYYYMMDDZZZZHHMMSS, in local time (zone blank)."""
    # By hand: strftime takes a few microseconds, and every request carries one or two dates.
    return f"{at.year:04d}{at.month:02d}{at.day:02d}    {at.hour:02d}{at.minute:02d}{at.second:02d}"


_FIELD_ENDS = str.maketrans("", "", "|\r\n")


def field_part(fid: str, value: str) -> str:
    """Return one variable field; a `|` in a value would end it early, so it is dropped."""
    return f"{fid}{value.translate(_FIELD_ENDS)}|"


def body(code: str, fixed: str, *fields: tuple[str, str | None]) -> str:
    """Return a request body: code, fixed part, then the fields that have a value."""
    return code + fixed + "".join(field_part(k, v) for k, v in fields if v is not None)


# -- due dates --------------------------------------------------------------------------------

_SPEC_DATE = re.compile(r"^(\d{8})(.{4})(\d{6})$")  # the spec's 18 characters, zone in the middle

_TEXT_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y,%H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y",
)


def due_date(text: str, tz: ZoneInfo) -> dt.datetime | None:
    """Return the due time an ILS sent in AH, in the school's time zone; None if unreadable.

    Systems send the spec's 18 characters (zone blank = the ILS's local time, which is the
    school's; "UTC " or "Z" = UTC), ISO 8601 with or without a zone, or a plain date.
    """
    text = text.strip()
    if not text:
        return None
    m = _SPEC_DATE.match(text)
    if m is not None:
        zone = m.group(2).strip().upper()
        day, hms = m.group(1), m.group(3)
        try:  # by hand: strptime takes as long as the rest of a scan's parsing
            naive = dt.datetime(
                int(day[:4]), int(day[4:6]), int(day[6:]), int(hms[:2]), int(hms[2:4]), int(hms[4:])
            )
        except ValueError:
            return None
        if zone in ("Z", "UTC", "GMT"):
            return naive.replace(tzinfo=dt.UTC).astimezone(tz)
        if zone:
            try:
                return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(tz)
            except (ValueError, KeyError, OSError):
                pass  # an abbreviation no database knows: the ILS's local time
        return naive.replace(tzinfo=tz)
    m = re.match(r"^(\d{8})$", text)
    if m is not None:
        try:
            return dt.datetime.strptime(text, "%Y%m%d").replace(hour=23, minute=59, tzinfo=tz)
        except ValueError:
            return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in _TEXT_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        if len(text) <= 10:  # a date alone: due at the end of that day
            parsed = parsed.replace(hour=23, minute=59)
        return parsed.replace(tzinfo=tz)
    return parsed.astimezone(tz)
