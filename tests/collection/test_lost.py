"""Lost and damaged books, compensation, repair, withdrawal and a replaced card: round trips."""

from __future__ import annotations

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import cards, lost, weeding
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


def test_a_loan_marked_lost_closes_as_lost_and_the_book_found_again_is_restored(
    store: Store, circulation: Circulation, clock: FakeClock
) -> None:
    assert circulation.checkout("S001", RED).ok
    clock.advance(days=3)
    marked = lost.mark(store, "lost", RED, "librarian:admin", note="lost on the bus")
    assert marked.ok and [e.type for e in marked.events] == ["item_lost"]
    loan = store.query("SELECT returned_at, closed_as FROM loans WHERE item_barcode = ?", [RED])
    assert loan == [{"returned_at": marked.events[0].at, "closed_as": "lost"}]
    assert circulation.item(RED).status == "lost"  # type: ignore[union-attr]
    [record] = lost.of_patron(store.reader, "S001")
    assert (record["kind"], record["title"], record["actor"], record["note"]) == (
        "lost",
        "红楼梦",
        "librarian:admin",
        "lost on the bus",
    )
    assert [r["item_barcode"] for r in lost.incidents(store.reader, "lost")] == [RED]
    assert lost.mark(store, "lost", RED, "librarian:admin").reason == "already_lost"

    paid = lost.compensate(store, record["id"], "money", "25.00", "librarian:admin")
    assert paid.ok
    assert lost.compensate(store, record["id"], "gold", "", "x").reason == "bad_compensation"
    clock.advance(days=30)
    assert lost.found(store, RED, "librarian:admin", how="dashboard").ok
    assert circulation.item(RED).status == "available"  # type: ignore[union-attr]
    [record] = lost.history(store.reader, RED)
    keys = ("resolved_as", "resolved_by", "compensation", "amount", "compensation_by")
    assert {k: record[k] for k in keys} == {
        "resolved_as": "found",
        "resolved_by": "librarian:admin",
        "compensation": "money",
        "amount": "25.00",
        "compensation_by": "librarian:admin",
    }
    assert lost.incidents(store.reader, "lost") == []
    assert lost.found(store, RED, "x", how="dashboard").reason == "not_lost"
    totals = lost.totals(store.reader, "2026-09-01")
    assert (totals["lost"], totals["found"], totals["money"]) == (1, 1, 1)


