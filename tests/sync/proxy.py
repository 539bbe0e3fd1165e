"""A tiny HTTP proxy on loopback that misbehaves on purpose: slow, 500, reset, deliver twice."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

PASS, SLOW, ERROR_500, RESET_AFTER_STORE, TWICE, DOWN = (
    "pass",
    "slow",
    "500",
    "reset_after_store",
    "twice",
    "down",
)


class FaultProxy:
    """Forward to `target`; POSTs take the next fault from `plan` (then pass)."""

    def __init__(self, target: str, slow_s: float = 1.5, tls: ssl.SSLContext | None = None) -> None:
        self.target = target
        self.slow_s = slow_s
        self.plan: deque[str] = deque()
        self.seen: list[tuple[str, str, int]] = []  # (method, fault, hub status)
        self.holding = threading.Event()  # set while a slow answer is held back
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy.plan.popleft() if method == "POST" and proxy.plan else PASS
                if fault == DOWN:
                    return self._reset(method, fault, 0)
                if fault == ERROR_500:
                    proxy.seen.append((method, fault, 0))
                    return self._send(500, b'{"error": "internal", "message": "boom"}')
                resp = self._forward(method, body)
                if fault == TWICE:
                    resp = self._forward(method, body)
                proxy.seen.append((method, fault, resp.status_code))
                if fault == RESET_AFTER_STORE:
                    return self._reset(method, fault, resp.status_code)
                if fault == SLOW:
                    proxy.holding.set()
                    time.sleep(proxy.slow_s)
                    proxy.holding.clear()
                self._send(resp.status_code, resp.content)

            def _forward(self, method: str, body: bytes | None) -> requests.Response:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                return requests.request(
                    method, proxy.target + self.path, data=body, headers=headers, timeout=10
                )

            def _send(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _reset(self, method: str, fault: str, status: int) -> None:
                # SO_LINGER 0: close with a TCP reset, the answer never sent.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the resets are on purpose

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
