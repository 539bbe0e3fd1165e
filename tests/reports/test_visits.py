"""Visits: a student's card opening a session at the kiosk is one visit in the reading figures."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from daemon.test_daemon import KioskProcess, daemon, kiosk_cmd, kiosk_config

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.session import Kiosk
from kiosk.circulation.stats import month, reading
from kiosk.circulation.store import Store

TZ = ZoneInfo("Asia/Shanghai")
CARD, CARD_TOM, HELPER, TEACHER = "0F00A1B2C3", "0F00A1B2C5", "0F00AAAA01", "0F00BBBB01"
RED, PRINCE = "9787020002207", "9787535449450"
NOVEMBER = month(2026, 11)
__all__ = ["daemon", "kiosk_config"]  # the running kiosk's fixtures (tests/daemon/test_daemon.py)


def visits(store: Store) -> dict[str, int]:
    """Return the visits of each class in November, as the reports count them."""
    return {c.name: c.visits for c in reading.by_class(store, NOVEMBER, TZ)}


def visit_log(store: Store) -> list[tuple[str, str]]:
    rows = store.query("SELECT patron_id, actor FROM events WHERE type = 'visit' ORDER BY seq")
    return [(r["patron_id"], r["actor"]) for r in rows]


def test_a_card_tap_is_one_visit_and_a_desk_session_is_none(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    assert kiosk.scan(CARD).reason == "session_started"
    assert visit_log(store) == [("S001", "S001")]
    assert visits(store) == {"一(1)班": 0, "三(2)班": 1, "五(1)班": 0}
    kiosk.scan(CARD)  # the same card again in its open session: the same visit
    kiosk.scan(RED)
    assert visits(store)["三(2)班"] == 1
    # A helper's desk mode and a lend-for are the helper's work, not Tom's visit.
    assert kiosk.scan(HELPER).reason == "desk_opened"
    assert kiosk.scan(CARD_TOM).reason == "lend_for"
    assert kiosk.scan(PRINCE).kind == "ok"
    assert visit_log(store) == [("S001", "S001")]
    clock.advance(301)
    kiosk.tick()
    kiosk.scan(TEACHER)  # a teacher's visit is logged, but teachers are on no class roll
    clock.advance(60)
    kiosk.tick()
    kiosk.scan(CARD)  # back for a second session, borrowing nothing
    assert [p for p, _ in visit_log(store)] == ["S001", "T001", "S001"]
    assert visits(store) == {"一(1)班": 0, "三(2)班": 2, "五(1)班": 0}
    school = reading.total(reading.by_class(store, NOVEMBER, TZ), "school")
    assert (school.loans, school.visits) == (2, 2)


def test_a_visit_that_cannot_be_written_still_opens_the_session(
    kiosk: Kiosk, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.write() as db:
        db.execute(
            "CREATE TRIGGER no_visits BEFORE INSERT ON events WHEN NEW.type = 'visit' "
            "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
    with caplog.at_level(logging.ERROR, logger="kiosk.circulation.session"):
        fb = kiosk.scan(CARD)
    assert (fb.kind, fb.params) == ("session_started", {"name": "小明"})
    assert "could not record the visit of S001" in caplog.text
    assert kiosk.scan(RED).kind == "ok"  # the child borrows as usual
    assert visit_log(store) == []
    assert store.value("SELECT count(*) FROM loans WHERE patron_id = 'S001'") == 1


def test_a_card_tap_at_the_running_kiosk_is_a_visit_in_kiosk_report_classes(
    daemon: KioskProcess, kiosk_config: Path
) -> None:
    assert daemon.ask(CARD).startswith("[session_started] ")
    today = dt.datetime.now(TZ).date()
    span = ("--from", str(today - dt.timedelta(days=1)), "--to", str(today + dt.timedelta(days=1)))
    done = kiosk_cmd(kiosk_config, "report", "classes", *span)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if "班" in line}
    assert rows["三(2)班"][-1] == "1" and rows["三(2)班"][2] == "0"  # a visit, no loan
    assert rows["五(1)班"][-1] == "0"
    assert daemon.stop() == 0
