"""The daemon under a real notify socket: READY, STATUS, WATCHDOG pings, STOPPING."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.circulation.store import Store
from kiosk.ops.notify import Notifier, Supervision

INF = float("inf")
KIOSK = str(Path(sys.executable).with_name("kiosk"))


@dataclass
class Listener:
    """A unix datagram socket standing in for systemd, keeping (time, message) pairs."""

    path: str
    sock: socket.socket
    messages: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def seen(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, text: str, timeout: float = 10.0) -> float:
        """Wait until a message containing `text` arrives; return when it did."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for at, msg in self.seen():
                if text in msg.split("\n"):
                    return at
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} within {timeout} s; got {self.seen()}")

    def wait_until(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait until `condition()` is true; fail after `timeout` seconds."""
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise AssertionError(f"condition not met within {timeout} s; got {self.seen()}")
            time.sleep(0.02)

    def silent_for(self, seconds: float) -> bool:
        """Return whether no message has come in the last `seconds`."""
        seen = self.seen()
        return bool(seen) and time.monotonic() - seen[-1][0] >= seconds

    def pings(self, start: float, end: float) -> list[float]:
        return [at for at, msg in self.seen() if msg == "WATCHDOG=1" and start <= at < end]


@pytest.fixture
def listener() -> Iterator[Listener]:
    # A short folder: unix socket paths must fit in 108 bytes.
    folder = tempfile.mkdtemp(prefix="kn", dir="/tmp")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    lst = Listener(path, sock)
    thread = threading.Thread(target=lst.run, daemon=True)
    thread.start()
    yield lst
    sock.close()
    os.unlink(path)
    os.rmdir(folder)


def write_config(tmp_path: Path, store: Store) -> Path:
    """Write a config for the small school's store (the `store` fixture) and a scan FIFO."""
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[store]\npath = "kiosk.db"\n'
        '[scanner]\nsource = "fifo:scan"\n'
        '[indicator]\nkind = "console"\n',
        encoding="utf-8",
    )
    return cfg


def scan(fifo: Path, code: str) -> None:
    with open(fifo, "w", encoding="utf-8") as f:
        f.write(code + "\n")


def start_daemon(cfg: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KIOSK, "--config", str(cfg), "run"],
        env={**os.environ, "KIOSK_LANG": "en", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ready_then_pings_that_stop_while_the_loop_is_blocked(
    tmp_path: Path, listener: Listener, store: Store
) -> None:
    cfg = write_config(tmp_path, store)
    started = time.monotonic()
    proc = start_daemon(cfg, {"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"})
    try:
        ready_at = listener.wait_for("READY=1")
        first = listener.seen()[0][1].split("\n")
        assert first[0] == "READY=1"
        assert first[1].startswith("STATUS=kiosk kiosk-1: ")
        assert ready_at > started
        # Start-up is done: the store was opened and the scan FIFO made before READY.
        assert (tmp_path / "scan").exists()

        # The main loop turns: pings come (counted, not timed: the deadline is only for failing).
        listener.wait_until(lambda: len(listener.pings(ready_at, INF)) >= 3)

        # Another program holds the write lock: the checkout blocks the main loop for the
        # store's busy timeout (5 s), and the pings must stop while it does. Pings every 0.2 s
        # from anywhere but the blocked loop would never leave a silence of six intervals.
        holder = sqlite3.connect(tmp_path / "kiosk.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        scan(tmp_path / "scan", "0F00A1B2C3")  # one FIFO: the card is taken in before the book
        scan(tmp_path / "scan", "9787020002207")
        listener.wait_until(lambda: listener.silent_for(1.2), timeout=5.0)
        holder.execute("ROLLBACK")
        holder.close()
        released = time.monotonic()

        # Once the loop turns again, the pings come back.
        listener.wait_until(lambda: len(listener.pings(released, INF)) >= 3)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    stopping = [m for _, m in listener.seen() if m.startswith("STOPPING=1")]
    assert stopping == ["STOPPING=1\nSTATUS=stopping"]


def test_no_socket_means_nothing_is_sent() -> None:
    notifier = Notifier({"WATCHDOG_USEC": "400000"})
    assert not notifier.enabled
    assert notifier.ready("kiosk up") is False
    assert notifier.watchdog() is False


def test_watchdog_meant_for_another_process_is_ignored() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"}
    assert Notifier(env).watchdog_s is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert Notifier(env).watchdog_s == 0.2


def test_an_unhealthy_daemon_sends_no_pings_and_says_why(listener: Listener) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000"})
    now = [100.0]
    problem: list[str | None] = [None]
    sup = Supervision(notifier, lambda: "kiosk k: fine", lambda: problem[0], lambda: now[0])
    sup.ready()
    sup()
    problem[0] = "store not answering: disk I/O error"
    for _ in range(3):
        now[0] += 0.2
        sup()
    now[0] += 10
    sup()
    listener.wait_for("STATUS=store not answering: disk I/O error")
    msgs = [m for _, m in listener.seen()]
    assert msgs == [
        "READY=1\nSTATUS=kiosk k: fine",
        "WATCHDOG=1",
        "STATUS=store not answering: disk I/O error",
    ]
