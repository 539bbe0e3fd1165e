"""Waitress, hardened against floods: the server under the kiosk's pages and the hub's sync API."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

if TYPE_CHECKING:
    from kiosk.config import WebSettings

log = logging.getLogger("kiosk.http")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# A connection with no request for this long is closed (waitress's channel_timeout): idle
# connections cannot pile up. A live page is a request in progress, so it is not affected.
IDLE_S = 30.0
# A connection whose answer has waited this long in the server's buffers without a byte being
# taken by the client is closed: a client that does not read cannot keep a thread.
STALL_S = 30.0
# Waitress stops accepting anyone at its connection_limit (100), the screen too, and a flood from
# a few addresses under the per-address cap reaches it. So all connections together stop at a
# lower cap of ours, with places above it that only the kiosk's own screen (a reserved address,
# loopback) may take; waitress's own limit is set above both and never reached.
CONNECTIONS = 80
RESERVED_PLACES = 8  # Chromium opens up to 6 connections to a site, plus the live stream
# When places run short (over CROWDED of the cap), a connection waiting without a request is
# closed after CROWDED_IDLE_S instead of IDLE_S; when they are all taken, the one that waited the
# longest makes room for a new one at once.
CROWDED = 0.75
CROWDED_IDLE_S = 5.0


class GuardedServer(TcpWSGIServer):
    """Waitress's server, with at most `per_address` connections per client address and
    `connections` in all (`reserved_places` more for the `reserved` addresses), idle connections
    closed sooner when places run short, and connections that stopped reading closed after
    `stall_s`."""

    per_address = 20
    proxy = ""  # the trusted reverse proxy's address: every client comes through it, no limit
    stall_s = STALL_S
    connections = CONNECTIONS
    reserved: tuple[Network, ...] = ()
    reserved_places = RESERVED_PLACES
    crowded_idle_s = CROWDED_IDLE_S
    _logged_at = 0.0

    def is_reserved(self, host: str) -> bool:
        """Return whether a client address may take the reserved places (the kiosk's screen)."""
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped  # 127.0.0.1 on a dual-stack listener
        return any(ip.version == net.version and ip in net for net in self.reserved)

    def _refuse(self, conn: Any, why: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._logged_at > 10:  # a flood must not flood the journal too
            self._logged_at = now
            log.warning(why, *args)
        conn.close()

    def accept(self) -> Any:
        """Accept a connection, or close it at once when its address holds too many or every
        place is taken by a connection with a request in progress."""
        pair = super().accept()
        if pair is None:
            return None
        conn, addr = pair
        host = addr[0] if isinstance(addr, tuple) else str(addr)
        channels = list(self.active_channels.values())
        if host != self.proxy:
            held = sum(1 for ch in channels if _host(ch) == host)
            if held >= self.per_address:
                self._refuse(conn, "closing connections from %s: it already holds %d", host, held)
                return None
        places = self.connections + (self.reserved_places if self.is_reserved(host) else 0)
        if len(channels) >= places and not self._make_room(channels):
            self._refuse(conn, "closing a connection from %s: all %d places are busy", host, places)
            return None
        return pair

    def _idle(self, channels: Iterable[Any]) -> list[Any]:
        """Return the connections waiting for a request, not the reserved addresses' ones."""
        return [
            ch
            for ch in channels
            if not ch.requests and not ch.total_outbufs_len and not self.is_reserved(_host(ch))
        ]

    def _make_room(self, channels: list[Any]) -> bool:
        """Close the connection that has waited the longest without a request, if any."""
        idle = self._idle(channels)
        if not idle:
            return False
        min(idle, key=lambda ch: ch.last_activity).handle_close()
        return True

    def maintenance(self, now: float) -> None:
        """Close idle connections (waitress; sooner when crowded) and those whose client
        stopped reading."""
        super().maintenance(now)
        channels = list(self.active_channels.values())
        for channel in channels:
            if channel.total_outbufs_len and channel.last_activity < now - self.stall_s:
                log.warning("closed a connection from %s: it stopped reading", channel.addr)
                channel.handle_close()
        if len(channels) > CROWDED * self.connections:
            for channel in self._idle(channels):
                if channel.last_activity < now - self.crowded_idle_s:
                    channel.will_close = True  # closed by the loop, like waitress's own


def _host(channel: Any) -> str:
    return channel.addr[0] if isinstance(channel.addr, tuple) else str(channel.addr)


class Limits(TypedDict):
    """The flood limits of `[web]`, as `guarded_server` takes them."""

    trusted_proxy: str
    per_address: int
    stall_s: float
    idle_s: float
    connections: int


def limits(web: WebSettings) -> Limits:
    """Return the flood limits `[web]` sets, for the kiosk's server and the hub's alike."""
    return Limits(
        trusted_proxy=web.trusted_proxy,
        per_address=web.connections_per_address,
        stall_s=web.stall_timeout_s,
        idle_s=web.idle_timeout_s,
        connections=web.connections,
    )


def split_listen(listen: str) -> tuple[str, int]:
    """Return the host and port of a HOST:PORT setting (an IPv6 host may be in brackets)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def guarded_server(
    app: Any,
    host: str,
    port: int,
    *,
    threads: int,
    ident: str,
    per_address: int = 20,
    stall_s: float = STALL_S,
    idle_s: float = IDLE_S,
    trusted_proxy: str = "",
    connections: int = CONNECTIONS,
    reserved: Iterable[str] = ("127.0.0.1", "::1"),
) -> GuardedServer:
    """Bind a GuardedServer for `app` on host:port (raises OSError if the port is taken)."""
    proxy: dict[str, Any] = {}
    if trusted_proxy:
        # Behind the HTTPS reverse proxy: believe its client address and scheme, no other's.
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        }
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident=ident,
        channel_timeout=idle_s,
        cleanup_interval=max(1, min(idle_s, stall_s, CROWDED_IDLE_S) / 2),
        # Ours are the limits (see CONNECTIONS): waitress's must stay above them (its map also
        # holds the listening socket and a trigger).
        connection_limit=connections + RESERVED_PLACES + 10,
        clear_untrusted_proxy_headers=True,
        # Keep reading a connection while its request runs, so that a live page whose browser
        # went away is noticed at once (`waitress.client_disconnected`), not at its next write.
        channel_request_lookahead=1,
        **proxy,
    )
    limits = {
        "per_address": per_address,
        "stall_s": stall_s,
        "proxy": trusted_proxy,
        "connections": connections,
        "reserved": tuple(ipaddress.ip_network(a, strict=False) for a in reserved),
        "crowded_idle_s": min(CROWDED_IDLE_S, idle_s),
    }
    server = type("Server", (GuardedServer,), limits)
    return server(app, map={}, adj=adj)
