"""Reading lists' decisions, and a child's progress on a real store: a title is its ISBN (any
copy counts) or its title; only this term's loans count; a grade without a list has none."""

from __future__ import annotations

import datetime as dt

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.reading import lists, progress
from kiosk.circulation.records import put_item
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store


def test_decisions_refuse_with_a_reason() -> None:
    form = lists.ListForm("三年级", 3, "2026秋", 10)
    assert lists.decide_save("L1", lists.ListForm(" ", 3, "", 1), 6) == lists.Refusal("no_name")
    refused = lists.decide_save("L1", lists.ListForm("x", 7, "", 1), 6)
    assert refused == lists.Refusal("bad_grade", {"grade": 7})
    assert lists.decide_save("L1", lists.ListForm("x", None, "", 501), 6) == lists.Refusal(
        "bad_target", {"most": 500}
    )
    (saved,) = lists.decide_save("L1", form, 6)  # type: ignore[misc]
    assert saved.type == "reading_list_saved" and saved.data["grade"] == 3
    book = {"title": "昆虫记", "author": "法布尔", "isbn": "9787020090006"}
    assert lists.decide_add(None, book, False, "x") == lists.Refusal("unknown_list")
    assert lists.decide_add({"id": "L1"}, None, False, "x") == lists.Refusal(
        "not_found", {"code": "x"}
    )
    assert lists.decide_add({"id": "L1"}, book, True, "x").reason == "already_listed"  # type: ignore[union-attr]
    (added,) = lists.decide_add({"id": "L1"}, book, False, "x")  # type: ignore[misc]
    assert added.data["key"] == "9787020090006"
    assert lists.decide_remove({"id": "L1"}, "k", False) == lists.Refusal("not_listed")


def test_term_start() -> None:
    assert progress.term_start(None, dt.date(2026, 11, 2)) == "2026-09-01"
    assert progress.term_start(None, dt.date(2027, 1, 10)) == "2026-09-01"
    assert progress.term_start(None, dt.date(2027, 4, 10)) == "2027-03-01"
    assert progress.term_start(dt.date(2027, 2, 20), dt.date(2027, 4, 10)) == "2027-02-20"
    # A term start still ahead (next term's, set early) is not this term's.
    assert progress.term_start(dt.date(2027, 2, 20), dt.date(2026, 12, 1)) == "2026-09-01"


def test_progress_counts_any_copy_of_a_title_this_term(store: Store, clock: FakeClock) -> None:
    with store.write() as db:
        for barcode in ("K1", "K2"):  # two copies of one edition
            row = {"barcode": barcode, "title": "昆虫记", "isbn": "9787020090006"}
            put_item(db, {**row, "call_number": "Q96/1"}, store.now())
    made = lists.save_list(store, lists.ListForm("三年级", 3, "", 0), 6, "t")
    list_id = made.events[0].data["list"]
    for code in ("9787020090006", "9787020002207", "9787535449450"):
        assert lists.add_title(store, list_id, code, "t").ok
    assert not lists.add_title(store, list_id, "K2", "t").ok  # the same title again
    c = Circulation(store)
    assert c.checkout("S001", "K2").ok and c.checkin("K2").ok  # the other copy: still read
    since = "2026-09-01"
    mine = progress.progress(store.reader, "S001", 3, since)
    assert mine["read"] == 1
    assert mine["list"] == {"name": "三年级", "done": 1, "target": 3}  # target 0: every title
    assert [s["title"] for s in mine["suggest"]] == ["红楼梦", "小王子"]
    assert mine["suggest"][0]["shelf"] == "Literature"
    # Next term, last term's loans count for nothing.
    later = progress.progress(store.reader, "S001", 3, "2027-03-01")
    assert later["read"] == 0 and later["list"]["done"] == 0
    # A grade without a list: the count only.
    assert progress.progress(store.reader, "S003", 5, since) == {
        "read": 0,
        "list": None,
        "suggest": [],
    }
    assert progress.shelf("Q96/1") == "Science" and progress.shelf("") == ""
