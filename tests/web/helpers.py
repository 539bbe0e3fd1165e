"""Helpers of the web tests: CSRF tokens from pages, the first login, scans into a running kiosk."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


def token(client: FlaskClient, path: str = "/admin/login") -> str:
    """Load a page and return the CSRF token in its form."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def set_up_and_login(client: FlaskClient, user: str = "librarian") -> None:
    """Set the first password and log in."""
    t = token(client, "/admin/setup")
    r = client.post(
        "/admin/setup",
        data={"csrf_token": t, "user": user, "password": PASSWORD, "again": PASSWORD},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    t = token(client, "/admin/login")
    r = client.post("/admin/login", data={"csrf_token": t, "user": user, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def text(response: Any) -> str:
    """Return a response's body as text."""
    return str(response.get_data(as_text=True))


def scan(kiosk: dict[str, Any], *codes: str) -> None:
    """Scan codes at the running kiosk (the `kiosk` fixture): one line each into its FIFO."""
    for code in codes:
        kiosk["fifo"].write(code + "\n")
    kiosk["fifo"].flush()