def test_a_lost_book_scanned_with_a_card_is_restored_not_lent(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    assert lost.mark(store, "lost", PRINCE, "librarian:admin").ok
    desk.scan("0F00A1B2C4")
    fb = desk.scan(PRINCE)
    assert (fb.kind, fb.reason) == ("ok", "item_found")
    assert lost.history(store.reader, PRINCE)[0]["resolved_by"] == "S002"  # found by 李雨涵
    assert circulation.open_loan(PRINCE) is None
    assert circulation.item(PRINCE).status == "available"  # type: ignore[union-attr]
    assert desk.scan(PRINCE).repeated  # the same scan again is the same answer


def test_a_damaged_book_goes_through_the_repair_queue_back_to_the_shelf(
    store: Store, circulation: Circulation
) -> None:
    assert circulation.checkout("S003", WEB).ok
    assert lost.mark(store, "damaged", WEB, "H001", note="cover torn").ok
    [queued] = lost.incidents(store.reader, "damaged")
    assert (queued["patron_id"], queued["patron_name"]) == ("S003", "Tom Green")
    assert circulation.open_loan(WEB) is None
    assert lost.repair(store, queued["id"], "started", "librarian:admin").ok
    assert lost.incidents(store.reader, "damaged") == []
    assert [r["item_barcode"] for r in lost.incidents(store.reader, "in_repair")] == [WEB]
    assert lost.repair(store, queued["id"], "done", "librarian:admin").ok
    assert lost.incidents(store.reader, "in_repair") == []
    assert circulation.item(WEB).status == "available"  # type: ignore[union-attr]
    assert lost.repair(store, queued["id"], "done", "x").reason == "not_in_repair_queue"
    assert circulation.checkout("S001", WEB).ok


def test_withdrawal_needs_a_reason_and_the_book_back_and_lists_it_for_the_register(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    assert circulation.checkout("S001", RED).ok
    assert weeding.withdraw(store, RED, "worn", "librarian:admin").reason == "on_loan"
    assert weeding.withdraw(store, PRINCE, "old", "librarian:admin").reason == "bad_reason"
    assert weeding.withdraw(store, "NOPE", "worn", "librarian:admin").reason == "no_such_item"
    assert weeding.withdraw(store, PRINCE, "surplus", "librarian:admin").ok
    assert weeding.withdraw(store, PRINCE, "surplus", "x").reason == "already_withdrawn"
    [row] = weeding.withdrawals(store.reader)
    assert (row["barcode"], row["title"], row["reason"], row["actor"]) == (
        PRINCE,
        "小王子",
        "surplus",
        "librarian:admin",
    )
    desk.scan("0F00A1B2C4")
    fb = desk.scan(PRINCE)
    assert (fb.kind, fb.reason) == ("error", "item_withdrawn")
    assert circulation.open_loan(PRINCE) is None


def test_surplus_lists_titles_with_more_copies_than_loans(
    store: Store, circulation: Circulation
) -> None:
    from kiosk.circulation.records import put_item

    with store.write() as db:
        for n in range(4):
            put_item(db, {"barcode": f"COPY{n}", "title": "安徒生童话", "isbn": ""}, store.now())
    assert circulation.checkout("S001", "COPY0").ok
    rows = weeding.surplus(store.reader, "2026-09-01")
    assert [(r["title"], r["copies"], r["loans"], r["surplus"]) for r in rows] == [
        ("安徒生童话", 4, 1, 3)
    ]


def test_a_lost_card_is_replaced_in_one_step_and_the_old_one_refused(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    done = cards.replace(store, "S001", "0f00a1b2c3", "0F00NEW001", "librarian:admin")
    assert done.ok, done.reason
    assert [e.type for e in done.events] == ["card_replaced"]
    assert dict(done.events[0].data) == {"old": "0F00A1B2C3", "new": "0F00NEW001"}
    assert desk.scan("0F00A1B2C3").reason == "card_lost"
    assert desk.scan("0F00NEW001").reason == "session_started"
    assert cards.replace(store, "S001", "S001", "0F00A1B2C5", "x").reason == "card_taken"
    assert cards.replace(store, "S002", "S001", "NEW2", "x").reason == "no_such_card"
    assert cards.replace(store, "S001", "S001", "S001", "x").reason == "same_card"


def test_a_hold_waits_its_open_days_on_the_shelf_then_expires(
    store: Store, circulation: Circulation, desk: Kiosk, clock: FakeClock
) -> None:
    from kiosk.circulation.collection import holds

    assert circulation.checkout("S003", RED).ok
    assert holds.place(store, RED, "S001", "H001").ok
    assert holds.place(store, RED, "S001", "H001").reason == "already_held"
    assert holds.place(store, RED, "S003", "H001").reason == "own_loan"
    assert holds.place(store, PRINCE, "S001", "H001").reason == "not_out"
    fb = desk.scan(RED)  # returned on Monday 2 November
    assert (fb.kind, fb.reason) == ("warning", "hold_shelf")
    [hold] = holds.all_open(store.reader)
    assert (hold["status"], hold["expires_on"]) == ("ready", "2026-11-09")  # 5 open days
    desk.hook.tick()
    assert holds.all_open(store.reader)[0]["status"] == "ready"
    clock.advance(days=8)  # Tuesday 10 November
    desk.hook.tick()
    assert holds.all_open(store.reader) == []
    assert store.value("SELECT status FROM holds") == "expired"


def test_a_box_of_books_lent_to_a_class_corner_and_returned_at_the_desk(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.circulation.collection import corners

    tz = ZoneInfo("Asia/Shanghai")
    due = dt.date(2027, 1, 15)
    box = [RED, PRINCE, WEB]
    refused = corners.lend(store, "三(2)班", "S001", box, due, tz, "librarian:admin")
    assert refused.reason == "no_responsible"  # a student cannot be responsible
    assert circulation.checkout("S003", "9787530215982").ok
    refused = corners.lend(store, "三(2)班", "T001", [*box, "9787530215982"], due, tz, "x")
    assert (refused.reason, refused.refusal.params) == (  # type: ignore[union-attr]
        "not_available",
        {"barcodes": "9787530215982"},
    )
    done = corners.lend(store, "三(2)班", "T001", [*box, RED], due, tz, "librarian:admin")
    assert done.ok and [e.type for e in done.events] == ["corner_lent"]
    assert [
        (r["class_name"], r["books"], r["responsible"]) for r in corners.out_per_class(store.reader)
    ] == [("三(2)班", 3, "陈老师")]
    loan = circulation.open_loan(RED)
    assert loan is not None and loan.patron_id == "T001"
    assert circulation.local_date(loan.due_at) == due
    # Returning the box: the helper scans the books at the desk.
    desk.scan("0F00AAAA01")
    assert [desk.scan(code).reason for code in (RED, PRINCE)] == ["ok", "ok"]
    assert [r["item_barcode"] for r in corners.recall(store.reader, "三(2)班")] == [WEB]
    assert corners.out_per_class(store.reader)[0]["books"] == 1


def test_holiday_loans_for_one_grade_are_due_after_the_holidays(
    store: Store, circulation: Circulation, clock: FakeClock
) -> None:
    import dataclasses
    import datetime as dt

    from kiosk.circulation.collection import holidays
    from kiosk.circulation.records import set_rules
    from kiosk.config import RulesSettings

    set_rules(store, dataclasses.replace(RulesSettings(), term_end="2026-11-06"), "librarian:x")
    refused = holidays.set_grades(store, {3: dt.date(2026, 11, 5)}, 6, "librarian:admin")
    assert (refused.reason, refused.refusal.params) == (  # type: ignore[union-attr]
        "due_in_term",
        {"grade": 3, "end": "2026-11-06"},
    )
    assert holidays.set_grades(store, {9: None}, 6, "x").reason == "bad_grade"
    assert holidays.set_grades(store, {3: dt.date(2027, 3, 1), 5: None}, 6, "librarian:x").ok
    assert holidays.by_grade(store.reader) == {3: "2027-03-01"}
    # Monday 2 November, a week before the end of term: grade 3 takes books home.
    third = circulation.checkout("S001", RED)  # 王小明, grade 3
    fifth = circulation.checkout("S003", PRINCE)  # Tom, grade 5: back by the end of term
    assert third.params["due_date"] == "2027-03-01"
    assert fifth.params["due_date"] == "2026-11-06"
    assert holidays.set_grades(store, {3: None}, 6, "librarian:x").ok  # off again
    assert circulation.checkout("S002", WEB).params["due_date"] == "2026-11-06"


def test_a_status_set_on_the_book_page_still_shows_in_the_lists(
    store: Store, circulation: Circulation
) -> None:
    from kiosk.circulation.records import set_item_status

    set_item_status(store, RED, "lost", "librarian:admin")
    set_item_status(store, PRINCE, "withdrawn", "librarian:admin")
    [row] = lost.incidents(store.reader, "lost")
    assert (row["id"], row["item_barcode"], row["title"]) == (None, RED, "红楼梦")
    [row] = weeding.withdrawals(store.reader)
    assert (row["barcode"], row["reason"]) == (PRINCE, None)
    assert lost.found(store, RED, "librarian:admin", how="dashboard").ok
    assert lost.incidents(store.reader, "lost") == []
