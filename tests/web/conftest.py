"""Web fixtures: a daemon on the small school (no devices) and the app on it; for the page tests,
one headless Chromium a module and a running kiosk (FIFO scans, waitress on loopback).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.daemon.app import Daemon, open_store
from kiosk.web import create_app
from web.chromium import chromium
from web.helpers import LOOPBACK, fifo_settings, running, running_daemon

# The running kiosk's school: four card holders, five books (two lent a month ago).
SCHOOL = [
    ("S001", "王小明", "student", 3, "三(2)班", "0F00A1B2C3"),
    ("S002", "李雨涵", "student", 4, "四(1)班", "0F00A1B2C4"),
    ("S003", "Tom Green", "student", 5, "五(1)班", "0F00A1B2C5"),
    ("H001", "张晨", "helper", 5, "五(1)班", "0F00AAAA01"),
]
BOOKS = [
    ("9787020002207", "红楼梦"),
    ("9787535449450", "小王子"),
    ("9787544270878", "Charlotte's Web"),
    ("9787530215982", "草房子"),
    ("9787020024759", "西游记"),
]


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for every test of a module."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running daemon with a FIFO scan source and its pages on a free loopback port."""
    folder = tmp_path_factory.mktemp("e2e")
    settings, fifo = fifo_settings(
        folder, kiosk={"session_timeout_s": 4.0, "session_after_result_s": 4.0}
    )
    # The school, and two loans made a month ago that are overdue now.
    month_ago = FakeClock(
        time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 30 * 86400))
    )
    store = open_store(settings, month_ago)
    with store.write() as db:
        for pid, name, role, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title in BOOKS:
            put_item(db, {"barcode": barcode, "title": title}, store.now())
    circulation = Circulation(store)
    assert circulation.checkout("S002", "9787530215982").ok
    assert circulation.checkout("S003", "9787544270878").ok
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w") as fifo_out:
        # The FIFO is kept open for the module: the daemon reads scans line by line.
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon, "folder": folder}


@pytest.fixture
def live(tmp_path: Path, store: Store) -> Iterator[Daemon]:
    """A daemon on the small school with its web server on a free loopback port."""
    store.close()
    daemon, stop, thread = running_daemon(tmp_path, "127.0.0.1:0")
    yield daemon
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "the daemon did not stop"
