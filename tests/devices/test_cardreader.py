"""Serial card readers through real pty pairs and loop://: frames, held cards, unplugging, PN532."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from kiosk.codes import canonical_uid
from kiosk.devices import frames
from kiosk.devices.cardreader import Pn532Timing, PtyCardReader, RepeatFilter, SerialCardReader
from kiosk.devices.fakes import FakeCardReader

from .conftest import Pty, Scans, wait_for

FRAME = frames.rdm6300_frame("0F00A1B2C3")


def test_rdm6300_on_a_pty_reads_a_card_despite_noise_and_split_writes(
    pty: Pty, scans: Scans
) -> None:
    reader = SerialCardReader(pty.path, "rdm6300", normalise=canonical_uid)
    reader.start(scans)
    try:
        wait_for(lambda: reader.health.connected)
        pty.write(b"\x00\xffnoise\x02\x020F00A1B2C3D0\x03")  # a bad checksum first
        pty.write(FRAME[:6])
        time.sleep(0.05)
        pty.write(FRAME[6:])
        assert scans.next() == ("card", "0F00A1B2C3")
        health = reader.health.as_dict()
        assert (health["connected"], health["good_reads"], health["rejected_reads"]) == (True, 1, 2)
        assert health["last_rejection"] == "RDM6300 checksum mismatch"
    finally:
        reader.stop()


def test_a_held_card_counts_once_until_it_has_been_away(pty: Pty, scans: Scans) -> None:
    # A window far longer than the test, so a slow machine cannot make a held card count twice;
    # when it counts again is RepeatFilter's, checked on its own clock below.
    reader = SerialCardReader(pty.path, "rdm6300", repeat_window_s=60)
    reader.start(scans)
    try:
        wait_for(lambda: reader.health.connected)
        for _ in range(6):  # a card held on the reader: a frame every ~60 ms
            pty.write(FRAME)
            time.sleep(0.06)
        pty.write(frames.rdm6300_frame("0F00A1B2C4"))  # another card counts at once
        assert scans.next() == ("card", "0F00A1B2C3")
        assert scans.next() == ("card", "0F00A1B2C4")
        assert scans.none_within(0.1)
        assert reader.health.as_dict()["good_reads"] == 2  # seven frames, two taps
    finally:
        reader.stop()


def test_the_same_card_counts_again_only_after_the_window_away() -> None:
    taps = RepeatFilter(0.3)
    held = [taps.admit("0F00A1B2C3", 10.0 + 0.06 * i) for i in range(6)]
    assert held == [True, False, False, False, False, False]
    assert taps.admit("0F00A1B2C3", 10.3 + 0.29) is False  # 0.29 s after the last frame: held
    assert taps.admit("0F00A1B2C3", 10.59 + 0.3) is True  # away for the window: a new tap
    assert taps.admit("0F00A1B2C4", 10.9) is True  # another card counts at once
    assert taps.admit("0F00A1B2C3", 10.91) is True  # and so does the first one after it


def test_line_reader_normalises_uids_and_rejects_junk(pty: Pty, scans: Scans) -> None:
    reader = SerialCardReader(pty.path, "line", normalise=canonical_uid)
    reader.start(scans)
    try:
        wait_for(lambda: reader.health.connected)
        pty.write(b"04:a2:1b:7f\r\nhello\r\n0010597059\n")
        assert scans.next() == ("card", "04A21B7F")
        assert scans.next() == ("card", "0010597059")
        assert reader.health.as_dict()["rejected_reads"] == 1
    finally:
        reader.stop()


def test_unplugging_is_reported_and_the_reader_comes_back_within_2_s(
    tmp_path: Path, scans: Scans
) -> None:
    # A by-id style symlink, as udev makes for USB adapters, pointing at a pty "adapter".
    link = tmp_path / "usb-reader"
    first = Pty()
    link.symlink_to(first.path)
    reader = SerialCardReader(str(link), "rdm6300", reconnect_s=0.5)
    reader.start(scans)
    try:
        wait_for(lambda: reader.health.connected)
        first.close()  # unplugged
        link.unlink()
        wait_for(lambda: not reader.health.connected)
        assert "usb-reader" in str(reader.health.as_dict()["last_error"])
        assert reader._thread is not None and reader._thread.is_alive()
        second = Pty()  # plugged back in
        link.symlink_to(second.path)
        wait_for(lambda: reader.health.connected)
        second.write(FRAME)
        assert scans.next() == ("card", "0F00A1B2C3")
        second.close()
    finally:
        reader.stop()


def test_a_port_that_cannot_be_opened_is_retried_without_spinning(scans: Scans) -> None:
    reader = SerialCardReader("/dev/ttyNOPE-kiosk", "rdm6300", reconnect_s=0.2)
    calls: list[object] = []  # what the reader's thread did, in order
    real_open, real_wait = reader._open, reader._stop.wait
    reader._open = lambda: calls.append("open") or real_open()  # type: ignore[method-assign]
    reader._stop.wait = lambda s=None: calls.append(s) or real_wait(s)  # type: ignore[method-assign]
    reader.start(scans)
    wait_for(lambda: calls.count("open") >= 3)
    reader.stop()
    # Not spinning: every failed open is followed by a wait of `reconnect_s` before the next.
    assert calls[:5] == ["open", 0.2, "open", 0.2, "open"], calls
    assert reader.health.as_dict()["connected"] is False
    assert "ttyNOPE" in str(reader.health.as_dict()["last_error"])


def test_fake_card_reader_present_runs_the_real_parser_on_loop(scans: Scans) -> None:
    reader = FakeCardReader(repeat_window_s=0.2)
    reader.start(scans)
    try:
        reader.present("0F00A1B2C3", frames_sent=3)
        assert scans.next() == ("card", "0F00A1B2C3")
        assert scans.none_within(0.1)
        reader.send(b"\x020F00A1B2C3D0\x03")
        wait_for(lambda: reader.health.as_dict()["rejected_reads"] == 1)
    finally:
        reader.stop()


def test_pty_card_reader_makes_a_pty_a_developer_can_write_frames_into(scans: Scans) -> None:
    reader = PtyCardReader("rdm6300")
    reader.start(scans)
    try:
        assert reader.pty.path in reader.health.name
        fd = os.open(reader.pty.path, os.O_WRONLY | os.O_NOCTTY)  # as `printf ... > path` does
        os.write(fd, FRAME)
        os.close(fd)
        assert scans.next() == ("card", "0F00A1B2C3")
        fd = os.open(reader.pty.path, os.O_WRONLY | os.O_NOCTTY)  # writers come and go
        os.write(fd, frames.rdm6300_frame("1A2B3C4D5E"))
        os.close(fd)
        assert scans.next() == ("card", "1A2B3C4D5E")
    finally:
        reader.stop()


# -- PN532 ------------------------------------------------------------------------------------


class FakePn532:
    """A PN532 on the other end of a pty: ACKs commands and answers them, or goes silent."""

    def __init__(self, pty: Pty) -> None:
        self.pty = pty
        self.answering = True
        self.card: bytes | None = None
        self.commands: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        buf = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.pty.master], [], [], 0.05)
            if not ready:
                continue
            try:
                buf += os.read(self.pty.master, 4096)
            except OSError:
                return
            while (i := buf.find(frames.PREAMBLE)) >= 0 and len(buf) >= i + 5:
                length = buf[i + 3]
                if len(buf) < i + 5 + length + 2:
                    break
                payload, buf = buf[i + 5 : i + 5 + length], buf[i + 5 + length + 2 :]
                if self.answering:
                    self._answer(payload[1], payload[2:])

    def _answer(self, command: int, data: bytes) -> None:
        self.commands.append(command)
        reply = b""
        if command == frames.GET_FIRMWARE_VERSION:
            reply = b"\x32\x01\x06\x07"
        elif command == frames.IN_LIST_PASSIVE_TARGET:
            card = self.card
            reply = b"\x00" if card is None else b"\x01\x01\x00\x04\x08" + bytes([len(card)]) + card
        self.pty.write(frames.ACK + frames.pn532_frame(0xD5, command + 1, reply))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_pn532_conversation_reads_a_card_and_survives_a_lost_reader(pty: Pty, scans: Scans) -> None:
    chip = FakePn532(pty)
    timing = Pn532Timing(ack_timeout_s=0.05, response_timeout_s=0.1, poll_s=0.02, retries=2)
    reader = SerialCardReader(pty.path, "pn532", pn532=timing, reconnect_s=0.2)
    reader.start(scans)
    try:
        wait_for(lambda: reader.health.connected)
        assert chip.commands[:3] == [
            frames.GET_FIRMWARE_VERSION,
            frames.SAM_CONFIGURATION,
            frames.RF_CONFIGURATION,
        ]
        chip.card = bytes.fromhex("04A21B7F")
        assert scans.next() == ("card", "04A21B7F")
        chip.card = None
        chip.answering = False  # the reader hangs
        wait_for(lambda: not reader.health.connected)
        assert "PN532" in str(reader.health.as_dict()["last_error"])
        chip.commands.clear()
        chip.answering = True  # back again: woken and set up anew, then polled
        wait_for(lambda: reader.health.connected)
        assert chip.commands[0] == frames.GET_FIRMWARE_VERSION
        chip.card = bytes.fromhex("04A21B7F228180")
        assert scans.next() == ("card", "04A21B7F228180")
    finally:
        reader.stop()
        chip.stop()


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown card reader protocol"):
        SerialCardReader("loop://", "wiegand")
