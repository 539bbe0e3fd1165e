"""The web server inside a running daemon: real FIFO scans, real HTTP on loopback."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon
from web.helpers import running_daemon, wait_for


def healthy(url: str) -> dict | None:
    try:
        return json.load(urllib.request.urlopen(url + "/api/v1/health"))  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:
        assert e.code == 503
        return None


def test_a_scan_in_the_fifo_reaches_an_open_stream(live: Daemon, tmp_path: Path) -> None:
    url = wait_for(lambda: live.web._server and live.web.url)
    assert wait_for(lambda: healthy(url)) == {"ok": True, "reasons": []}
    stream = urllib.request.urlopen(url + "/events", timeout=5)
    assert stream.readline() == b"retry: 1000\n"
    assert json.loads(stream.readline().removeprefix(b"data: "))["mode"] == "idle"
    stream.readline()
    with open(tmp_path / "scans", "w") as fifo:
        fifo.write("0F00A1B2C3\n9787020002207\n")
    started = json.loads(stream.readline().removeprefix(b"data: "))
    assert started["patron"] == {"name": "小明", "class": "三(2)班"}
    stream.readline()
    ok = json.loads(stream.readline().removeprefix(b"data: "))
    assert (ok["last"]["kind"], ok["last"]["title"]) == ("ok", "红楼梦")
    stream.close()


def test_scanning_goes_on_when_the_web_port_is_taken(tmp_path: Path, store: Store) -> None:
    store.close()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    daemon, stop, thread = running_daemon(tmp_path, f"127.0.0.1:{port}")
    try:
        with open(tmp_path / "scans", "w") as fifo:
            fifo.write("0F00A1B2C3\n9787020002207\n")
        check = Store.open(tmp_path / "kiosk.db")
        loans = wait_for(lambda: check.value("SELECT count(*) FROM loans"))
        check.close()
        assert loans == 1
        assert daemon.web.error and f"cannot listen on 127.0.0.1:{port}" in daemon.web.error
    finally:
        stop.set()
        thread.join(10)
        taken.close()


def test_the_daemon_stops_cleanly_with_a_page_still_listening(tmp_path: Path, store: Store) -> None:
    store.close()
    daemon, stop, thread = running_daemon(tmp_path, "127.0.0.1:0")
    url = wait_for(lambda: daemon.web._server and daemon.web.url)
    stream = urllib.request.urlopen(url + "/events", timeout=5)
    assert stream.readline() == b"retry: 1000\n"
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "the daemon did not stop"
    rest = stream.read()  # the server ended the stream: no hanging page keeps it alive
    assert b"retry" not in rest
