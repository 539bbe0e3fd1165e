"""The kiosk session as a student and a helper meet it: one scan, one answer."""

from __future__ import annotations

import sqlite3

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import report_card_lost
from kiosk.circulation.session import Feedback, Kiosk, clean_code
from kiosk.circulation.store import Store

CARD, CARD_TOM, HELPER = "0F00A1B2C3", "0F00A1B2C5", "0F00AAAA01"
RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


def said(fb: Feedback | None) -> tuple[str, str, str] | None:
    return (fb.kind, fb.reason, fb.mode) if fb else None


def events(store: Store) -> list[tuple[str, str, str]]:
    rows = store.query(
        "SELECT type, actor, item_barcode FROM events WHERE type != 'rules_set' ORDER BY seq"
    )
    return [(r["type"], r["actor"], r["item_barcode"]) for r in rows]


def test_student_checks_out_and_sees_only_their_given_name(kiosk: Kiosk, store: Store) -> None:
    fb = kiosk.scan(CARD)
    assert said(fb) == ("session_started", "session_started", "patron")
    assert fb.params == {"name": "小明"}  # never the full record
    fb = kiosk.scan(RED)
    assert said(fb) == ("ok", "ok", "patron")
    assert fb.params == {"title": "红楼梦", "due_date": "2026-11-16"}
    assert events(store) == [("checkout", "S001", RED)]


def test_a_book_with_no_session_is_returned_or_asks_for_a_card(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    assert said(kiosk.scan(RED)) == ("warning", "scan_card_first", "idle")
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.done()
    clock.advance(10)
    fb = kiosk.scan(RED)
    assert said(fb) == ("ok", "ok", "idle")
    assert fb.result is not None and fb.result.action == "checkin"


def test_same_book_twice_in_a_moment_is_one_action(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    first = kiosk.scan(RED)
    clock.advance(1)
    again = kiosk.scan(RED)
    assert again.repeated and (again.kind, again.params) == (first.kind, first.params)
    assert events(store) == [("checkout", "S001", RED)]


def test_scanning_own_book_again_later_renews_it(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    clock.advance(6)
    fb = kiosk.scan(RED)
    assert fb.result is not None and fb.result.action == "renew"


def test_session_times_out_after_the_last_scan(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.scan(CARD)
    clock.advance(20)
    kiosk.scan(RED)
    clock.advance(29)
    assert kiosk.tick() is None and kiosk.seconds_left() == pytest.approx(1)
    clock.advance(1)
    assert said(kiosk.tick()) == ("session_ended", "session_ended", "idle")
    assert kiosk.patron is None and kiosk.results == []
    assert kiosk.tick() is None


def test_a_new_card_closes_the_session_and_opens_another(kiosk: Kiosk) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    fb = kiosk.scan(CARD_TOM)
    assert said(fb) == ("session_started", "session_started", "patron")
    assert fb.params == {"name": "Tom"} and kiosk.results == []
    assert said(kiosk.scan(RED)) == ("error", "on_loan_to_other", "patron")


def test_refusals_a_nine_year_old_can_act_on(kiosk: Kiosk, store: Store) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.scan(PRINCE)
    fb = kiosk.scan(WEB)
    assert said(fb) == ("error", "limit_reached", "patron")
    assert fb.message == "You already have {count} books. Return one first." and fb.params == {
        "count": 2
    }
    assert said(kiosk.scan("NO-SUCH-THING")) == ("error", "unknown_code", "patron")
    assert kiosk.mode == "patron"  # the kiosk carries on


def test_lost_card_is_refused_with_its_own_message(kiosk: Kiosk, store: Store) -> None:
    report_card_lost(store, CARD, actor="librarian")
    fb = kiosk.scan(CARD)
    assert said(fb) == ("error", "card_lost", "idle")
    assert kiosk.scan("S001").kind == "session_started"  # the other card still works


@pytest.mark.parametrize(
    "raw", ["", "   ", "97870\x1b[A2207", "x" * 65, "9787\ufffd02207", "ab\tcd"]
)
def test_garbled_scans_are_rejected_and_change_nothing(
    kiosk: Kiosk, store: Store, raw: str
) -> None:
    kiosk.scan(CARD)
    fb = kiosk.scan(raw)
    assert said(fb) == ("warning", "invalid_scan", "patron")
    assert events(store) == []
    assert said(kiosk.scan(RED)) == ("ok", "ok", "patron")


def test_clean_code_trims_blanks() -> None:
    assert clean_code("  9787020002207\r\n") == "9787020002207"
    assert clean_code("A B") == "A B"


def test_helper_runs_bulk_returns_and_lends_for_a_student(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.scan(PRINCE)
    assert said(kiosk.scan(HELPER)) == ("session_started", "desk_opened", "desk")
    assert said(kiosk.scan(RED)) == ("ok", "ok", "desk")
    assert said(kiosk.scan(PRINCE)) == ("ok", "ok", "desk")
    assert said(kiosk.scan(WEB)) == ("warning", "not_on_loan", "desk")
    fb = kiosk.scan(CARD_TOM)
    assert said(fb) == ("session_started", "lend_for", "lend_for")
    assert fb.params == {"name": "Tom", "class_name": "五(1)班"}
    assert said(kiosk.scan(WEB)) == ("ok", "ok", "lend_for")
    assert said(kiosk.scan(HELPER)) == ("session_started", "desk_opened", "desk")
    assert events(store)[-3:] == [
        ("checkin", "H001", RED),
        ("checkin", "H001", PRINCE),
        ("checkout", "H001", WEB),  # the helper is recorded as who did it
    ]
    owner = store.value(
        "SELECT patron_id FROM loans WHERE item_barcode = ? AND returned_at IS NULL", [WEB]
    )
    assert owner == "S003"
    clock.advance(299)
    assert kiosk.tick() is None  # desk mode lasts longer than a student's session
    clock.advance(1)
    assert said(kiosk.tick()) == ("session_ended", "session_ended", "idle")


def test_feedback_comes_only_after_the_loan_is_committed(kiosk: Kiosk, store: Store) -> None:
    seen: list[tuple[str, int]] = []

    def listener(fb: Feedback) -> None:
        # Another connection, as after a power cut, must already see the loan.
        other = sqlite3.connect(str(store.path))
        n = other.execute("SELECT count(*) FROM loans WHERE returned_at IS NULL").fetchone()[0]
        other.close()
        seen.append((fb.kind, n))

    kiosk.subscribe(listener)
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.scan(PRINCE)
    assert seen == [("session_started", 0), ("ok", 1), ("ok", 2)]
