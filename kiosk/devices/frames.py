"""Framing of card reader byte streams, apart from any port: RDM6300, text lines, PN532 frames.

Each parser takes bytes in whatever pieces the port gives them and returns `Frame`s: a UID whose
checksum matched, or a rejection with its reason. Garbage before a frame is skipped; a frame that
fails its checks is rejected and the search for the next start byte resumes right after the bad
start byte, so a real frame hidden in noise is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

STX, ETX = 0x02, 0x03
RDM6300_LENGTH = 14  # STX, 10 hex data, 2 hex checksum, ETX
_HEX = re.compile(rb"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class Frame:
    """One framed read: a UID, or None and why it was rejected."""

    uid: str | None
    reason: str = ""


def rdm6300_frame(uid: str) -> bytes:
    """Return the frame an RDM6300 sends for a 10-hex-digit EM4100 UID (for fakes and tests)."""
    data = bytes.fromhex(uid)
    checksum = reduce(lambda a, b: a ^ b, data, 0)
    return bytes([STX]) + uid.upper().encode() + f"{checksum:02X}".encode() + bytes([ETX])


class Rdm6300Parser:
    """STX, 10 ASCII hex (version byte and 4-byte tag), 2 ASCII hex XOR of the 5 bytes, ETX."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add bytes; return the frames they complete."""
        self._buffer += chunk
        frames: list[Frame] = []
        while True:
            start = self._buffer.find(bytes([STX]))
            if start < 0:
                self._buffer = b""
                return frames
            if len(self._buffer) - start < RDM6300_LENGTH:
                self._buffer = self._buffer[start:]
                return frames
            candidate = self._buffer[start : start + RDM6300_LENGTH]
            frame = self._check(candidate)
            if frame.uid is None:
                self._buffer = self._buffer[start + 1 :]  # resync just after the bad STX
            else:
                self._buffer = self._buffer[start + RDM6300_LENGTH :]
            frames.append(frame)

    @staticmethod
    def _check(candidate: bytes) -> Frame:
        body, checksum = candidate[1:11], candidate[11:13]
        if candidate[13] != ETX:
            return Frame(None, "RDM6300 frame without ETX")
        if not (_HEX.fullmatch(body) and _HEX.fullmatch(checksum)):
            return Frame(None, "RDM6300 frame with non-hex characters")
        data = bytes.fromhex(body.decode())
        if reduce(lambda a, b: a ^ b, data, 0) != int(checksum, 16):
            return Frame(None, "RDM6300 checksum mismatch")
        return Frame(body.decode().upper())


class LineParser:
    """Readers that send the UID as ASCII text ending in CR and/or LF."""

    def __init__(self, max_length: int = 64) -> None:
        self.max_length = max_length
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add bytes; return one frame per complete non-empty line."""
        self._buffer += chunk
        frames = []
        *lines, self._buffer = re.split(rb"[\r\n]", self._buffer)
        if len(self._buffer) > self.max_length:
            lines.append(self._buffer)
            self._buffer = b""
        for line in lines:
            if not line:
                continue
            if len(line) > self.max_length or not line.isascii():
                frames.append(Frame(None, "line too long or not ASCII"))
                continue
            frames.append(Frame(line.decode("ascii")))
        return frames


# -- PN532 (NXP) host frames over HSU --------------------------------------------------------

PREAMBLE = b"\x00\x00\xff"
ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"
HOST_TO_PN532, PN532_TO_HOST = 0xD4, 0xD5
# Wakes the chip from power-down on HSU: a long 0x55 preamble then zeros.
WAKEUP = b"\x55\x55" + b"\x00" * 14
GET_FIRMWARE_VERSION, SAM_CONFIGURATION = 0x02, 0x14
RF_CONFIGURATION, IN_LIST_PASSIVE_TARGET = 0x32, 0x4A


def pn532_frame(tfi: int, command: int, data: bytes = b"") -> bytes:
    """Return a normal information frame: preamble, LEN, LCS, TFI, command, data, DCS, postamble."""
    payload = bytes([tfi, command]) + data
    if len(payload) > 255:
        raise ValueError("PN532 payload longer than 255 bytes")
    length = len(payload)
    return (
        PREAMBLE
        + bytes([length, (-length) & 0xFF])
        + payload
        + bytes([(-sum(payload)) & 0xFF, 0x00])
    )


@dataclass(frozen=True)
class Pn532Reply:
    """One thing the PN532 said: an ACK, a NACK, a command response, or a broken frame."""

    kind: str  # ack, nack, response, error
    command: int = 0  # the response code (command + 1)
    data: bytes = b""
    reason: str = ""


class Pn532Parser:
    """Split the PN532's byte stream into ACKs, NACKs and checked response frames."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Pn532Reply]:
        """Add bytes; return the replies they complete."""
        self._buffer += chunk
        out: list[Pn532Reply] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start < 0:
                self._buffer = self._buffer[-2:]  # keep a possible partial preamble
                return out
            rest = self._buffer[start:]
            if len(rest) < 6:
                self._buffer = rest
                return out
            if rest[:6] in (ACK, NACK):
                out.append(Pn532Reply("ack" if rest[:6] == ACK else "nack"))
                self._buffer = rest[6:]
                continue
            length, lcs = rest[3], rest[4]
            if (length + lcs) & 0xFF:
                out.append(Pn532Reply("error", reason="PN532 length checksum (LCS) mismatch"))
                self._buffer = rest[1:]
                continue
            if len(rest) < 5 + length + 2:
                self._buffer = rest
                return out
            payload, dcs = rest[5 : 5 + length], rest[5 + length]
            self._buffer = rest[5 + length + 2 :]
            if (sum(payload) + dcs) & 0xFF:
                out.append(Pn532Reply("error", reason="PN532 data checksum (DCS) mismatch"))
            elif length < 2 or payload[0] != PN532_TO_HOST:
                out.append(Pn532Reply("error", reason="PN532 frame not addressed to the host"))
            else:
                out.append(Pn532Reply("response", payload[1], payload[2:]))


def target_uid(data: bytes) -> Frame | None:
    """Return the UID in an InListPassiveTarget answer (ISO 14443A), or None when no card."""
    if not data or data[0] == 0:
        return None
    # NbTg, Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1...
    if len(data) < 6 or len(data) < 6 + data[5]:
        return Frame(None, "PN532 target data too short")
    uid = data[6 : 6 + data[5]]
    if len(uid) not in (4, 7, 10):
        return Frame(None, f"PN532 UID of {len(uid)} bytes")
    return Frame(uid.hex().upper())
