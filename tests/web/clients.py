"""Real HTTP on loopback from a chosen source address: 127.0.0.2 is another client."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


@dataclass
class Browser:
    """A cookie-keeping client talking to `port` from `source` (a loopback address)."""

    port: int
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str, list[str]]:
        """Send one request; return status, headers, body text and the Set-Cookie lines."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=10, source_address=(self.source, 0)
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            set_cookies = resp.headers.get_all("Set-Cookie") or []
            for line in set_cookies:
                name, _, rest = line.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Expires=Thu, 01 Jan 1970" not in line:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
            return resp.status, dict(resp.headers.items()), text, set_cookies
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> tuple[int, dict[str, str], str, list[str]]:
        return self.request("GET", path, **kw)

    def token(self, path: str = "/admin/login") -> str:
        """Return the CSRF token of a page's form."""
        _, _, html, _ = self.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
            r'name="csrf-token" content="([^"]+)"', html
        )
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, user: str, password: str, next_: str = "") -> tuple[int, dict[str, str]]:
        """Post the login form; return the status and headers."""
        t = self.token()
        path = "/admin/login" + (f"?{urlencode({'next': next_})}" if next_ else "")
        status, headers, _, _ = self.request(
            "POST", path, form={"csrf_token": t, "user": user, "password": password}
        )
        return status, headers


def open_stream(port: int, path: str = "/events", source: str = "127.0.0.1") -> Any:
    """Open a Server-Sent Events stream; return the response (read it with .readline())."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", path)
    return conn.getresponse()


def next_state(stream: Any) -> dict[str, Any]:
    """Return the next `data:` message of a stream as JSON."""
    import json

    while True:
        line = stream.readline()
        assert line, "the stream ended"
        if line.startswith(b"data: "):
            return json.loads(line.removeprefix(b"data: "))  # type: ignore[no-any-return]
