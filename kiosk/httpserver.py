"""Waitress, hardened against floods: the server under the kiosk's pages and the hub's sync API."""

from __future__ import annotations

import logging
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

log = logging.getLogger("kiosk.http")


# A connection with no request for this long is closed (waitress's channel_timeout): idle
# connections cannot pile up. A live page is a request in progress, so it is not affected.
IDLE_S = 30.0
# A connection whose answer has waited this long in the server's buffers without a byte being
# taken by the client is closed: a client that does not read cannot keep a thread.
STALL_S = 30.0


class GuardedServer(TcpWSGIServer):
    """Waitress's server, with at most `per_address` connections per client address and
    connections that stopped reading closed after `stall_s`."""

    per_address = 20
    proxy = ""  # the trusted reverse proxy's address: every client comes through it, no limit
    stall_s = STALL_S
    _logged_at = 0.0

    def accept(self) -> Any:
        """Accept a connection, or close it at once when its address holds too many."""
        pair = super().accept()
        if pair is None:
            return None
        conn, addr = pair
        host = addr[0] if isinstance(addr, tuple) else addr
        if host == self.proxy:
            return pair
        held = sum(
            1
            for ch in list(self.active_channels.values())
            if isinstance(ch.addr, tuple) and ch.addr[0] == host
        )
        if held >= self.per_address:
            now = time.monotonic()
            if now - self._logged_at > 10:  # a flood must not flood the journal too
                self._logged_at = now
                log.warning("closing connections from %s: it already holds %d", host, held)
            conn.close()
            return None
        return pair

    def maintenance(self, now: float) -> None:
        """Close idle connections (waitress) and those whose client stopped reading."""
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if channel.total_outbufs_len and channel.last_activity < now - self.stall_s:
                log.warning("closed a connection from %s: it stopped reading", channel.addr)
                channel.handle_close()


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
        cleanup_interval=max(1, min(idle_s, stall_s) / 2),
        clear_untrusted_proxy_headers=True,
        # Keep reading a connection while its request runs, so that a live page whose browser
        # went away is noticed at once (`waitress.client_disconnected`), not at its next write.
        channel_request_lookahead=1,
        **proxy,
    )
    limits = {"per_address": per_address, "stall_s": stall_s, "proxy": trusted_proxy}
    server = type("Server", (GuardedServer,), limits)
    return server(app, map={}, adj=adj)
