"""The page server and the scan queue resist a flood (real sockets, a real FIFO)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon
from kiosk.devices.fakes import FakeCardReader
from kiosk.web.server import WebServer
from web.chromium import wait_js, watch_errors
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


class IdleFlood(threading.Thread):
    """Hold `per_source` connections without a request from each source address, opening a new
    one for each the server closes, until stopped, `budget` connections or `limit_s` seconds."""

    def __init__(self, port: int, sources: list[str], per_source: int = 25) -> None:
        super().__init__(daemon=True)
        self.port, self.sources, self.per_source = port, sources, per_source
        self.budget, self.limit_s = 20_000, 90.0
        self.opened = self.closed_by_server = 0
        self.halt = threading.Event()

    def run(self) -> None:
        held: dict[str, list[socket.socket]] = {source: [] for source in self.sources}
        end = time.monotonic() + self.limit_s
        try:
            while not self.halt.is_set() and self.opened < self.budget and time.monotonic() < end:
                every = [s for group in held.values() for s in group]
                # They send nothing: a readable one was closed by the server.
                closed, _, _ = select.select(every, [], [], 0)
                for source, group in held.items():
                    held[source] = [s for s in group if s not in closed]
                    while len(held[source]) < self.per_source and self.opened < self.budget:
                        held[source].append(self._connect(source))
                for s in closed:
                    s.close()
                self.closed_by_server += len(closed)
                self.halt.wait(0.1)
        finally:
            for group in held.values():
                for s in group:
                    s.close()

    def _connect(self, source: str) -> socket.socket:
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", self.port))  # the kernel completes it, accepted or not
        self.opened += 1
        return s


def test_an_idle_flood_from_six_addresses_leaves_the_screen_its_place(
    live: Daemon, browser: Any
) -> None:
    port = wait_for(lambda: live.web._server and live.web.port)
    server = live.web._server
    wait_for(lambda: Browser(port).get("/api/v1/health")[0] == 200)
    # 6 addresses x 25: each under the per-address cap of 20, together over waitress's 100.
    flood = IdleFlood(port, [f"127.0.0.{n}" for n in range(2, 8)])
    flood.start()
    try:
        wait_for(lambda: len(server.active_channels) >= server.connections, timeout=20)
        status, _, html, _ = Browser(port).get("/")  # the kiosk's own screen, from loopback
        assert status == 200 and "请刷卡借书" in html
        page = browser.new_page(viewport={"width": 1024, "height": 600})
        errors = watch_errors(page)
        page.goto(live.web.url + "/")
        wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0", timeout_s=20)
        assert page.is_visible("#tap h1 >> text=请刷卡借书")
        live.kiosk.scan("0F00A1B2C3")
        page.wait_for_selector("#patron-name:text('小明')", timeout=20000)
        assert errors == []
        page.close()
        # A librarian elsewhere gets in too: the connection that waited longest makes room.
        assert Browser(port, source="127.0.0.8").get("/api/v1/health")[0] == 200
        assert flood.is_alive() and flood.closed_by_server > 0  # it was renewing all along
    finally:
        flood.halt.set()
        flood.join(10)
    assert len(server.active_channels) <= server.connections + server.reserved_places


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
