"""A librarian changes their password; the IT person resets a forgotten one from the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskClient

from kiosk.daemon.app import Daemon
from web.helpers import PASSWORD, set_up_and_login, text, token

NEW = "a new and long password"


def change(client: FlaskClient, current: str, new: str, again: str) -> tuple[int, str]:
    t = token(client, "/admin/password")
    r = client.post(
        "/admin/password",
        data={"csrf_token": t, "current": current, "password": new, "again": again},
    )
    return r.status_code, text(r)


def login(client: FlaskClient, password: str) -> int:
    t = token(client, "/admin/login")
    r = client.post(
        "/admin/login", data={"csrf_token": t, "user": "librarian", "password": password}
    )
    return r.status_code


def test_change_asks_for_the_current_password_and_records_who(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    status, page = change(client, "wrong one", NEW, NEW)
    assert status == 400 and "当前密码不正确。" in page
    assert "至少" in change(client, PASSWORD, "short", "short")[1]
    assert "不一样" in change(client, PASSWORD, NEW, NEW + "!")[1]
    status, _ = change(client, PASSWORD, NEW, NEW)
    assert status == 302
    events = daemon.store.query(
        "SELECT actor, data FROM events WHERE type = 'admin_password_changed'"
    )
    assert events == [{"actor": "librarian:librarian", "data": '{"user": "librarian"}'}]
    client.post("/admin/logout", data={"csrf_token": token(client, "/admin/")})
    assert login(client, PASSWORD) == 401  # the old one no longer opens the dashboard
    assert login(client, NEW) == 302


def test_guessing_the_current_password_is_limited_like_the_login(client: FlaskClient) -> None:
    set_up_and_login(client)
    statuses = [change(client, f"guess {i}", NEW, NEW)[1] for i in range(8)]
    assert "密码错误次数太多" in statuses[-1]
    assert change(client, PASSWORD, NEW, NEW)[0] == 400  # even the right one waits now


def test_the_it_person_resets_a_forgotten_password(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "k.db"\n', encoding="utf-8")

    def run(answers: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", "--config", str(config), "password", *args],
            input=answers,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "KIOSK_LANG": "en"},
        )

    bad = run("short\nshort\n")
    assert bad.returncode == 1 and "at least 8 characters" in bad.stderr
    assert not (tmp_path / "web-passwords.json").exists()
    ok = run(f"{NEW}\n{NEW}\n", "--user", "liu")
    assert ok.returncode == 0 and "Password set for liu." in ok.stdout
    from kiosk import config as cfg
    from kiosk.web.security import Passwords

    s = cfg.load(config)
    assert Passwords(s.resolve(s.web.password_file)).check("liu", NEW)
