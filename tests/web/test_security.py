"""Password file, secret key, login limits and networks."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from kiosk import config
from kiosk.web.security import (
    LoginLimit,
    Passwords,
    allowed,
    local_networks,
    parse_networks,
    secret_key,
)


def test_passwords_are_hashed_in_a_private_file(tmp_path: Path) -> None:
    pw = Passwords(tmp_path / "web-passwords.json")
    assert not pw.is_set_up()
    pw.set("librarian", "a long secret")
    assert pw.is_set_up() and pw.users() == ["librarian"]
    assert pw.check("librarian", "a long secret")
    assert not pw.check("librarian", "a long secreT")
    assert not pw.check("nobody", "a long secret")
    text = (tmp_path / "web-passwords.json").read_text()
    assert "a long secret" not in text
    assert "scrypt:" in text or "pbkdf2:" in text
    assert stat.S_IMODE((tmp_path / "web-passwords.json").stat().st_mode) == 0o600


def test_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "web-secret.key"
    key = secret_key(path)
    assert len(key) == 64 and secret_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_login_attempts_are_counted_per_account_and_address_for_a_window() -> None:
    now = [100.0]
    limit = LoginLimit(attempts=2, window_s=0.3, ceiling=7, clock=lambda: now[0])
    assert limit.begin("anna", "10.0.0.5") == 0
    assert limit.begin("Anna", "10.0.0.5") == 0  # the same account, however it is typed
    assert limit.begin("anna", "10.0.0.5") >= 1.0
    assert limit.begin("anna", "10.0.0.6") == 0  # the owner elsewhere is not held up
    limit.succeeded("anna", "10.0.0.6")
    assert limit.begin("bert", "10.0.0.5") == 0
    assert limit.begin("carl", "10.0.0.5") == 0
    assert limit.begin("dora", "10.0.0.5") == 0
    assert limit.begin("emil", "10.0.0.5") == 0
    assert limit.begin("fred", "10.0.0.5") == 0  # two per pair, at most 8 per address: 7 now
    assert limit.begin("gina", "10.0.0.7") >= 1.0  # the ceiling (7) holds for everyone
    now[0] += 0.29
    assert limit.begin("anna", "10.0.0.5") >= 1.0  # still inside the window
    now[0] += 0.02
    assert limit.begin("anna", "10.0.0.5") == 0  # the window has passed


def test_networks_and_addresses() -> None:
    nets = parse_networks(["192.168.10.0/24"])
    assert allowed("192.168.10.77", nets)
    assert allowed("::ffff:192.168.10.77", nets)
    assert not allowed("192.168.11.1", nets)
    assert not allowed("not an address", nets)
    assert not allowed(None, nets)
    local = local_networks()
    assert ipaddress.ip_network("127.0.0.0/8") in local
    assert allowed("127.0.0.1", parse_networks(["local"]))


def test_a_bad_network_in_the_config_is_named() -> None:
    with pytest.raises(config.ConfigError, match=r"\[web\] admin_networks: '10.0.0.0/33'"):
        config.from_dict({"web": {"admin_networks": ["10.0.0.0/33"]}})


def test_an_account_backs_off_across_addresses_but_not_at_its_own_computer(
    tmp_path: Path,
) -> None:
    now = [100.0]
    passwords = Passwords(tmp_path / "pw.json")
    passwords.set("anna", "a long password")
    limit = LoginLimit(2, window_s=60, ceiling=1000, clock=lambda: now[0], accounts=passwords)
    assert limit.begin("anna", "10.0.0.9") == 0
    limit.succeeded("anna", "10.0.0.9")  # her computer, from now on
    assert passwords.known("anna") == ["10.0.0.9"]
    # Two wrong guesses are free, the third starts a wait that doubles with each attempt.
    assert [limit.begin("anna", f"10.0.1.{n}") for n in range(3)] == [0, 0, 0]
    assert limit.begin("anna", "10.0.1.3") == 2.0
    now[0] += 2
    assert limit.begin("anna", "10.0.1.4") == 0
    assert limit.begin("anna", "10.0.1.5") == 4.0
    assert limit.begin("anna", "10.0.0.9") == 0  # her own computer is not held up
    passwords.unlock("anna")  # `kiosk password --unlock`
    assert limit.begin("anna", "10.0.1.5") == 0
    now[0] += 61 + 4  # a quiet window: the count starts again
    assert [limit.begin("anna", f"10.0.2.{n}") for n in range(3)] == [0, 0, 0]
