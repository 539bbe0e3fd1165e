"""The hub resists a flood like the kiosk's pages: a hub process, real sockets on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import BOOK, Hub, add_school, wait_until

pytestmark = pytest.mark.timeout(60)


class GuardedHub(Hub):
    """A hub behind a proxy at 127.0.0.3, three connections per other address, and clients
    that stop reading dropped after one second."""

    def write_config(self) -> None:
        self.config.write_text(
            f'[kiosk]\nid = "hub"\n[store]\npath = "hub.db"\n'
            f'[web]\nlisten = "127.0.0.1:{self.port}"\nstall_timeout_s = 1.0\n'
            'trusted_proxy = "127.0.0.3"\nconnections_per_address = 3\n',
            encoding="utf-8",
        )


@pytest.fixture
def guarded_hub(tmp_path: Path) -> Iterator[Hub]:
    h = GuardedHub(tmp_path / "hub")
    h.folder.mkdir()
    s = h.store()
    add_school(s)
    s.close()
    h.start()
    yield h
    h.stop()


def test_idle_connections_from_one_address_do_not_stop_another_kiosks_push(
    hub: Hub, kiosk_factory: Any
) -> None:
    token = hub.register("k1")
    idle = []
    try:
        for _ in range(110):  # over waitress's 100 connections: before, the hub stopped accepting
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", hub.port))
            idle.append(s)
        idle[-1].settimeout(10)
        assert idle[-1].recv(1) == b""  # the 110th was closed at once: one address, 20 places
        k = kiosk_factory(hub.url, token)  # its connections are new ones
        k.worker.sync_once()  # from 127.0.0.1, with a 2 s timeout: takes the hub's school
        assert k.circulation.checkout("S001", BOOK[0]).ok
        k.worker.sync_once()
        rows = hub.query("SELECT patron_id FROM loans WHERE item_barcode = ?", [BOOK[0]])
        assert [r["patron_id"] for r in rows] == ["S001"]
        assert k.worker.state()["queue_length"] == 0
    finally:
        for s in idle:
            s.close()


def test_a_client_that_stops_reading_is_dropped(guarded_hub: Hub) -> None:
    token = guarded_hub.register("k1")
    request = (
        "GET /api/v1/sync/snapshot?part=items&after=&limit=1000 HTTP/1.1\r\n"
        f"Host: hub\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    asked = 3000  # pipelined; their answers are far more than the sockets' buffers hold
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", guarded_hub.port))
    try:
        s.sendall(request * asked)  # then read nothing
        log = guarded_hub.folder / "hub.log"
        wait_until(
            lambda: "stopped reading" in log.read_text(encoding="utf-8"),
            20,
            "the hub to drop the client",
        )
        s.settimeout(10)
        received = b""
        try:
            while chunk := s.recv(1 << 20):
                received += chunk
        except ConnectionResetError:
            pass
        answered = received.count(b"HTTP/1.1 200")
        assert 0 < answered < asked  # the hub stopped writing to it and closed it
    finally:
        s.close()
    assert guarded_hub.proc is not None and guarded_hub.proc.poll() is None


def connect(port: int, source: str) -> socket.socket:
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(10)
    return s


def test_the_trusted_proxy_is_not_limited_other_addresses_are(guarded_hub: Hub) -> None:
    proxied = [connect(guarded_hub.port, "127.0.0.3") for _ in range(8)]
    others = [connect(guarded_hub.port, "127.0.0.4") for _ in range(4)]
    try:
        assert others[-1].recv(1) == b""  # the fourth from one address: closed at once
        for s in proxied:  # every kiosk behind the proxy is still answered
            s.sendall(b"GET /api/v1/sync/kiosks HTTP/1.1\r\nHost: hub\r\n\r\n")
            assert s.recv(12) == b"HTTP/1.1 401"
    finally:
        for s in proxied + others:
            s.close()
