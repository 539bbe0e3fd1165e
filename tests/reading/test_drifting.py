"""Book drifting's pure decisions and the session on a real store: a child takes a drifting book
(never a loan, not counted against the limit), another takes it over, the same child's later
scan or a scan with no card hands it in; refusals say why and change nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kiosk.circulation import decide
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import corners, stocktake
from kiosk.circulation.commands import EndDrift, SetDrifting, TakeDrifting
from kiosk.circulation.decide import DriftState
from kiosk.circulation.models import Item, Patron
from kiosk.circulation.projector import Refusal
from kiosk.circulation.reading import lists, progress
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store
from kiosk.i18n import translate

BOOK = "9787535449450"
MING = Patron("S001", "王小明", "student", 3, "三(2)班", "active")
TZ = ZoneInfo("Asia/Shanghai")
SHELF = Item(BOOK, "小王子", "", "", "I565.88/2", "library", "available")


def test_decisions() -> None:
    take = TakeDrifting("S001", BOOK)
    assert decide.take_drifting(DriftState(MING, SHELF), take) == Refusal("drift_not")
    (taken,) = decide.take_drifting(DriftState(MING, SHELF, True), take)  # type: ignore[misc]
    assert taken.type == "drift_taken" and taken.data == {"from": None}
    (over,) = decide.take_drifting(DriftState(MING, SHELF, True, "S002"), take)  # type: ignore[misc]
    assert over.data == {"from": "S002"}
    assert decide.take_drifting(DriftState(MING, SHELF, True, "S001"), take) == Refusal(
        "drift_yours"
    )
    blocked = Patron("S009", "x", "student", 3, "", "blocked")
    assert decide.take_drifting(DriftState(blocked, SHELF, True), take) == Refusal("patron_blocked")
    assert decide.end_drift(DriftState(None, SHELF, True), EndDrift(BOOK)) == Refusal("drift_free")
    (ended,) = decide.end_drift(DriftState(None, SHELF, True, "S002"), EndDrift(BOOK))  # type: ignore[misc]
    assert ended.type == "drift_ended" and ended.patron_id == "S002"
    on = SetDrifting(BOOK, True)
    assert decide.set_drifting(DriftState(None, SHELF, on_loan=True), on) == Refusal(
        "item_unavailable"
    )
    assert decide.set_drifting(DriftState(None, SHELF, True), on) == Refusal("drift_already")
    off = SetDrifting(BOOK, False)
    assert decide.set_drifting(DriftState(None, SHELF, True, "S001"), off) == Refusal("drift_held")


def test_the_session_takes_hands_over_and_hands_in(
    store: Store, circulation: Circulation, kiosk: Kiosk, clock: FakeClock
) -> None:
    assert circulation.set_drifting(BOOK, True, "librarian:admin").ok
    assert circulation.checkout("S001", "9787020002207").ok
    assert circulation.checkout("S001", "9787530215982").ok  # at the limit of 2
    kiosk.scan("0F00A1B2C3")  # 王小明
    fb = kiosk.scan(BOOK)
    assert (fb.kind, fb.reason) == ("ok", "ok")
    assert fb.message == "A drifting book: pass it on when you've read it."
    assert "due_date" not in fb.params
    clock.advance(6)  # past the repeat window, within the session
    fb = kiosk.scan(BOOK)  # again in the same session: it is theirs, nothing changes
    assert (fb.kind, fb.reason) == ("ok", "drift_yours")
    kiosk.scan("0F00A1B2C4")  # 李雨涵 takes it over
    fb = kiosk.scan(BOOK)
    assert fb.message == "A drifting book, passed on to you: pass it on when you've read it."
    hands = store.query(
        "SELECT patron_id, ended_at IS NULL AS open FROM drift_hands ORDER BY rowid"
    )
    assert hands == [{"patron_id": "S001", "open": 0}, {"patron_id": "S002", "open": 1}]
    kiosk.done()
    clock.advance(10)
    kiosk.scan("0F00A1B2C4")  # the same child, a later session: handing it in
    fb = kiosk.scan(BOOK)
    assert fb.message == "Drifting book handed in. Thank you!"
    kiosk.done()
    clock.advance(10)
    fb = kiosk.scan(BOOK)  # no card, nobody has it: tap your card first
    assert (fb.kind, fb.reason) == ("warning", "drift_free")
    assert store.query("SELECT count(*) AS n FROM drift_hands WHERE ended_at IS NULL") == [{"n": 0}]
    assert store.query("SELECT count(*) AS n FROM loans WHERE item_barcode = ?", [BOOK]) == [
        {"n": 0}
    ]


def test_a_stocktake_never_expects_a_drifting_book_and_says_so_when_one_is_scanned(
    store: Store, circulation: Circulation
) -> None:
    assert circulation.set_drifting(BOOK, True, "librarian:admin").ok
    assert stocktake.start(store, stocktake.Scope(call_from="I", call_to="I"), "librarian:a").ok
    st = stocktake.running(store.reader)
    assert st is not None
    missing = {r["barcode"] for r in stocktake.report(store.reader, st) if r["status"] == "missing"}
    assert BOOK not in missing and "9787020002207" in missing  # on its shelf: expected
    assert stocktake.counts(store.reader, st)["missing"] == 4
    counted = stocktake.scan(store, BOOK, "helper:H001")
    assert counted.outcome.ok and counted.status == "drifting"
    rows = {r["barcode"]: r["status"] for r in stocktake.report(store.reader, st)}
    assert rows[BOOK] == "drifting"
    assert stocktake.counts(store.reader, st)["drifting"] == 1
    said = translate(stocktake.MESSAGES["stocktake_drifting"], "zh_CN", title="小王子")
    assert said == "已清点：小王子。这是一本漂流书，不属于任何书架。"


def test_a_class_corner_box_refuses_a_drifting_book(store: Store, circulation: Circulation) -> None:
    assert circulation.set_drifting(BOOK, True, "librarian:admin").ok
    seen = store.query("SELECT count(*) AS n FROM events")
    box = [BOOK, "9787020002207"]
    done = corners.lend(store, "三(2)班", "T001", box, dt.date(2027, 1, 15), TZ, "librarian:a")
    assert done.refusal is not None and done.refusal.reason == "drifting_in_box"
    said = translate(corners.MESSAGES["drifting_in_box"], "zh_CN", **done.refusal.params)
    assert said == f"这些是漂流书，在同学之间传阅，不放进班级图书角：{BOOK}。"
    assert store.query("SELECT count(*) AS n FROM events") == seen  # nothing recorded
    assert store.query("SELECT count(*) AS n FROM loans") == [{"n": 0}]
    # Back on its shelf, the same box goes.
    assert circulation.set_drifting(BOOK, False, "librarian:admin").ok
    done = corners.lend(store, "三(2)班", "T001", box, dt.date(2027, 1, 15), TZ, "librarian:a")
    assert done.ok


def test_a_drifting_copy_is_not_on_the_shelf_for_a_reading_list_or_a_childs_recommendation(
    store: Store, circulation: Circulation
) -> None:
    made = lists.save_list(store, lists.ListForm("三年级推荐", 3, "", 5), 6, "librarian:a")
    list_id = made.events[0].data["list"]
    assert lists.add_title(store, list_id, BOOK, "librarian:a").ok
    [title] = lists.titles(store.reader, list_id)
    assert (title["copies"], title["on_shelf"]) == (1, 1)
    assert [r["title"] for r in progress.progress(store.reader, "S001", 3, "")["suggest"]] == [
        "小王子"
    ]

    assert circulation.set_drifting(BOOK, True, "librarian:admin").ok  # nobody has it yet
    [title] = lists.titles(store.reader, list_id)
    assert (title["copies"], title["on_shelf"]) == (1, 0)
    assert progress.progress(store.reader, "S001", 3, "")["suggest"] == []
