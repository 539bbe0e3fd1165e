"""Password guessing from many addresses slows the guessers, not the librarian (real HTTP on
loopback to a running daemon, and `kiosk password --unlock` from the kiosk's shell)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon
from web.clients import Browser
from web.helpers import PASSWORD, fifo_settings, running, wait_for

GUESSERS = [f"127.0.1.{n}" for n in range(1, 21)]  # 20 addresses
CEILING = 30  # lower than the default 100, so that the flood reaching it costs fewer hashes


@pytest.fixture
def kiosk(tmp_path: Path, store: Store) -> Iterator[tuple[Daemon, Path]]:
    """A running daemon with its pages on loopback, the librarian's password set from the
    shell, and the config file the shell's `kiosk` commands read."""
    store.close()
    web = {"listen": "127.0.0.1:0", "login_ceiling": CEILING, "threads": 12}
    settings, _ = fifo_settings(tmp_path, web=web)
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "kiosk.db"\n', encoding="utf-8")
    assert shell(config, "password", answers=f"{PASSWORD}\n{PASSWORD}\n").returncode == 0
    with running(Daemon(settings)) as daemon:
        # The limit's clock stands still, so that no wait runs out during the test.
        now = daemon.web.app.extensions["kiosk"].logins.clock()
        daemon.web.app.extensions["kiosk"].logins.clock = lambda: now
        yield daemon, config


def shell(config: Path, *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
    """Run `kiosk ARGS` as the IT person does at the kiosk's shell."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KIOSK_LANG": "en"},
    )


class Guessing:
    """Each of 20 addresses guesses the librarian's password once, then tries other names,
    `per_address` wrong guesses in all; every answer's status is counted."""

    def __init__(self, port: int, per_address: int = 6) -> None:
        self.port, self.per_address = port, per_address
        self.answers: Counter[int] = Counter()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._guess, args=(a,)) for a in GUESSERS]

    def _guess(self, address: str) -> None:
        b = Browser(self.port, source=address)
        token = b.token()
        for n in range(self.per_address):
            user = "librarian" if n == 0 else f"admin{n}"
            form = {"csrf_token": token, "user": user, "password": f"guess {address} {n}"}
            status = b.request("POST", "/admin/login", form=form)[0]
            with self._lock:
                self.answers[status] += 1

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(120)


def test_guessing_from_20_addresses_does_not_lock_out_the_librarian(
    kiosk: tuple[Daemon, Path],
) -> None:
    daemon, config = kiosk
    port = daemon.web.port
    office = Browser(port, source="127.0.0.9")  # the librarian's own computer
    assert office.login("librarian", PASSWORD)[0] == 302

    guessing = Guessing(port)
    guessing.start()
    # Once the guessers are being refused, the librarian logs in at the office all the same.
    wait_for(lambda: guessing.answers[429] > 0, timeout=60)
    office = Browser(port, source="127.0.0.9")
    status, headers = office.login("librarian", PASSWORD)
    assert (status, headers["Location"]) == (302, "/admin/")
    assert office.get("/admin/")[0] == 200
    guessing.join()
    assert sum(guessing.answers.values()) == len(GUESSERS) * guessing.per_address
    # Every guess was refused; the ceiling stopped all but 30 of them before the password check.
    assert guessing.answers == {401: CEILING, 429: len(GUESSERS) * guessing.per_address - CEILING}

    # From a computer never used before, the right password waits too, and says what to do.
    laptop = Browser(port, source="127.0.0.50")
    t = laptop.token()
    status, _, html, _ = laptop.request(
        "POST", "/admin/login", form={"csrf_token": t, "user": "librarian", "password": PASSWORD}
    )
    assert status == 429
    assert "kiosk password --unlock" in html

    # The IT person unlocks the librarian at the kiosk's shell; the password stays.
    done = shell(config, "password", "--unlock")
    assert done.returncode == 0, done.stderr
    assert "librarian can log in again now" in done.stdout
    status, headers = laptop.login("librarian", PASSWORD)
    assert (status, headers["Location"]) == (302, "/admin/")
    assert laptop.get("/admin/")[0] == 200


def test_guessing_one_account_backs_it_off_across_addresses(kiosk: tuple[Daemon, Path]) -> None:
    daemon, config = kiosk
    port = daemon.web.port
    answers = []
    for address in GUESSERS:  # one guess each: no address reaches its own count
        b = Browser(port, source=address)
        form = {"csrf_token": b.token(), "user": "librarian", "password": f"guess {address}"}
        answers.append(b.request("POST", "/admin/login", form=form)[0])
    # Five wrong guesses in a row are checked at once, the sixth too, and it starts the wait.
    assert answers == [401] * 6 + [429] * 14
    # An address trusted from the shell (the librarian's new computer) is not held up.
    assert shell(config, "password", "--unlock", "--address", "127.0.0.60").returncode == 0
    for address in GUESSERS[:8]:  # the guessing goes on after the unlock
        b = Browser(port, source=address)
        form = {"csrf_token": b.token(), "user": "librarian", "password": "guess again"}
        b.request("POST", "/admin/login", form=form)
    assert Browser(port, source="127.0.0.61").login("librarian", PASSWORD)[0] == 429  # backs off
    status, headers = Browser(port, source="127.0.0.60").login("librarian", PASSWORD)
    assert (status, headers["Location"]) == (302, "/admin/")


def test_unlock_names_a_librarian_that_exists(kiosk: tuple[Daemon, Path]) -> None:
    _, config = kiosk
    nobody = shell(config, "password", "--unlock", "--user", "nobody")
    assert nobody.returncode == 1 and "There is no librarian called nobody." in nobody.stderr
    bad = shell(config, "password", "--unlock", "--address", "the office")
    assert bad.returncode == 1 and "the office is not an address" in bad.stderr
