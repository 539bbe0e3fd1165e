"""Who may do what: password hashes, login rate limits, CSRF tokens and allowed networks."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import socket
import struct
import threading
import time
from collections import deque
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.i18n import N_

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MIN_PASSWORD = 8

# A problem is a message id and its parameters; the caller translates it for its reader.
Problem = tuple[str, dict[str, int]]


def user_name_problem(user: str) -> Problem | None:
    """Say what is wrong with a new librarian user name, if anything."""
    if not user or len(user) > 40 or not user.replace("_", "").replace("-", "").isalnum():
        return N_("Choose a user name of letters and digits."), {}
    return None


def new_password_problem(password: str, again: str) -> Problem | None:
    """Say what is wrong with a new password and its repetition, if anything."""
    if len(password) < MIN_PASSWORD:
        return N_("The password needs at least {count} characters."), {"count": MIN_PASSWORD}
    if password != again:
        return N_("The two passwords are not the same."), {}
    return None


def secret_key(path: Path) -> bytes:
    """Return the cookie-signing key from `path`, making a new private one on first use."""
    try:
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class Passwords:
    """Librarian accounts in a small JSON file: name -> werkzeug password hash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        users = data.get("users", {}) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in users.items()}

    def users(self) -> list[str]:
        """Return the account names."""
        return sorted(self._read())

    def is_set_up(self) -> bool:
        """Return whether any password has been set."""
        return bool(self._read())

    def check(self, user: str, password: str) -> bool:
        """Return whether the password is right for the user."""
        hashed = self._read().get(user)
        if hashed is None:
            # Spend the same time as a real check, so a wrong name is not told apart.
            check_password_hash(generate_password_hash("x"), password)
            return False
        return check_password_hash(hashed, password)

    def set(self, user: str, password: str) -> None:
        """Set (or change) a user's password, writing the file atomically and privately."""
        with self._lock:
            users = self._read()
            users[user] = generate_password_hash(password)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".part")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"users": users}, f, indent=1)
            tmp.replace(self.path)


class RateLimit:
    """Count failed logins per address; refuse more than `attempts` within `window_s`."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def wait_s(self, address: str) -> float:
        """Return how many seconds this address must wait, 0 when it may try."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.attempts:
                return 0.0
            return max(1.0, self.window_s - (now - times[0]))

    def failed(self, address: str) -> None:
        """Count one failed login."""
        now = time.monotonic()
        with self._lock:
            self._recent(address, now).append(now)

    def succeeded(self, address: str) -> None:
        """Forget the failures of an address that logged in."""
        with self._lock:
            self._failures.pop(address, None)


def local_networks() -> list[Network]:
    """Return loopback and the subnets of this machine's interfaces (Linux routing table)."""
    nets: list[Network] = [
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("fe80::/10"),
    ]
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
        for line in lines:
            parts = line.split()
            dest, gateway, mask = (int(parts[i], 16) for i in (1, 2, 7))
            if gateway == 0 and mask != 0:
                # The table is in host (little-endian) byte order.
                addr = socket.inet_ntoa(struct.pack("<I", dest))
                bits = bin(mask).count("1")
                nets.append(ipaddress.ip_network(f"{addr}/{bits}", strict=False))
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            parts = line.split()
            ip = ipaddress.ip_address(":".join(parts[0][i : i + 4] for i in range(0, 32, 4)))
            if not ip.is_link_local and not ip.is_loopback:
                nets.append(ipaddress.ip_network(f"{ip}/{int(parts[2], 16)}", strict=False))
    return nets


def parse_networks(spec: list[str]) -> list[Network]:
    """Turn the [web] admin_networks setting into networks."""
    nets: list[Network] = []
    for item in spec:
        if item == "local":
            nets += local_networks()
        else:
            nets.append(ipaddress.ip_network(item, strict=False))
    return nets


def allowed(address: str | None, nets: list[Network]) -> bool:
    """Return whether a client address is inside one of the networks."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in nets)
