"""Helpers of the web tests: CSRF tokens from pages, the first login, a daemon running in a
thread, scans into a running kiosk, and waiting for a condition.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from kiosk import config
from kiosk.daemon.app import Daemon

PASSWORD = "correct horse battery"
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


def token(client: FlaskClient, path: str = "/admin/login") -> str:
    """Load a page and return the CSRF token in its form."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def set_up_and_login(client: FlaskClient, user: str = "librarian") -> None:
    """Set the first password and log in."""
    t = token(client, "/admin/setup")
    r = client.post(
        "/admin/setup",
        data={"csrf_token": t, "user": user, "password": PASSWORD, "again": PASSWORD},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    t = token(client, "/admin/login")
    r = client.post("/admin/login", data={"csrf_token": t, "user": user, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def text(response: Any) -> str:
    """Return a response's body as text."""
    return str(response.get_data(as_text=True))


def scan(kiosk: dict[str, Any], *codes: str) -> None:
    """Scan codes at the running kiosk (the `kiosk` fixture): one line each into its FIFO."""
    for code in codes:
        kiosk["fifo"].write(code + "\n")
    kiosk["fifo"].flush()


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `check` until it returns something true, and return that; fail after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@contextlib.contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    """Run the daemon in a thread for the block; its pages answer on `daemon.web.url` in it."""
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    # The port is known once the server listens (a free one was asked for).
    wait_for(lambda: daemon.web._server and daemon.web.port, timeout=10)
    yield daemon
    stop.set()
    thread.join(10)


def fifo_settings(folder: Path, **sections: dict[str, Any]) -> tuple[config.Settings, Path]:
    """Make the scan FIFO `folder/scans`; return settings that read it, and its path.

    The store is `folder/kiosk.db`, no indicator, pages on a free loopback port; `sections`
    add to these or replace one (`web={"enabled": False}`).
    """
    fifo = folder / "scans"
    os.mkfifo(fifo)
    raw: dict[str, Any] = {
        "store": {"path": "kiosk.db"},
        "scanner": {"source": f"fifo:{fifo}"},
        "indicator": {"kind": "none"},
        "web": {"listen": "127.0.0.1:0"},
    }
    return config.from_dict(raw | sections, base_dir=folder), fifo


def running_daemon(tmp_path: Path, listen: str) -> tuple[Daemon, threading.Event, threading.Thread]:
    """Start a daemon on the store in `tmp_path` with a FIFO scan source, pages on `listen`."""
    settings, _ = fifo_settings(tmp_path, web={"listen": listen})
    daemon = Daemon(settings)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    return daemon, stop, thread
