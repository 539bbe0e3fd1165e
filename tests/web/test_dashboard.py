"""The dashboard's questions to the store, and the SVG charts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kiosk.circulation import dashboard
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.stats import overdue as chase
from kiosk.daemon.app import Daemon
from kiosk.web.admin.charts import bars, columns

TZ = ZoneInfo("Asia/Shanghai")


def lend(daemon: Daemon, card: str, *books: str) -> None:
    daemon.kiosk.scan(card)
    for b in books:
        daemon.kiosk.scan(b)
    daemon.kiosk.done()


def test_counts_per_day_class_and_title(daemon: Daemon, clock: FakeClock) -> None:
    lend(daemon, "0F00A1B2C3", "9787020002207", "9787535449450")
    clock.advance(days=1)
    lend(daemon, "0F00A1B2C5", "9787544270878")
    store = daemon.store
    today = dt.date(2026, 11, 3)
    assert dashboard.local_today(store, TZ) == today
    per_day = dashboard.loans_per_day(store, TZ, dt.date(2026, 11, 1), today)
    assert per_day == [
        (dt.date(2026, 11, 1), 0),
        (dt.date(2026, 11, 2), 2),
        (dt.date(2026, 11, 3), 1),
    ]
    assert dashboard.loans_per_class(store, TZ, dt.date(2026, 11, 1)) == [
        ("三(2)班", 2),
        ("五(1)班", 1),
    ]
    assert dashboard.top_books(store, TZ, dt.date(2026, 11, 1), 2) == [
        ("Charlotte's Web", 1),
        ("小王子", 1),
    ]
    day = dashboard.today(store, TZ)
    assert (day["loans"], day["returns"]) == (1, 0)
    assert [r["title"] for r in day["recent"]] == ["Charlotte's Web"]


def test_a_late_evening_loan_counts_on_the_local_day(daemon: Daemon, clock: FakeClock) -> None:
    clock.advance(hours := 14 * 3600)  # 23:00 in Beijing, 15:00 UTC
    assert hours
    lend(daemon, "0F00A1B2C3", "9787020002207")
    per_day = dashboard.loans_per_day(daemon.store, TZ, dt.date(2026, 11, 2), dt.date(2026, 11, 2))
    assert per_day == [(dt.date(2026, 11, 2), 1)]


def test_overdue_by_class_and_event_filters(daemon: Daemon, clock: FakeClock) -> None:
    lend(daemon, "0F00A1B2C3", "9787020002207")
    clock.advance(days=20)
    (group,) = chase.by_class(chase.overdue_loans(daemon.store, TZ))
    assert group[0] == "三(2)班"
    assert [(r["name"], r["title"], r["days_overdue"]) for r in group[1]] == [
        ("王小明", "红楼梦", 6)
    ]
    found = dashboard.events(daemon.store, type="checkout", patron_id="S001")
    assert [e["item_barcode"] for e in found] == ["9787020002207"]
    assert dashboard.events(daemon.store, type="checkout", actor="nobody") == []


def test_charts_are_svg_with_every_value() -> None:
    svg = str(columns([(dt.date(2026, 11, 2), 3), (dt.date(2026, 11, 3), 0)], "per day"))
    assert svg.startswith("<svg") and "<title>2026-11-02: 3</title>" in svg
    svg = str(bars([("三(2)班", 12), ("<b>", 3)], "per class"))
    assert "三(2)班" in svg and ">12</text>" in svg and "&lt;b&gt;" in svg
