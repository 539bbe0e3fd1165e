"""A damaged store found by the full check after start-up stops lending, loudly."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from conftest import START, add_school

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.daemon.app import Daemon
from kiosk.devices.base import Scan
from kiosk.devices.console import ConsoleIndicator


def damage_an_index(path: Path) -> None:
    """Change table rows behind an index's back: quick_check passes, integrity_check does not."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    name = "loans_period"
    row = conn.execute("SELECT rootpage, sql FROM sqlite_master WHERE name = ?", [name]).fetchone()
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("DELETE FROM sqlite_master WHERE name = ?", [name])
    conn.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("UPDATE loans SET checked_out_at = '1999-01-01T00:00:00.000Z'")
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute(
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES (?, ?, ?, ?, ?)",
        ["index", name, "loans", row[0], row[1]],
    )
    conn.close()


def test_index_damage_found_after_start_stops_lending(tmp_path: Path) -> None:
    settings = config.from_dict(
        {
            "store": {"path": str(tmp_path / "k.db")},
            "scanner": {"source": "none:"},
            "web": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    out = io.StringIO()
    first = Daemon(settings, clock=FakeClock(START), indicator=ConsoleIndicator(out))
    add_school(first.store)
    for code in ("0F00A1B2C3", "9787020002207"):
        first.handle(Scan("scanner", code))
    first.close()
    damage_an_index(tmp_path / "k.db")

    out = io.StringIO()
    daemon = Daemon(settings, clock=FakeClock(START), indicator=ConsoleIndicator(out))
    assert daemon.integrity == "checking"  # quick_check at open let it start
    daemon.check_integrity()
    assert "missing from index loans_period" in daemon.integrity
    assert daemon.health()["store_integrity"] == daemon.integrity
    daemon.handle(Scan("scanner", "0F00A1B2C4"))
    daemon.handle(Scan("scanner", "9787535449450"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("[fault] ") for line in lines)
    assert "请找小图书管理员" in lines[0] and "Please ask a library helper" in lines[0]
    assert daemon.store.value("SELECT count(*) FROM loans") == 1  # nothing more was lent
    daemon.close()
