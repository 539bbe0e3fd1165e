"""Serve the app with waitress in a thread of the daemon; a web failure never stops scanning."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from waitress import wasyncore

from kiosk.daemon.httpserver import (
    CONNECTIONS,
    IDLE_S,
    STALL_S,
    guarded_server,
    limits,
    split_listen,
)
from kiosk.web import web as _web_of

log = logging.getLogger("kiosk.web")


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
        idle_s: float = IDLE_S,
        connections: int = CONNECTIONS,
        reserved: tuple[str, ...] = ("127.0.0.1", "::1"),
    ) -> None:
        self.app = app
        self.host, self.port = split_listen(listen)
        self.threads = threads
        self.per_address = per_address
        self.trusted_proxy = trusted_proxy
        self.stall_s = stall_s
        self.idle_s = idle_s
        self.connections = connections
        self.reserved = reserved
        self.error: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen and serve in a background thread; log (not raise) if the port is taken."""
        try:
            self._server = guarded_server(
                self.app,
                self.host,
                self.port,
                threads=self.threads,
                ident="kiosk",
                per_address=self.per_address,
                stall_s=self.stall_s,
                idle_s=self.idle_s,
                trusted_proxy=self.trusted_proxy,
                connections=self.connections,
                reserved=self.reserved,
            )
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
        reserved=tuple(s.web.screen_addresses),
        **limits(s.web),
    )
    daemon.web = server
    return server
