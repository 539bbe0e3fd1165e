"""The daemon with a hub: the worker starts, the indicator shows offline and online, scans go on."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import from_dict
from kiosk.daemon.app import Daemon
from kiosk.devices.console import NullIndicator

from .conftest import BOOK, Hub, free_port, wait_until
from .proxy import SLOW, FaultProxy

pytestmark = pytest.mark.timeout(60)


class RecordingIndicator(NullIndicator):
    """An indicator that remembers the patterns it was asked to show."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def show(self, pattern: str, text: str = "") -> None:
        self.shown.append(pattern)


def daemon_for(folder: Path, url: str, token: str) -> Daemon:
    settings = from_dict(
        {
            "kiosk": {"id": "k1"},
            "store": {"path": "kiosk.db"},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
            "web": {"enabled": False},
            "hub": {
                "url": url,
                "token": token,
                "interval_s": 0.2,
                "retry_max_s": 0.3,
                "timeout_s": 1.0,
            },
        },
        base_dir=folder,
    )
    return Daemon(settings, indicator=RecordingIndicator())


def run_in_thread(daemon: Daemon) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_the_indicator_follows_the_connection(hub: Hub, tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    daemon = daemon_for(tmp_path, f"http://127.0.0.1:{port}", hub.register("k1"))
    indicator: Any = daemon.indicator
    stop, thread = run_in_thread(daemon)
    try:
        wait_until(lambda: "offline" in indicator.shown, what="offline")
        state = daemon.sync.state()
        assert state["online"] is False and "not reachable" in state["last_error"]
        assert state["queue_length"] == 1  # the rules the kiosk seeded, waiting
        # Now a hub comes up where the kiosk looks for it.
        hub.stop()
        hub.port = port
        hub.start()
        wait_until(lambda: "online" in indicator.shown, what="online")
        assert indicator.shown.count("offline") == 1
        wait_until(lambda: daemon.sync.state()["queue_length"] == 0, what="the drain")
        assert daemon.sync.state()["last_success"] is not None
    finally:
        stop.set()
        thread.join(10)


def test_a_scan_is_answered_while_the_hub_holds_a_request(hub: Hub, tmp_path: Path) -> None:
    proxy = FaultProxy(hub.url, slow_s=3.0)
    try:
        daemon = daemon_for(tmp_path, proxy.url, hub.register("k1"))
        daemon.sync.sync_once()  # the snapshot
        proxy.plan.append(SLOW)
        assert daemon.circulation.checkout("S001", BOOK[0]).ok
        stop, thread = run_in_thread(daemon)
        try:
            wait_until(proxy.holding.is_set, what="a held request")
            # The hub has the loan but its answer is held back; the kiosk lends on meanwhile.
            result = daemon.circulation.checkout("S002", BOOK[1])
            assert result.ok and proxy.holding.is_set()
        finally:
            stop.set()
            thread.join(10)
    finally:
        proxy.close()
