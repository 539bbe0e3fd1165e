"""Helpers for device tests: collect scans, wait for a condition, real pty pairs."""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Callable, Iterator

import pytest

from kiosk.devices.base import Scan

# Waits on a condition give up only here, so that a test that would hang fails instead; no test
# asserts how soon something happens (speed is measured in bench/), and a loaded machine is slow.
DEADLINE_S = 60.0


class Scans:
    """A scan handler that keeps what it gets, for assertions."""

    def __init__(self) -> None:
        self.q: queue.Queue[Scan] = queue.Queue()

    def __call__(self, scan: Scan) -> None:
        self.q.put(scan)

    def next(self, timeout: float = DEADLINE_S) -> tuple[str, str]:
        """Return (source, code) of the next scan, failing the test when none ever comes."""
        try:
            scan = self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no scan within {timeout} s") from None
        return scan.source, scan.code

    def none_within(self, seconds: float) -> bool:
        """Return whether no scan arrives within `seconds`."""
        try:
            scan = self.q.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected scan {scan}")


@pytest.fixture
def scans() -> Scans:
    return Scans()


def wait_for(condition: Callable[[], object]) -> None:
    """Wait until `condition()` is true; fail only if it never is (how long it took is no test)."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition never met (waited {DEADLINE_S:.0f} s)")
        time.sleep(0.005)


class Pty:
    """A pseudo-terminal pair: the reader opens `path` with pyserial, the test writes `master`."""

    def __init__(self) -> None:
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty() -> Iterator[Pty]:
    p = Pty()
    yield p
    p.close()
