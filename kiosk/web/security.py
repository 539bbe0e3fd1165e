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
KNOWN_ADDRESSES = 5  # addresses remembered per librarian, the newest ones

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
        """Set (or change) a user's password, end every session of that user and unlock it."""
        hashed = generate_password_hash(password)
        with self._lock:
            data = self._file()
            data.setdefault("users", {})[user] = hashed
            sessions = data.setdefault("sessions", {})
            sessions[user] = int(sessions.get(user, 0)) + 1
            _count_unlock(data, user)
            self._write(data)

    def known(self, user: str) -> list[str]:
        """Return the addresses the user last logged in from (its own computers)."""
        return [str(a) for a in self._file().get("known", {}).get(user, [])]

    def remember(self, user: str, address: str) -> None:
        """Remember an address the user logged in from (the last KNOWN_ADDRESSES)."""
        with self._lock:
            data = self._file()
            known = [a for a in data.setdefault("known", {}).get(user, []) if a != address]
            data["known"][user] = [*known, address][-KNOWN_ADDRESSES:]
            self._write(data)

    def unlocks(self, user: str) -> int:
        """Return how often the user was unlocked (a running login limit forgets on a change)."""
        return int(self._file().get("unlocks", {}).get(user, 0))

    def unlock(self, user: str, address: str = "") -> None:
        """Let the user log in again now (the running kiosk forgets the failed logins), and
        trust `address` for the user from now on, if given."""
        if address:
            self.remember(user, address)
        with self._lock:
            data = self._file()
            _count_unlock(data, user)
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        """Write the file atomically and privately."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        tmp.replace(self.path)


def _count_unlock(data: dict[str, Any], user: str) -> None:
    unlocks = data.setdefault("unlocks", {})
    unlocks[user] = int(unlocks.get(user, 0)) + 1


class LoginLimit:
    """Slow down password guessing without locking the librarian out.

    An attempt is counted when it begins, before the slow password check, so parallel guesses
    cannot race the count, and taken back when the password was right. Over the last `window_s`
    seconds: one account from one address (`attempts`), one address over all accounts
    (`per_address`, against trying many names) and everything (`ceiling`, the hash checks' CPU).
    Across addresses an account backs off: after `attempts` failures in a row each next attempt
    waits twice as long as the one before (2 s, 4 s, ... up to `window_s`), so guessing from many
    addresses stays slow. An address the account logged in from before (`Passwords.known`) is held
    only by its own count for that account: neither the backoff nor the ceiling nor the address
    count applies there, so the librarian's own computer always gets in. `kiosk password` (a new
    password, or `--unlock`) forgets the account's failures and the ceiling's count.
    """

    def __init__(
        self,
        attempts: int,
        window_s: float,
        ceiling: int = 100,
        per_address: int = 0,
        clock: Callable[[], float] = time.monotonic,
        accounts: Passwords | None = None,
    ) -> None:
        self.clock = clock  # monotonic seconds; tests pass their own to step through a window
        self.window_s = window_s
        self.free = attempts
        self.limits = {"pair": attempts, "address": per_address or 4 * attempts, "all": ceiling}
        self.accounts = accounts
        self._times: dict[tuple[str, ...], deque[float]] = {}
        self._backoff: dict[str, tuple[int, float]] = {}  # account: failures in a row, next at
        self._unlocks: dict[str, int] = {}  # account: the password file's unlock count seen
        self._lock = threading.Lock()

    @staticmethod
    def _name(user: str) -> str:
        return user.strip().casefold()[:64]

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._times.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def _delay(self, failures: int) -> float:
        """Return how long the account waits after this many failures in a row."""
        over = failures - self.free
        return 0.0 if over <= 0 else min(self.window_s, 2.0 ** min(over, 32))

    def _standing(self, user: str, address: str) -> tuple[bool, int]:
        """Return whether the account logged in from this address before, and its unlocks."""
        if self.accounts is None:
            return False, 0
        return address in self.accounts.known(user), self.accounts.unlocks(user)

    def _forget(self, name: str) -> None:
        """Forget an account's failures (every address) and the ceiling's count: an unlock."""
        self._backoff.pop(name, None)
        for key in [k for k in self._times if k[0] == "all" or k[:2] == ("pair", name)]:
            del self._times[key]

    def begin(self, user: str, address: str) -> float:
        """Count one attempt and return 0, or return the seconds to wait (nothing counted)."""
        known, unlocks = self._standing(user, address)  # the file is read outside the lock
        now = self.clock()
        name = self._name(user)
        with self._lock:
            if self._unlocks.setdefault(name, unlocks) != unlocks:
                self._unlocks[name] = unlocks
                self._forget(name)
            keys: list[tuple[str, ...]] = [("pair", name, address)]
            if not known:
                keys += [("address", address), ("all",)]
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limits[key[0]]:
                    return max(1.0, self.window_s - (now - times[0]))
            if not known:
                failures, next_at = self._backoff.get(name, (0, now))
                if now < next_at:
                    return max(1.0, next_at - now)
                if now - next_at > self.window_s:
                    failures = 0  # quiet for a whole window: start again
                self._backoff[name] = (failures + 1, now + self._delay(failures + 1))
            for key in keys:
                self._times[key].append(now)
            if len(self._times) + len(self._unlocks) > 10_000:
                self._prune(now)  # forget quiet keys, so guessing costs no memory
        return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._times.items() if not t or now - t[-1] > self.window_s]:
            del self._times[key]
        for name in [n for n, (_, at) in self._backoff.items() if now - at > self.window_s]:
            del self._backoff[name]
        # An account with nothing counted has nothing an unlock would forget.
        self._unlocks = {n: u for n, u in self._unlocks.items() if n in self._backoff}

    def succeeded(self, user: str, address: str) -> None:
        """Take back the attempt of a right password, forget this pair's failures and
        remember the address as the account's own."""
        known, _ = self._standing(user, address)
        name = self._name(user)
        with self._lock:
            self._times.pop(("pair", name, address), None)
            if not known:
                for key in (("address", address), ("all",)):
                    if self._times.get(key):
                        self._times[key].pop()
                failures, _ = self._backoff.get(name, (1, 0.0))
                # One failure fewer, and no wait: a guesser gains one attempt at most.
                self._backoff[name] = (max(0, failures - 1), self.clock())
        if self.accounts is not None and not known:
            self.accounts.remember(user, address)


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
