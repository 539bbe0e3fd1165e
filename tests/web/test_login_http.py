"""The librarian's login over real HTTP: redirects, the attempt limit, ending sessions, cookies."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk import config
from kiosk.circulation.store import Store
from kiosk.web import create_app
from kiosk.web.server import WebServer
from web.clients import Browser

PASSWORD = "correct horse battery"


@pytest.fixture
def server(settings: config.Settings, store: Store) -> Iterator[WebServer]:
    """The pages on a store, served by waitress on loopback, with a librarian account."""
    web = dataclasses.replace(settings.web, login_attempts=5, trusted_proxy="127.0.0.1", threads=12)
    s = dataclasses.replace(settings, web=web)
    app = create_app(store=store, settings=s)
    app.extensions["kiosk"].passwords.set("librarian", PASSWORD)
    srv = WebServer(app, "127.0.0.1:0", threads=12, per_address=40, trusted_proxy="127.0.0.1")
    srv.start()
    yield srv
    srv.stop()


def test_next_after_login_is_only_a_path_of_this_site(server: WebServer) -> None:
    for hostile in (
        "/\t/evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
    ):
        status, headers = Browser(server.port).login("librarian", PASSWORD, next_=hostile)
        assert (status, headers["Location"]) == (302, "/admin/"), hostile
    status, headers = Browser(server.port).login("librarian", PASSWORD, next_="/admin/overdue")
    assert (status, headers["Location"]) == (302, "/admin/overdue")


def test_the_limit_is_counted_before_the_hash_and_spares_the_owner_elsewhere(
    server: WebServer,
) -> None:
    guesser = Browser(server.port)
    token = guesser.token()
    answers: list[int] = []

    def guess(n: int) -> None:
        status, _, _, _ = guesser.request(
            "POST",
            "/admin/login",
            form={"csrf_token": token, "user": "librarian", "password": f"guess {n}"},
        )
        answers.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Exactly the allowed five were checked; the other 25 were refused before the hash.
    assert sorted(answers) == [401] * 5 + [429] * 25
    assert guesser.login("librarian", PASSWORD)[0] == 429
    owner = Browser(server.port, source="127.0.0.2")
    status, headers = owner.login("librarian", PASSWORD)
    assert (status, headers["Location"]) == (302, "/admin/")
    assert owner.get("/admin/")[0] == 200


def logged_in(port: int, source: str = "127.0.0.1") -> Browser:
    b = Browser(port, source=source)
    assert b.login("librarian", PASSWORD)[0] == 302
    assert b.get("/admin/")[0] == 200
    return b


def test_logout_ends_every_session_of_that_librarian(server: WebServer) -> None:
    office, library = logged_in(server.port), logged_in(server.port, "127.0.0.2")
    stolen = Browser(server.port, source="127.0.0.3", cookies=dict(library.cookies))
    assert stolen.get("/admin/")[0] == 200
    office.request("POST", "/admin/logout", form={"csrf_token": office.token("/admin/")})
    for b in (office, library, stolen):
        status, headers, _, _ = b.get("/admin/")
        assert (status, headers["Location"].split("?")[0]) == (302, "/admin/login")


def test_a_password_change_ends_the_other_sessions(server: WebServer) -> None:
    office, library = logged_in(server.port), logged_in(server.port, "127.0.0.2")
    new = "a new long password"
    status, _, _, _ = office.request(
        "POST",
        "/admin/password",
        form={
            "csrf_token": office.token("/admin/password"),
            "current": PASSWORD,
            "password": new,
            "again": new,
        },
    )
    assert status == 302
    assert office.get("/admin/")[0] == 200  # the browser that changed it goes on
    assert library.get("/admin/")[0] == 302
    assert Browser(server.port).login("librarian", new)[0] == 302


def cookie_of(lines: list[str]) -> str:
    found = [line for line in lines if line.startswith("kiosk_session=")]
    assert found, lines
    return found[0]


@pytest.mark.parametrize(
    ("source", "proto", "secure"),
    [
        ("127.0.0.1", "https", True),  # through the trusted reverse proxy, over HTTPS
        ("127.0.0.1", None, False),  # plain HTTP on the school network
        ("127.0.0.2", "https", False),  # anyone else's header is not believed
    ],
)
def test_the_cookie_is_secure_over_https_behind_the_proxy(
    server: WebServer, source: str, proto: str | None, secure: bool
) -> None:
    headers: dict[str, Any] = {"X-Forwarded-Proto": proto} if proto else {}
    b = Browser(server.port, source=source)
    _, _, _, cookies = b.get("/admin/login", headers=headers)
    line = cookie_of(cookies)
    assert ("; Secure" in line) is secure
    assert "HttpOnly" in line and "SameSite=Lax" in line
