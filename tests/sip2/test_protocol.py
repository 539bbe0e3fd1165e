"""SIP2 framing and parsing: checksums, sequence numbers, both terminators, due dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kiosk.sip2 import protocol as p

TZ = ZoneInfo("Asia/Shanghai")


def test_checksum_makes_the_sum_zero() -> None:
    frame = p.encode(
        "09N20260105    12345620260105    123456APMain|AOSCHOOL|AB123|AC|", 1, "utf-8", "\r"
    )
    assert frame.endswith(b"\r")
    body, seq = p.decode(frame, "utf-8", check=True)
    assert seq == 1 and body.startswith("09N")
    assert frame[-10:-5] == b"AY1AZ"
    # The checksum's value plus every byte before it, AZ included, is 0 in 16 bits.
    assert (int(frame[-5:-1], 16) + sum(frame[:-5])) & 0xFFFF == 0
    assert p.checksum(b"abc") == f"{0x10000 - (97 + 98 + 99):04X}"


def test_a_changed_byte_is_corrupt_and_no_checksum_is_corrupt_when_required() -> None:
    frame = p.encode("941", 3, "utf-8", "\r\n")
    spoiled = frame[:2] + b"0" + frame[3:]
    with pytest.raises(p.Corrupt):
        p.decode(spoiled, "utf-8", check=True)
    with pytest.raises(p.Corrupt):
        p.decode(b"941\r", "utf-8", check=True)
    assert p.decode(b"941\r\n", "utf-8", check=False) == ("941", None)


def test_gb18030_name_survives_and_wrong_encoding_is_corrupt() -> None:
    frame = p.encode("64" + " " * 59 + "AEé王小明|", None, "gb18030", "\r")
    assert p.decode(frame, "gb18030", check=False)[0].endswith("王小明|")
    with pytest.raises(p.Corrupt):
        p.decode("64AE王小明|\r".encode("gb18030"), "utf-8", check=False)


def test_parse_reads_fixed_fields_and_ignores_unknown_fields() -> None:
    m = p.parse(
        "121NNY20260105    123456AOSCH|AAP1|ABB1|AJTitle|AH20260119    235900|ZZx|AFOk|AFtwo|"
    )
    assert m.code == "12" and m.flag(0) == "1"
    assert m.get("AJ") == "Title" and m.all("AF") == ["Ok", "two"] and m.get("ZZ") == "x"


@pytest.mark.parametrize("body", ["12", "1", "99xx", "12XNNY20260105    123456", "94X", "941|aa|"])
def test_malformed_answers_are_refused(body: str) -> None:
    with pytest.raises(p.Malformed):
        p.parse(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20260119    235900", "2026-01-19 23:59"),
        ("20260119UTC 155900", "2026-01-19 23:59"),
        ("20260119Z   155900", "2026-01-19 23:59"),
        ("2026-01-19 23:59:00", "2026-01-19 23:59"),
        ("2026-01-19T15:59:00Z", "2026-01-19 23:59"),
        ("2026-01-19", "2026-01-19 23:59"),
        ("20260119", "2026-01-19 23:59"),
        ("01/19/2026", "2026-01-19 23:59"),
    ],
)
def test_due_dates_in_the_formats_systems_send(text: str, expected: str) -> None:
    due = p.due_date(text, TZ)
    assert due is not None and due.strftime("%Y-%m-%d %H:%M") == expected
    assert due.utcoffset() == dt.timedelta(hours=8)


def test_unreadable_due_date_is_none() -> None:
    assert p.due_date("next Tuesday", TZ) is None
    assert p.due_date("", TZ) is None
