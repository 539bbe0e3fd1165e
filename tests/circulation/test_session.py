"""The kiosk session as a student and a helper meet it: one scan, one answer."""

from __future__ import annotations

import sqlite3

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.models import Patron
from kiosk.circulation.records import report_card_lost
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Feedback, Kiosk, clean_code
from kiosk.circulation.store import Store
from kiosk.i18n import translate

CARD, CARD_TOM, HELPER = "0F00A1B2C3", "0F00A1B2C5", "0F00AAAA01"
RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


def said(fb: Feedback | None) -> tuple[str, str, str] | None:
    return (fb.kind, fb.reason, fb.mode) if fb else None


def events(store: Store) -> list[tuple[str, str, str]]:
    """Return the logged actions on books (visits are checked on their own, below)."""
    rows = store.query(
        "SELECT type, actor, item_barcode FROM events "
        "WHERE type NOT IN ('rules_set', 'visit') ORDER BY seq"
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


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("王小明", "小明"),
        ("李明", "明"),
        ("欧阳娜娜", "娜娜"),
        ("Tom Smith", "Tom"),
        ("陈老师", "陈老师"),
        ("张校长", "张校长"),
        ("刘主任", "刘主任"),
        ("王老", "老"),  # only the whole title counts
    ],
)
def test_the_screen_shows_a_given_name_or_a_title_whole(name: str, shown: str) -> None:
    assert Patron("P1", name, "teacher", None, "", "active").given_name == shown


