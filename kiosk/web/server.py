"""Serve the app with waitress in a thread of the daemon; a web failure never stops scanning."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

from kiosk.web import web as _web_of

log = logging.getLogger("kiosk.web")


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
    stall_s = STALL_S
    _logged_at = 0.0

    def accept(self) -> Any:
        """Accept a connection, or close it at once when its address holds too many."""
        pair = super().accept()
        if pair is None:
            return None
        conn, addr = pair
        host = addr[0] if isinstance(addr, tuple) else addr
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


class WebServer:
    """The pages and API on `[web] listen`, started and stopped with the daemon."""

    def __init__(
        self,
        app: Flask,
        listen: str,
        threads: int = 8,
        *,
        per_address: int = 20,
        trusted_proxy: str = "",
        stall_s: float = STALL_S,
    ) -> None:
        self.app = app
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        self.threads = threads
        self.per_address = per_address
        self.trusted_proxy = trusted_proxy
        self.stall_s = stall_s
        self.error: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen and serve in a background thread; log (not raise) if the port is taken."""
        proxy: dict[str, Any] = {}
        if self.trusted_proxy:
            # Behind the HTTPS reverse proxy: believe its client address and scheme, no other's.
            proxy = {
                "trusted_proxy": self.trusted_proxy,
                "trusted_proxy_count": 1,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            }
        try:
            adj = Adjustments(
                host=self.host,
                port=self.port,
                threads=self.threads,
                ident="kiosk",
                channel_timeout=IDLE_S,
                cleanup_interval=max(1, min(IDLE_S, self.stall_s) / 2),
                clear_untrusted_proxy_headers=True,
                **proxy,
            )
            server = type(
                "Server",
                (GuardedServer,),
                {"per_address": self.per_address, "stall_s": self.stall_s},
            )
            self._server = server(self.app, map={}, adj=adj)
        except OSError as e:
            self.error = f"cannot listen on {self.host}:{self.port}: {e}"
            log.error("web server not started: %s; scanning goes on without pages", self.error)
            return
        self.port = int(getattr(self._server, "effective_port", self.port))
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        log.info("pages on http://%s:%d/", self.host, self.port)

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception as e:  # the kiosk keeps scanning whatever happens here
            self.error = str(e)
            log.exception("web server stopped")

    @property
    def url(self) -> str:
        """Return the base URL the server answers on."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """End live streams, close every connection and wait for the thread."""
        ctx = self.app.extensions.get("kiosk")
        if ctx is not None:
            ctx.broker.close()
        server = self._server
        if server is None:
            return
        server.task_dispatcher.shutdown(timeout=2)
        # Closing every socket of the loop's map ends `run()` (waitress has no stop call).
        wasyncore.close_all(getattr(server, "map", None) or server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None


def _web_of_app(app: Flask) -> Any:
    with app.app_context():
        return _web_of()


def build_web_server(daemon: Any) -> WebServer:
    """Make the daemon's web server: the app on its store and session, at `[web] listen`."""
    from kiosk.web import create_app
    from kiosk.web.api import loop_heartbeat

    s = daemon.settings
    app = create_app(store=daemon.store, settings=s, daemon=daemon)
    daemon.on_loop.append(loop_heartbeat(_web_of_app(app)))
    server = WebServer(
        app,
        s.web.listen,
        s.web.threads,
        per_address=s.web.connections_per_address,
        trusted_proxy=s.web.trusted_proxy,
    )
    daemon.web = server
    return server
