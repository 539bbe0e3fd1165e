"""Properties of circulation that hold whatever students, helpers and the clock do.

A hypothesis state machine drives the real service and session over a real SQLite file: card and
book scans, direct checkouts, checkins and renewals, the done button, and time passing (seconds
and days), under drawn rules and term calendars. After every step:

- no item is on loan twice, and an item is `on_loan` exactly when it has an open loan;
- no patron has more open loans than `Rules.limits` allows;
- every change is exactly one event of its kind carrying the result's UUID, every loan has its
  checkout event, and a refused action adds no event and changes no row;
- a due date is never before the day of the loan, never on a closed day and never after the end of
  term (without holiday loans), except that a loan made after term end, or when no open day is
  left in term, is due on its own day.

Direct actions are also checked against a small model of the rules (what should be allowed), so
a service that refused everything would fail too.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import PATRONS, START, add_school
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kiosk import config
from kiosk.circulation.clock import FakeClock, stamp
from kiosk.circulation.records import put_item, set_patron_status, set_rules
from kiosk.circulation.rules import load_rules
from kiosk.circulation.service import Circulation, Result
from kiosk.circulation.session import Feedback, Kiosk
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store

TZ = ZoneInfo("Asia/Shanghai")
PATRON_IDS = [p[0] for p in PATRONS]
CARDS = {p[0]: p[5][0] for p in PATRONS}
# The small school's five books and a few more, so a teacher can reach the limit.
EXTRA_ITEMS = [f"97800000000{n:02d}" for n in range(1, 6)]
TERM_START = dt.date(2026, 11, 2)

TABLES = ("loans", "items", "cards", "patrons")


def local_day(when: str) -> dt.date:
    return dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(TZ).date()


@st.composite
def rules_configs(draw: st.DrawFn) -> config.RulesSettings:
    """Draw a [rules] section: limits, renewals, term end, closed weekdays and holidays."""
    term_end = draw(st.none() | st.integers(3, 60).map(lambda d: TERM_START + dt.timedelta(d)))
    holidays = draw(
        st.lists(
            st.integers(0, 70).map(lambda d: TERM_START + dt.timedelta(d)), max_size=8, unique=True
        )
    )
    return config.RulesSettings(
        loan_days={"student": draw(st.integers(1, 21)), "teacher": 30, "helper": 14},
        max_loans={"student": draw(st.integers(1, 3)), "teacher": 4, "helper": 2},
        max_loans_by_grade=draw(st.sampled_from([{}, {"1": 1}, {"1": 1, "3": 2}])),
        renewals=draw(st.integers(0, 2)),
        block_when_overdue=draw(st.booleans()),
        holiday_loans=draw(st.booleans()),
        term_end=term_end.isoformat() if term_end else "",
        closed_weekdays=draw(st.sampled_from([[6, 7], [7], [], [3, 6, 7]])),
        closed_days=[d.isoformat() for d in holidays],
    )


class Circulating(RuleBasedStateMachine):
    """Students, helpers and time acting on one kiosk's store."""

    def __init__(self) -> None:
        super().__init__()
        # Thousands of small commits: on a RAM disk when there is one, since these tests are
        # about logic, not fsync (the crash test and bench.latency use a real disk).
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.folder = tempfile.TemporaryDirectory(prefix="kiosk-prop-", dir=shm)
        base = Path(self.folder.name)
        s = config.from_dict(
            {"store": {"path": str(base / "kiosk.db")}, "scanner": {"source": "none:"}},
            base_dir=base,
        )
        self.clock = FakeClock(START)
        self.store: Store = open_store(s, self.clock)
        add_school(self.store)
        with self.store.write() as db:
            for barcode in EXTRA_ITEMS:
                put_item(
                    db, {"barcode": barcode, "title": f"Book {barcode[-2:]}"}, self.store.now()
                )
        self.items = [r["barcode"] for r in self.store.query("SELECT barcode FROM items")]
        self.circulation = Circulation(self.store, "Asia/Shanghai")
        self.kiosk = Kiosk(self.circulation, self.clock)
        self.checked = 0

    def teardown(self) -> None:
        self.store.close()
        self.folder.cleanup()

    # -- helpers ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        rows = {t: self.store.query(f"SELECT * FROM {t} ORDER BY 1") for t in TABLES}
        # A card tap's visit changes no table: it is checked in tap_card, not as a change.
        rows["events"] = self.store.value("SELECT count(*) FROM events WHERE type != 'visit'")
        return rows

    def open_loans(self, patron_id: str) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT * FROM loans WHERE patron_id = ? AND returned_at IS NULL", [patron_id]
        )

    def open_loan(self, barcode: str) -> dict[str, Any] | None:
        rows = self.store.query(
            "SELECT * FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [barcode]
        )
        return rows[0] if rows else None

    def check_result(self, before: dict[str, Any], result: Result | None) -> None:
        """An ok result is one event of its kind with its UUID; anything else changes nothing."""
        after = self.snapshot()
        if result is None or not result.ok:
            assert after == before
            return
        assert result.event is not None
        assert after["events"] == before["events"] + 1
        rows = self.store.query("SELECT * FROM events WHERE uuid = ?", [result.event.uuid])
        assert len(rows) == 1
        assert rows[0]["type"] == result.action
        assert rows[0]["item_barcode"] == (result.item.barcode if result.item else None)
        self.checked += 1

    def check_feedback(self, before: dict[str, Any], fb: Feedback) -> None:
        # A repeated scan shows the earlier result again: it must not act a second time.
        self.check_result(before, None if fb.repeated else fb.result)

    def expected_checkout(self, patron_id: str, barcode: str) -> str:
        rules = load_rules(self.store.reader)
        patron = self.circulation.patron(patron_id)
        assert patron is not None
        loans = self.open_loans(patron_id)
        if patron.status != "active":
            return "patron_blocked"
        if self.open_loan(barcode):
            return "on_loan_to_other"
        now = stamp(self.clock.now())
        if rules.block_when_overdue and any(r["due_at"] < now for r in loans):
            return "has_overdue"
        if len(loans) >= rules.limits(patron).max_loans:
            return "limit_reached"
        return "ok"

    # -- set-up ----------------------------------------------------------------------------

    @initialize(rules=rules_configs())
    def use_rules(self, rules: config.RulesSettings) -> None:
        set_rules(self.store, rules, actor="test")

    # -- what people do --------------------------------------------------------------------

    @rule(patron_id=st.sampled_from(PATRON_IDS))
    def tap_card(self, patron_id: str) -> None:
        before = self.snapshot()
        visits = self.store.value("SELECT count(*) FROM events WHERE type = 'visit'")
        patron = self.circulation.patron(patron_id)
        assert patron is not None
        active = patron.status == "active"
        own = self.kiosk.patron
        again = (
            self.kiosk.mode == "patron"
            and own is not None
            and own.id == patron_id
            and (self.kiosk.seconds_left() or 0) > 0
        )
        fb = self.kiosk.scan(CARDS[patron_id])
        # One visit when a student's own session opens; none for desk mode, lend-for or a re-tap.
        opened = fb.mode == "patron" and fb.kind == "session_started" and not again
        added = self.store.value("SELECT count(*) FROM events WHERE type = 'visit'") - visits
        assert added == (1 if opened else 0)
        # A blocked helper may still leave lending-for mode with their own card.
        assert fb.kind == "session_started" if active else fb.kind in ("error", "session_started")
        self.check_feedback(before, fb)

    @rule(patron_id=st.sampled_from(PATRON_IDS), status=st.sampled_from(["active", "blocked"]))
    def librarian_sets_status(self, patron_id: str, status: str) -> None:
        before = self.store.value("SELECT count(*) FROM events")
        event = set_patron_status(self.store, patron_id, status, actor="librarian")
        assert self.store.value("SELECT count(*) FROM events") == before + 1
        assert self.store.value("SELECT type FROM events WHERE uuid = ?", [event.uuid]) == (
            "patron_status"
        )

    @rule(index=st.integers(0, 9))
    def scan_book(self, index: int) -> None:
        before = self.snapshot()
        fb = self.kiosk.scan(self.items[index])
        self.check_feedback(before, fb)

    @rule(code=st.sampled_from(["", "NOPE-123", "\x1b[A", "9" * 200, "bad\ufffd"]))
    def scan_rubbish(self, code: str) -> None:
        before = self.snapshot()
        fb = self.kiosk.scan(code)
        assert fb.kind in ("warning", "error")
        self.check_feedback(before, fb)

    @rule()
    def press_done(self) -> None:
        before = self.snapshot()
        self.kiosk.done()
        self.check_result(before, None)

    @rule(patron_id=st.sampled_from(PATRON_IDS), index=st.integers(0, 9))
    def checkout(self, patron_id: str, index: int) -> None:
        barcode = self.items[index]
        expected = self.expected_checkout(patron_id, barcode)
        before = self.snapshot()
        r = self.circulation.checkout(patron_id, barcode)
        assert r.reason == expected
        self.check_result(before, r)

    @rule(index=st.integers(0, 9))
    def checkin(self, index: int) -> None:
        barcode = self.items[index]
        was_on_loan = self.open_loan(barcode) is not None
        before = self.snapshot()
        r = self.circulation.checkin(barcode)
        assert r.ok == was_on_loan
        self.check_result(before, r)

    @rule(patron_id=st.sampled_from(PATRON_IDS), index=st.integers(0, 9))
    def renew(self, patron_id: str, index: int) -> None:
        barcode = self.items[index]
        loan = self.open_loan(barcode)
        before = self.snapshot()
        r = self.circulation.renew(patron_id, barcode)
        if loan is None or loan["patron_id"] != patron_id:
            assert not r.ok
        else:
            rules = load_rules(self.store.reader)
            patron = self.circulation.patron(patron_id)
            assert patron is not None
            allowed = (
                patron.status == "active"
                and loan["due_at"] >= stamp(self.clock.now())
                and loan["renewals"] < rules.limits(patron).renewals
            )
            assert r.ok == allowed, r.reason
        self.check_result(before, r)

    @rule(seconds=st.integers(1, 90))
    def wait_seconds(self, seconds: int) -> None:
        before = self.snapshot()
        self.clock.advance(seconds)
        self.kiosk.tick()
        self.check_result(before, None)

    @precondition(lambda self: self.clock.now() < dt.datetime(2027, 2, 1, tzinfo=TZ))
    @rule(days=st.integers(1, 16), hours=st.integers(0, 23))
    def wait_days(self, days: int, hours: int) -> None:
        self.clock.advance(hours * 3600, days=days)
        self.kiosk.tick()

    # -- what must always hold -------------------------------------------------------------

    @invariant()
    def no_item_on_loan_twice(self) -> None:
        twice = self.store.query(
            "SELECT item_barcode FROM loans WHERE returned_at IS NULL "
            "GROUP BY item_barcode HAVING count(*) > 1"
        )
        assert twice == []
        on_loan = {
            r["barcode"]
            for r in self.store.query("SELECT barcode FROM items WHERE status = 'on_loan'")
        }
        open_items = {
            r["item_barcode"]
            for r in self.store.query("SELECT item_barcode FROM loans WHERE returned_at IS NULL")
        }
        assert on_loan == open_items

    @invariant()
    def no_patron_over_the_limit(self) -> None:
        rules = load_rules(self.store.reader)
        for patron_id in PATRON_IDS:
            patron = self.circulation.patron(patron_id)
            assert patron is not None
            assert len(self.open_loans(patron_id)) <= rules.limits(patron).max_loans

    @invariant()
    def every_change_is_one_event(self) -> None:
        counts = {
            r["type"]: r["n"]
            for r in self.store.query("SELECT type, count(*) AS n FROM events GROUP BY type")
        }
        q = self.store.value
        assert counts.get("checkout", 0) == q("SELECT count(*) FROM loans")
        assert counts.get("checkin", 0) == q(
            "SELECT count(*) FROM loans WHERE returned_at IS NOT NULL"
        )
        assert counts.get("renew", 0) == q("SELECT coalesce(sum(renewals), 0) FROM loans")
        # A loan carries the UUID of the checkout event that made it.
        orphans = q(
            "SELECT count(*) FROM loans WHERE uuid NOT IN "
            "(SELECT uuid FROM events WHERE type = 'checkout')"
        )
        assert orphans == 0
        per_loan = self.store.query(
            "SELECT json_extract(data, '$.loan_uuid') AS loan, type, count(*) AS n FROM events "
            "WHERE type = 'checkin' GROUP BY loan HAVING n > 1"
        )
        assert per_loan == []

    @invariant()
    def due_dates_follow_the_calendar(self) -> None:
        rules = load_rules(self.store.reader)
        rows = self.store.query(
            "SELECT at, json_extract(data, '$.due_at') AS due_at FROM events "
            "WHERE type IN ('checkout', 'renew')"
        )
        for row in rows:
            lent, due = local_day(row["at"]), local_day(row["due_at"])
            assert due >= lent
            term_end = rules.term_end if not rules.holiday_loans else None
            if term_end:
                assert due <= max(term_end, lent), row
            open_day_left = any(
                rules.is_open(lent + dt.timedelta(d))
                for d in range(0, (term_end - lent).days + 1 if term_end else 366)
            )
            if open_day_left:
                assert rules.is_open(due), row


def test_circulation_properties_hold_for_random_days_at_the_kiosk() -> None:
    machine_settings = settings(
        max_examples=150,
        stateful_step_count=50,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run_state_machine_as_test(Circulating, settings=machine_settings)
