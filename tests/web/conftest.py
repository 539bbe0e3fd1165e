"""Web fixtures: a daemon on the small school (no devices) and the app on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kiosk import config
from kiosk.app import Daemon
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.store import Store
from kiosk.web import create_app
from web.helpers import LOOPBACK


@pytest.fixture
def web_settings(settings: config.Settings) -> config.Settings:
    """The shared test settings, with the web server left to each test."""
    web = dataclasses.replace(settings.web, enabled=False, login_attempts=3)
    return dataclasses.replace(settings, web=web)


@pytest.fixture
def daemon(web_settings: config.Settings, clock: FakeClock, store: Store) -> Iterator[Daemon]:
    """A daemon (no devices, no server) on the store with the small school."""
    d = Daemon(web_settings, clock=clock)
    yield d
    d.store.close()


@pytest.fixture
def app(daemon: Daemon, web_settings: config.Settings) -> Flask:
    """The app on the daemon; admin allowed from loopback only."""
    return create_app(store=daemon.store, settings=web_settings, daemon=daemon, networks=LOOPBACK)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser from loopback."""
    return app.test_client()
