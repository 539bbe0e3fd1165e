"""Shared fixtures: real SQLite files in a temp folder, a fake clock, a small school."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store

# A Monday in term, 09:00 in Beijing.
START = "2026-11-02T09:00:00+08:00"

PATRONS = [
    # id, name, role, grade, class, cards
    ("S001", "王小明", "student", 3, "三(2)班", ["0F00A1B2C3", "S001"]),
    ("S002", "李雨涵", "student", 1, "一(1)班", ["0F00A1B2C4"]),
    ("S003", "Tom Green", "student", 5, "五(1)班", ["0F00A1B2C5"]),
    ("H001", "张晨", "helper", 5, "五(1)班", ["0F00AAAA01"]),
    ("T001", "陈老师", "teacher", None, "三(2)班", ["0F00BBBB01"]),
]
ITEMS = [
    ("9787020002207", "红楼梦", "曹雪芹", "I242.4/1"),
    ("9787535449450", "小王子", "圣埃克苏佩里", "I565.88/2"),
    ("9787544270878", "Charlotte's Web", "E. B. White", "I712.85/3"),
    ("9787530215982", "草房子", "曹文轩", "I287.45/4"),
    ("9787020024759", "西游记", "吴承恩", "I242.4/5"),
]


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> config.Settings:
    """Settings with the store in a temp folder and no devices."""
    return config.from_dict(
        {
            "store": {"path": str(tmp_path / "kiosk.db")},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
        },
        base_dir=tmp_path,
    )


@pytest.fixture
def store(settings: config.Settings, clock: FakeClock) -> Iterator[Store]:
    """A real store file with default rules and the small school in it."""
    s = open_store(settings, clock)
    add_school(s)
    yield s
    s.close()


def add_school(store: Store) -> None:
    """Put the small test school into a store."""
    with store.write() as db:
        for pid, name, role, grade, cls, cards in PATRONS:
            row = {"id": pid, "name": name, "role": role, "grade": grade, "class_name": cls}
            put_patron(db, row, cards, store.now())
        for barcode, title, author, call in ITEMS:
            row = {"barcode": barcode, "title": title, "author": author, "call_number": call}
            put_item(db, row, store.now())


@pytest.fixture
def circulation(store: Store) -> Circulation:
    """The circulation service on the test store."""
    return Circulation(store, "Asia/Shanghai")


@pytest.fixture
def kiosk(circulation: Circulation, clock: FakeClock) -> Kiosk:
    """A session state machine with default timeouts."""
    return Kiosk(circulation, clock)


# What makes a test `slow` (left out by `make test-quick`): a fixture that starts headless
# Chromium, a running daemon on loopback or a hub process, named by the conftest that defines
# it (`kiosk` is also the session state machine above, which is quick). Modules that start
# processes of their own say `pytestmark = pytest.mark.slow` themselves; see docs/testing.md.
SLOW_FIXTURES = {
    ("web.conftest", "browser"),
    ("web.conftest", "kiosk"),
    ("web.conftest", "live"),
    ("sync.conftest", "hub"),
    ("sip2.conftest", "acs"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test whose fixtures start Chromium, a daemon or a hub."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        defined = {
            (d.func.__module__, name)
            for name, defs in info.name2fixturedefs.items()
            for d in defs[-1:]  # the definition this test gets
        }
        if defined & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
