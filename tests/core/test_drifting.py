"""Book drifting's pure decisions and the session on a real store: a child takes a drifting book
(never a loan, not counted against the limit), another takes it over, the same child's later
scan or a scan with no card hands it in; refusals say why and change nothing."""

from __future__ import annotations

from kiosk.circulation import decide
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.commands import EndDrift, SetDrifting, TakeDrifting
from kiosk.circulation.decide import DriftState
from kiosk.circulation.models import Item, Patron
from kiosk.circulation.projector import Refusal
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

BOOK = "9787535449450"
MING = Patron("S001", "王小明", "student", 3, "三(2)班", "active")
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
