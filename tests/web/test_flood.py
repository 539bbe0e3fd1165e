"""The page server and the scan queue resist a flood (real sockets, a real FIFO)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response

from kiosk.app import Daemon
from kiosk.circulation.store import Store
from kiosk.devices.fakes import FakeCardReader
from kiosk.web.server import WebServer
from web.clients import Browser, next_state, open_stream
from web.helpers import fifo_settings, wait_for


def test_idle_connections_from_one_address_do_not_stop_the_pages(live: Daemon) -> None:
    port = wait_for(lambda: live.web._server and live.web.port)
    wait_for(lambda: Browser(port).get("/api/v1/health")[0] == 200)
    idle = []
    for _ in range(110):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        idle.append(s)
    try:
        status, _, _, _ = Browser(port).get("/api/v1/health")
        assert status == 200
    finally:
        for s in idle:
            s.close()


def test_live_pages_elsewhere_cannot_take_the_screens_place(live: Daemon) -> None:
    port = wait_for(lambda: live.web._server and live.web.port)
    held = [open_stream(port, source=f"127.0.0.{n}") for n in (2, 2, 3, 3, 4)]
    assert [r.status for r in held] == [200] * 5
    assert open_stream(port, source="127.0.0.2").status == 503  # two per address
    assert open_stream(port, source="127.0.0.5").status == 503  # the last place is the screen's
    screen = open_stream(port, source="127.0.0.1")
    assert screen.status == 200
    assert next_state(screen)["mode"] == "idle"
    live.kiosk.scan("0F00A1B2C3")
    assert next_state(screen)["patron"] == {"name": "小明", "class": "三(2)班"}


def test_a_client_that_stops_reading_is_dropped() -> None:
    app = Flask(__name__)
    ended = threading.Event()

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            try:
                while True:
                    yield b"x" * 65536
            finally:
                ended.set()

        return Response(chunks(), mimetype="application/octet-stream")

    server = WebServer(app, "127.0.0.1:0", threads=4, stall_s=1.0)
    server.start()
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", server.port))
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)  # then never read again
        assert ended.wait(20), "the server kept writing to a client that does not read"
        s.close()
    finally:
        server.stop()


@pytest.fixture
def flooded(tmp_path: Path, store: Store) -> Iterator[tuple[Daemon, FakeCardReader, Path]]:
    """A daemon with a FIFO scanner and a card reader (fake: the hardware edge)."""
    store.close()
    settings, fifo = fifo_settings(tmp_path, web={"enabled": False})
    reader = FakeCardReader()
    daemon = Daemon(settings)
    assert daemon.sources is not None
    daemon.sources.append(reader)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,), daemon=True)
    thread.start()
    yield daemon, reader, fifo
    stop.set()
    thread.join(10)


def test_junk_from_one_source_cannot_push_out_a_card_from_another(
    flooded: tuple[Daemon, FakeCardReader, Path],
) -> None:
    daemon, reader, fifo = flooded
    patrons: list[str] = []
    daemon.kiosk.subscribe(
        lambda fb: patrons.append(daemon.kiosk.patron.id) if daemon.kiosk.patron else None
    )
    wait_for(lambda: reader.health.connected, timeout=10)
    junk = b"".join(b"JUNK%07d\n" % n for n in range(400_000))  # 5 MB
    with open(fifo, "wb") as out:
        writer = threading.Thread(target=out.write, args=(junk,))
        writer.start()
        wait_for(lambda: daemon.scans.qsize() >= 50, timeout=20)
        reader.present("0F00A1B2C3")
        wait_for(lambda: "S001" in patrons, timeout=20)
        writer.join(60)
    assert daemon.scans.dropped > 0  # junk was dropped, the card was not
