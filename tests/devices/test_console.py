"""Development sources: lines from a stream, bounded, with over-long input dropped whole."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.base import Scan
from kiosk.devices.console import FifoSource, LineSplitter


def test_lines_end_in_lf_or_cr_and_may_arrive_in_pieces() -> None:
    s = LineSplitter(20)
    assert s.feed(b"97870200") == []
    assert s.feed(b"02207\r\n0F00A1B2C3\n") == [b"9787020002207", b"0F00A1B2C3"]
    assert s.feed(b"\n\n") == []


def test_an_over_long_line_is_one_rejected_piece_and_its_tail_is_dropped() -> None:
    s = LineSplitter(10)
    assert s.feed(b"12345678901234") == [b"12345678901234"]  # too long: reported once
    assert s.feed(b"56789") == []  # the rest of that line is not a scan
    assert s.feed(b"0123\nABC\n") == [b"ABC"]


@given(st.lists(st.binary(max_size=50), max_size=20))
def test_memory_stays_bounded_and_every_good_line_comes_out(chunks: list[bytes]) -> None:
    s = LineSplitter(16)
    out = []
    for chunk in chunks:
        out += s.feed(chunk)
        assert len(s._partial) <= 16
    complete = b"".join(chunks).replace(b"\r", b"\n").split(b"\n")[:-1]
    good = [line for line in complete if 0 < len(line) <= 16]
    assert [line for line in out if len(line) <= 16] == good
    assert all(len(line) > 16 for line in out if line not in good)


def test_a_partial_code_from_a_fifo_is_dropped_not_joined_onto_the_next(tmp_path: Path) -> None:
    path = tmp_path / "scans"
    source = FifoSource(path, partial_timeout_s=0.2)
    got: queue.Queue[Scan] = queue.Queue()
    source.start(got.put)
    try:
        while not path.exists():
            time.sleep(0.01)
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, b"978702")  # a code cut off: no newline ever comes
        # The next scan comes only once the reader has had its silence and dropped the part.
        while source.health.rejected_reads == 0:
            time.sleep(0.02)
        os.write(fd, b"9787535449450\n")
        os.close(fd)
        assert got.get(timeout=5).code == "9787535449450"
        assert "978702" in (source.health.last_rejection or "")
        assert got.empty()
    finally:
        source.stop()
