"""The kiosk's monitoring API answers as kiosk/web/api/openapi.yaml says: schemathesis generates
requests from the spec (right ones and wrong ones) and checks every answer of a running kiosk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

import kiosk.web.api
from kiosk.daemon.app import Daemon
from web.clients import Browser
from web.helpers import PASSWORD, fifo_settings, running

SCHEMA = schemathesis.openapi.from_path(Path(kiosk.web.api.__file__).parent / "openapi.yaml")


@pytest.fixture(scope="module")
def kiosk_at(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running kiosk with its pages on loopback; its URL and a logged-in librarian's cookies."""
    settings, _ = fifo_settings(tmp_path_factory.mktemp("kiosk"))
    with running(Daemon(settings)) as daemon:
        daemon.web.app.extensions["kiosk"].passwords.set("librarian", PASSWORD)
        librarian = Browser(daemon.web.port)
        assert librarian.login("librarian", PASSWORD)[0] == 302
        yield daemon.web.url, librarian.cookies


@SCHEMA.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests each run: `make test` is repeatable
    suppress_health_check=list(HealthCheck),
)
def test_the_kiosk_answers_as_its_spec_says(
    case: schemathesis.Case, kiosk_at: tuple[str, dict[str, str]]
) -> None:
    url, cookies = kiosk_at
    case.call_and_validate(base_url=url, cookies=cookies)  # status: the librarian's
