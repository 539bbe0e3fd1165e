"""Card reader framing on byte streams: noise, split frames, bad checksums; never a false UID."""

from __future__ import annotations

from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices import frames
from kiosk.devices.frames import Frame, LineParser, Pn532Parser, Pn532Reply, Rdm6300Parser

GOOD = frames.rdm6300_frame("0F00A1B2C3")


def test_a_frame_has_stx_hex_xor_checksum_and_etx() -> None:
    assert GOOD == b"\x020F00A1B2C3DF\x03"
    assert Rdm6300Parser().feed(GOOD) == [Frame("0F00A1B2C3")]


def test_noise_before_between_and_inside_is_skipped() -> None:
    stream = b"\xff\x00garbage" + GOOD + b"\x02\x02zz" + frames.rdm6300_frame("1A2B3C4D5E")
    found = Rdm6300Parser().feed(stream)
    assert [f.uid for f in found if f.uid] == ["0F00A1B2C3", "1A2B3C4D5E"]


def test_a_frame_split_across_reads_is_joined() -> None:
    parser = Rdm6300Parser()
    assert parser.feed(GOOD[:5]) == []
    assert parser.feed(GOOD[5:13]) == []
    assert parser.feed(GOOD[13:]) == [Frame("0F00A1B2C3")]


def test_bad_checksum_and_missing_etx_are_rejected_and_the_next_frame_still_reads() -> None:
    bad_sum = b"\x020F00A1B2C3D0\x03"
    no_etx = b"\x020F00A1B2C3DF\x04"
    found = Rdm6300Parser().feed(bad_sum + no_etx + GOOD)
    assert found == [
        Frame(None, "RDM6300 checksum mismatch"),
        Frame(None, "RDM6300 frame without ETX"),
        Frame("0F00A1B2C3"),
    ]


def test_a_real_frame_hidden_behind_a_stray_stx_is_found() -> None:
    # The stray STX makes a 14-byte window without ETX; resyncing right after it finds GOOD.
    assert Rdm6300Parser().feed(b"\x02" + GOOD)[-1] == Frame("0F00A1B2C3")


def test_line_reader_accepts_cr_lf_and_both() -> None:
    parser = LineParser(max_length=20)
    assert parser.feed(b"0F00A1B2C3\r\n04A2") == [Frame("0F00A1B2C3")]
    assert parser.feed(b"1B7F\n\n") == [Frame("04A21B7F")]
    assert parser.feed(b"x" * 30) == [Frame(None, "line too long or not ASCII")]


def test_pn532_frames_round_trip_and_checksums_are_checked() -> None:
    frame = frames.pn532_frame(0xD5, 0x4B, b"\x01\x01\x00\x04\x08\x04\x04\xa2\x1b\x7f")
    assert frame[:3] == frames.PREAMBLE and frame[-1] == 0
    parser = Pn532Parser()
    assert parser.feed(frames.ACK + frame[:7]) == [Pn532Reply("ack")]
    assert parser.feed(frame[7:]) == [Pn532Reply("response", 0x4B, frame[7:-2])]
    corrupt = frame[:-2] + bytes([(frame[-2] + 1) & 0xFF, 0])
    assert parser.feed(corrupt) == [
        Pn532Reply("error", reason="PN532 data checksum (DCS) mismatch")
    ]
    assert parser.feed(frames.NACK) == [Pn532Reply("nack")]


def test_target_uid_reads_4_7_and_10_byte_uids() -> None:
    assert frames.target_uid(b"\x00") is None
    assert frames.target_uid(b"\x01\x01\x00\x04\x08\x04\x04\xa2\x1b\x7f") == Frame("04A21B7F")
    seven = b"\x01\x01\x00\x44\x00\x07\x04\xa2\x1b\x7f\x22\x81\x80"
    assert frames.target_uid(seven) == Frame("04A21B7F228180")
    assert frames.target_uid(b"\x01\x01\x00\x04\x08\x03\x04\xa2\x1b").uid is None  # type: ignore[union-attr]


def xor_ok(uid: str, stream: bytes) -> bool:
    """Return whether `uid` appears in the stream inside a frame with a matching checksum."""
    data = bytes.fromhex(uid)
    checksum = f"{reduce(lambda a, b: a ^ b, data, 0):02X}".encode()
    return any(
        stream[i + 1 : i + 11].upper() == uid.encode()
        and stream[i + 11 : i + 13].upper() == checksum
        for i in range(len(stream))
        if stream[i] == 2 and i + 14 <= len(stream) and stream[i + 13] == 3
    )


@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=20))
def test_random_bytes_never_crash_the_rdm6300_parser_nor_forge_a_uid(
    data: bytes, cuts: list[int]
) -> None:
    parser, found, pos = Rdm6300Parser(), [], 0
    for n in [*cuts, len(data)]:
        found += parser.feed(data[pos : pos + n])
        pos += n
    for f in found:
        assert f.uid is None or xor_ok(f.uid, data)


@given(st.lists(st.one_of(st.binary(max_size=30), st.just(GOOD)), max_size=12))
def test_good_frames_in_noise_are_never_lost(parts: list[bytes]) -> None:
    stream = b"".join(parts)
    found = [f.uid for f in Rdm6300Parser().feed(stream) if f.uid]
    # Every frame that is really there is found (noise may contain valid frames of its own).
    assert found.count("0F00A1B2C3") >= parts.count(GOOD)
    for uid in found:
        assert xor_ok(uid, stream)


@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_pn532_parser_nor_pass_a_bad_checksum(data: bytes) -> None:
    for reply in Pn532Parser().feed(data):
        if reply.kind == "response":
            payload = bytes([0xD5, reply.command]) + reply.data
            frame = frames.pn532_frame(0xD5, reply.command, reply.data)
            assert frame[:-1] in data  # the checked frame, checksums included, was in the input
            assert (sum(payload) + frame[-2]) & 0xFF == 0


@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_line_parser(data: bytes) -> None:
    for f in LineParser().feed(data):
        assert f.uid is None or (f.uid.encode() in data and len(f.uid) <= 64)