def test_a_book_with_no_session_is_returned_or_asks_for_a_card(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    fb = kiosk.scan(RED)
    assert said(fb) == ("warning", "scan_card_first", "idle")
    assert fb.params == {"title": "红楼梦"}  # every answer names the book
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


def test_own_book_again_in_the_same_session_is_already_yours_and_spends_no_renewal(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    clock.advance(6)
    fb = kiosk.scan(RED)
    assert said(fb) == ("ok", "already_yours", "patron")
    assert fb.params == {"title": "红楼梦", "due_date": "2026-11-16"}
    assert events(store) == [("checkout", "S001", RED)]


def test_an_earlier_loan_scanned_in_its_borrowers_session_is_returned_even_overdue(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.done()
    clock.advance(days=30)  # overdue now: the child is told to return it first
    kiosk.scan(CARD)
    assert said(kiosk.scan(PRINCE)) == ("error", "has_overdue", "patron")
    fb = kiosk.scan(RED)
    assert said(fb) == ("ok", "ok", "patron")
    assert fb.result is not None and fb.result.action == "checkin"
    clock.advance(6)
    # Returned in this session, so a second scan does not lend it again: that needs the card.
    assert said(kiosk.scan(RED)) == ("warning", "returned_here", "patron")
    assert said(kiosk.scan(PRINCE)) == ("ok", "ok", "patron")
    kiosk.scan(CARD)  # the card again: a new session, a clear wish to borrow
    assert said(kiosk.scan(RED)) == ("ok", "ok", "patron")
    assert events(store)[1:] == [
        ("checkin", "S001", RED),
        ("checkout", "S001", PRINCE),
        ("checkout", "S001", RED),
    ]


def test_someone_elses_book_in_a_session_is_returned_and_ends_the_session(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD_TOM)
    kiosk.scan(WEB)
    kiosk.done()
    kiosk.scan(CARD)  # child A borrows...
    kiosk.scan(RED)
    clock.advance(6)  # ...and walks away; Tom steps up and hands his book back
    fb = kiosk.scan(WEB)
    # Returned, and whoever is there is told the session is over: tap again to borrow.
    assert said(fb) == ("ok", "returned_ended", "idle")
    assert translate(fb.message, "zh_CN") == "还书成功，谢谢！要借书，请再刷一次卡。"
    assert fb.result is not None and fb.result.action == "checkin"
    assert kiosk.patron is None
    clock.advance(6)
    assert said(kiosk.scan(PRINCE)) == ("warning", "scan_card_first", "idle")  # not lent to A
    assert events(store)[1:] == [("checkout", "S001", RED), ("checkin", "self-service", WEB)]
    assert store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 1


def test_renewal_is_a_touch_on_the_list_when_the_rules_allow_it(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.done()
    assert kiosk.renew(RED) is None  # no session, nothing to renew
    clock.advance(days=7)
    kiosk.scan(CARD)
    fb = kiosk.renew(RED)
    assert fb is not None and said(fb) == ("ok", "ok", "patron")
    assert fb.result is not None and fb.result.action == "renew"
    assert fb.params == {"title": "红楼梦", "due_date": "2026-11-23"}
    fb = kiosk.renew(RED)
    assert fb is not None and said(fb) == ("error", "renew_limit", "patron")
    assert said(kiosk.renew(WEB)) == ("warning", "not_on_loan", "patron")
    assert [e[0] for e in events(store)] == ["checkout", "renew"]


def test_session_waits_for_the_first_book_then_closes_soon_after_an_answer(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.scan(CARD)
    clock.advance(19)
    assert kiosk.seconds_left() == pytest.approx(1)
    kiosk.scan(RED)
    clock.advance(9)
    assert kiosk.tick() is None and kiosk.seconds_left() == pytest.approx(1)
    clock.advance(1)
    assert said(kiosk.tick()) == ("session_ended", "session_ended", "idle")
    assert kiosk.patron is None and kiosk.results == []
    assert kiosk.tick() is None


def test_the_last_answer_stays_a_few_seconds_for_a_page_that_opens(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    fb = kiosk.scan(RED)
    assert kiosk.answer() == (fb, 8.0)
    clock.advance(8)
    assert kiosk.answer() is None


def test_with_a_hub_a_lone_return_the_kiosk_knows_nothing_of_is_recorded(
    store: Store, clock: FakeClock
) -> None:
    kiosk = Kiosk(Circulation(store, record_stray_returns=True), clock)
    fb = kiosk.scan(RED)
    assert said(fb) == ("ok", "returned_tap_card", "idle")
    assert fb.message == "Returned, thank you. To borrow it, tap your card first."
    assert fb.params == {"title": "红楼梦"}
    assert events(store) == [("checkin", "self-service", RED)]


def test_a_new_card_closes_the_session_and_opens_another(kiosk: Kiosk) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    fb = kiosk.scan(CARD_TOM)
    assert said(fb) == ("session_started", "session_started", "patron")
    assert fb.params == {"name": "Tom"} and kiosk.results == []
    assert said(kiosk.scan(PRINCE)) == ("ok", "ok", "patron")
    assert kiosk.circulation.open_loan(PRINCE).patron_id == "S003"  # type: ignore[union-attr]


def test_refusals_a_nine_year_old_can_act_on(kiosk: Kiosk, store: Store) -> None:
    kiosk.scan(CARD)
    kiosk.scan(RED)
    kiosk.scan(PRINCE)
    fb = kiosk.scan(WEB)
    assert said(fb) == ("error", "limit_reached", "patron")
    assert fb.params == {"count": 2}
    assert translate(fb.message, "en", **fb.params) == "You already have 2 books. Return one first."
    assert translate(fb.message, "en", count=1) == "You already have 1 book. Return one first."
    assert said(kiosk.scan("NO-SUCH-THING")) == ("error", "unknown_code", "patron")
    assert kiosk.mode == "patron"  # the kiosk carries on


def test_lost_card_is_refused_with_its_own_message(kiosk: Kiosk, store: Store) -> None:
    report_card_lost(store, CARD, actor="librarian")
    kiosk.scan(CARD_TOM)
    fb = kiosk.scan(CARD)
    assert said(fb) == ("error", "card_lost", "idle")  # and Tom's session is over
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


def test_a_helper_packs_a_box_for_a_class_corner_and_nothing_is_lent_while_packing(
    kiosk: Kiosk, store: Store
) -> None:
    assert kiosk.open_box("三(2)班") is None  # only a helper's session packs a box
    kiosk.scan(CARD)
    kiosk.scan(WEB)  # out: it cannot go in the box
    kiosk.done()
    kiosk.scan(HELPER)
    fb = kiosk.open_box("三(2)班")
    assert said(fb) == ("session_started", "box_opened", "box")
    assert said(kiosk.scan(RED)) == ("ok", "box_added", "box")
    fb = kiosk.scan(PRINCE)
    assert said(fb) == ("ok", "box_added", "box")
    assert fb.params == {"title": "小王子", "class_name": "三(2)班", "count": 2}
    assert said(kiosk.scan(WEB)) == ("warning", "box_not_on_shelf", "box")
    assert said(kiosk.scan("NO-SUCH-BOOK"))[:2] == ("error", "unknown_code")
    assert kiosk.box == [RED, PRINCE]
    assert store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 1
    # One more scanned while the box was being lent: it stays packed for the next box.
    lent = list(kiosk.box)
    assert said(kiosk.scan("9787020024759")) == ("ok", "box_added", "box")
    assert kiosk.close_box(lent=lent) == ["9787020024759"]
    assert kiosk.mode == "box"
    assert kiosk.close_box() == []
    assert (kiosk.mode, kiosk.box) == ("desk", [])
    # A box abandoned by the helper's own card: back to returns, nothing kept.
    kiosk.open_box("四(1)班")
    kiosk.scan(RED)
    assert said(kiosk.scan(HELPER)) == ("session_started", "desk_opened", "desk")
    assert kiosk.box == []
