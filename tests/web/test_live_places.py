"""Live pages' places on the running daemon (real sockets): the screen always has one, a page that
goes away frees its place at once, and the desk's stream resumes after the last event it saw."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from kiosk.daemon.app import Daemon
from kiosk.web import desk as desk_pages
from kiosk.web import screen as screen_pages
from web.clients import next_state, open_stream
from web.helpers import wait_for

HELPER, BOOK = "0F00AAAA01", "9787020002207"


@pytest.fixture
def no_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams opened from here on send no keep-alive for an hour.

    A keep-alive write would find a closed connection too; without one, only the server's
    read-ahead can notice that a page went away, so a wait for its place to be freed shows
    the read-ahead at work however long the machine takes (no time is asserted).
    """
    monkeypatch.setattr(screen_pages, "KEEPALIVE_S", 3600.0)
    monkeypatch.setattr(desk_pages, "KEEPALIVE_S", 3600.0)


def started(live: Daemon) -> tuple[int, Any]:
    port = wait_for(lambda: live.web._server and live.web.port)
    return port, live.web.app.extensions["kiosk"].broker


def next_event(stream: Any) -> tuple[str, dict[str, Any]]:
    """Return the next message's id and data (skipping keep-alives)."""
    event_id = ""
    while True:
        line = stream.readline()
        assert line, "the stream ended"
        if line.startswith(b"id: "):
            event_id = line.removeprefix(b"id: ").strip().decode()
        if line.startswith(b"data: "):
            return event_id, json.loads(line.removeprefix(b"data: "))


def test_a_page_that_goes_away_frees_its_place_at_once(live: Daemon, no_keepalive: None) -> None:
    port, broker = started(live)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: kiosk\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    wait_for(lambda: broker.count == 1)
    s.close()
    # With no keep-alive to find the connection closed, only the read-ahead can free its place.
    wait_for(lambda: broker.count == 0, timeout=60)


def test_desk_pages_on_the_kiosks_own_address_never_take_the_screens_place(live: Daemon) -> None:
    port, broker = started(live)
    live.kiosk.scan(HELPER)
    # Six places (threads - 2): pages other than the screen get five, two per address.
    desks = [open_stream(port, "/desk/events") for _ in range(2)]
    assert [d.status for d in desks] == [200, 200]
    assert open_stream(port, "/desk/events").status == 503  # the kiosk's address is no screen
    others = [open_stream(port, source=a) for a in ("127.0.0.2", "127.0.0.2", "127.0.0.3")]
    assert [o.status for o in others] == [200, 200, 200]
    assert open_stream(port, source="127.0.0.4").status == 503
    screen = open_stream(port)
    assert screen.status == 200
    assert next_state(screen)["mode"] == "desk"
    # The screen loaded again while every place is taken: the oldest other page makes room.
    again = open_stream(port)
    assert again.status == 200
    assert next_state(again)["mode"] == "desk"
    next_event(desks[0])  # its opening state, then the end of its stream
    assert desks[0].readline() == b"\n" and desks[0].readline() == b""
    assert sorted(c.screen for c in broker.pages()) == [False] * 4 + [True] * 2
    for stream in [*desks, *others, screen, again]:
        stream.close()


def test_the_desk_resumes_after_the_last_event_it_saw(live: Daemon, no_keepalive: None) -> None:
    port, broker = started(live)
    live.kiosk.scan(HELPER)
    desk = open_stream(port, "/desk/events?tab=t1")
    assert next_event(desk) == ("", {"event": "state", "missed": False, "mode": "desk"})
    live.kiosk.scan(BOOK)  # on the shelf: the helper is told, in a helper's words
    seen, first = next_event(desk)
    assert first["line"]["kind"] == "warning" and first["line"]["title"] == "红楼梦"
    desk.close()
    wait_for(lambda: broker.count == 0, timeout=60)  # freed by the read-ahead (no keep-alive)
    live.kiosk.scan("0F00A1B2C3")  # 小明's card: lending for him
    live.kiosk.scan(BOOK)
    back = open_stream(port, f"/desk/events?tab=t1&after={seen}")
    assert next_event(back)[1]["missed"] is False
    _, lending = next_event(back)
    assert (lending["mode"], lending["lending"]) == ("lend_for", "小明")
    lent_id, lent = next_event(back)
    assert lent["line"]["title"] == "红楼梦" and lent["line"]["kind"] == "ok"
    assert lent_id.endswith(f"-{int(seen.rsplit('-', 1)[1]) + 2}")
    # The same tab's next page replaces this stream at once.
    newer = open_stream(port, f"/desk/events?tab=t1&after={lent_id}")
    assert next_event(newer)[1]["missed"] is False
    wait_for(lambda: broker.count == 1)
    # An id from before a restart (another epoch) cannot be resumed: the page is told.
    stale = open_stream(port, "/desk/events?tab=t2&after=0000-3")
    assert next_event(stale)[1]["missed"] is True
    for stream in (back, newer, stale):
        stream.close()
