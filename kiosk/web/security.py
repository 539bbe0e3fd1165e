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
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

    def _file(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data if isinstance(data, dict) else {}

    def _read(self) -> dict[str, str]:
        users = self._file().get("users", {})
        return {str(k): str(v) for k, v in users.items()}

    def generation(self, user: str) -> int:
        """Return the user's session generation: a session made in an older one is over."""
        return int(self._file().get("sessions", {}).get(user, 0))

    def end_sessions(self, user: str) -> int:
        """End every session of the user (logout, password change); return the new generation."""
        with self._lock:
            data = self._file()
            sessions = data.setdefault("sessions", {})
            sessions[user] = int(sessions.get(user, 0)) + 1
            self._write(data)
            return int(sessions[user])

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
        """Set (or change) a user's password and end every session of that user."""
        hashed = generate_password_hash(password)
        with self._lock:
            data = self._file()
            data.setdefault("users", {})[user] = hashed
            sessions = data.setdefault("sessions", {})
            sessions[user] = int(sessions.get(user, 0)) + 1
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        """Write the file atomically and privately."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        tmp.replace(self.path)


class LoginLimit:
    """Count login attempts before the slow password check, so parallel guesses cannot race it.

    Three counts, each over the last `window_s` seconds: one account from one address
    (`attempts`), one address over all accounts (`per_address`, against trying many names), and
    everything (`ceiling`, against many addresses). An attempt is counted when it begins, and
    taken back when the password was right. The account's owner at another address is not
    held up by a guesser elsewhere until the ceiling is reached.
    """

    def __init__(
        self,
        attempts: int,
        window_s: float,
        ceiling: int = 100,
        per_address: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock  # monotonic seconds; tests pass their own to step through a window
        self.window_s = window_s
        self.limits = {"pair": attempts, "address": per_address or 4 * attempts, "all": ceiling}
        self._times: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, user: str, address: str) -> list[tuple[str, ...]]:
        name = user.strip().casefold()[:64]
        return [("pair", name, address), ("address", address), ("all",)]

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._times.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def begin(self, user: str, address: str) -> float:
        """Count one attempt and return 0, or return the seconds to wait (nothing counted)."""
        now = self.clock()
        with self._lock:
            keys = self._keys(user, address)
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limits[key[0]]:
                    return max(1.0, self.window_s - (now - times[0]))
            for key in keys:
                self._times[key].append(now)
            if len(self._times) > 10_000:  # forget quiet keys, so guessing costs no memory
                for key in [k for k, t in self._times.items() if not t]:
                    del self._times[key]
        return 0.0

    def succeeded(self, user: str, address: str) -> None:
        """Take back the attempt of a right password, and forget this pair's failures."""
        with self._lock:
            pair, *others = self._keys(user, address)
            self._times.pop(pair, None)
            for key in others:
                if self._times.get(key):
                    self._times[key].pop()


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
