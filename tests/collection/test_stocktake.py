"""Stocktake: the report on a generated collection, kiosk stocktake mode, pause and resume."""

from __future__ import annotations

import random

from collection.shelves import HELPER_CARD, STUDENT_CARD, grow_shelves, statements_of
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import lost, stocktake, weeding
from kiosk.circulation.collection.stocktake import Scope
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store


def plan_stocktake(store: Store, circulation: Circulation) -> tuple[list[str], dict[str, str]]:
    """Lend, lose and withdraw some books of a grown collection; return (scans, expected report)."""
    school = [r["barcode"] for r in store.query("SELECT barcode FROM items")]
    books = grow_shelves(store, 300)
    rng = random.Random(7)
    library = [b for b in books if b["location"] == "library"]
    corner = [b for b in books if b["location"] != "library"]
    rng.shuffle(library)
    on_loan_found, on_loan_away = library[:2], library[2:4]
    for b in on_loan_found + on_loan_away:
        patron = "S003" if b is library[0] or b is library[2] else "T001"
        assert circulation.checkout(patron, b["barcode"]).ok
    lost_book, withdrawn_book = library[4], library[5]
    assert lost.mark(store, "lost", lost_book["barcode"], "librarian:admin").ok
    assert weeding.withdraw(store, withdrawn_book["barcode"], "worn", "librarian:admin").ok
    missing = library[6:15]
    found = library[15:]
    misplaced = corner[:3]
    unknown = ["X-0001", "978999"]
    scans = [b["barcode"] for b in found + on_loan_found + misplaced] + unknown
    rng.shuffle(scans)
    expected = {b["barcode"]: "found" for b in found}
    expected |= {b["barcode"]: "missing" for b in missing}
    expected |= dict.fromkeys(school, "missing")  # the school's five books, never scanned
    expected |= {b["barcode"]: "on_loan_found" for b in on_loan_found}
    expected |= {b["barcode"]: "misplaced" for b in misplaced}
    expected |= dict.fromkeys(unknown, "unknown")
    return scans, expected


def test_a_stocktake_of_a_generated_collection_gives_exactly_the_right_report(
    store: Store, circulation: Circulation
) -> None:
    scans, expected = plan_stocktake(store, circulation)
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    for code in scans + scans[:10]:  # a book scanned twice counts once
        assert stocktake.scan(store, code, "H001").outcome.ok
    st = stocktake.latest(store.reader)
    assert st is not None
    rows = stocktake.report(store.reader, st)
    assert {r["barcode"]: r["status"] for r in rows} == expected
    assert len(rows) == len(expected)
    counts = stocktake.summary(rows)
    assert counts == {
        "missing": 14,
        "misplaced": 3,
        "on_loan_found": 2,
        "drifting": 0,
        "unknown": 2,
        "found": sum(1 for s in expected.values() if s == "found"),
    }
    # Problems come first: missing, misplaced, on loan, unknown, then found.
    assert [r["status"] for r in rows[:21]] == ["missing"] * 14 + ["misplaced"] * 3 + [
        "on_loan_found"
    ] * 2 + ["unknown"] * 2


def test_a_call_number_range_counts_only_its_shelf(store: Store) -> None:
    grow_shelves(store, 60)
    scope = Scope(location="library", call_from="K", call_to="K")
    assert stocktake.start(store, scope, "H001").ok
    i_book = store.query("SELECT barcode FROM items WHERE call_number LIKE 'I%' LIMIT 1")[0]
    k_books = store.query(
        "SELECT barcode FROM items WHERE call_number LIKE 'K%' AND location = 'library'"
    )
    for b in k_books[1:]:
        stocktake.scan(store, b["barcode"], "H001")
    stocktake.scan(store, i_book["barcode"], "H001")
    st = stocktake.latest(store.reader)
    assert st is not None
    report = {r["barcode"]: r["status"] for r in stocktake.report(store.reader, st)}
    assert report == {
        k_books[0]["barcode"]: "missing",
        i_book["barcode"]: "misplaced",
        **{b["barcode"]: "found" for b in k_books[1:]},
    }


def test_another_scope_is_refused_while_one_runs_and_pause_resume_finish(store: Store) -> None:
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    other = stocktake.start(store, Scope(location="三(2)班"), "H001")
    assert other.refusal is not None
    assert (other.reason, other.refusal.params) == ("stocktake_running", {"scope": "library"})
    assert stocktake.set_status(store, "paused", "H001").ok
    assert stocktake.running(store.reader) is None
    assert stocktake.scan(store, "9787020002207", "H001").outcome.reason == "no_stocktake"
    again = stocktake.start(store, Scope(location="library"), "H001")  # the same scope resumes
    assert [e.type for e in again.events] == ["stocktake_resumed"]
    assert stocktake.set_status(store, "finished", "H001").ok
    assert stocktake.set_status(store, "finished", "H001").reason == "no_stocktake"
    assert stocktake.start(store, Scope(), "H001").reason == "empty_scope"


def test_in_stocktake_mode_the_kiosk_counts_books_and_never_lends_or_returns(
    store: Store, circulation: Circulation, desk: Kiosk, clock: FakeClock
) -> None:
    assert circulation.checkout("S003", "9787535449450").ok  # on loan, found on the shelf
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    # No loans, no returns: a child's card is asked to come back later; a helper's opens the desk.
    actions = "SELECT count(*) FROM events WHERE type NOT IN ('stocktake_scan', 'visit')"
    events_before = store.value(actions)

    fb = desk.scan("9787535449450")
    assert (fb.kind, fb.reason) == ("warning", "stocktake_on_loan_found")
    fb = desk.scan(STUDENT_CARD)
    assert (fb.kind, fb.reason, desk.mode) == ("warning", "counting_card", "idle")
    fb = desk.scan("9787020002207")
    assert (fb.kind, fb.reason, fb.params["title"]) == ("ok", "stocktake_found", "红楼梦")
    assert desk.scan("NOT-A-BOOK").reason == "stocktake_unknown"
    clock.advance(60)
    assert desk.scan(HELPER_CARD).reason == "desk_opened"
    assert desk.scan("9787530215982").reason == "stocktake_found"

    assert store.value(actions) == events_before
    loans = store.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    assert loans == [{"item_barcode": "9787535449450", "patron_id": "S003"}]
    scanned = store.query("SELECT barcode FROM stocktake_scans ORDER BY barcode")
    assert [r["barcode"] for r in scanned] == [
        "9787020002207",
        "9787530215982",
        "9787535449450",
        "NOT-A-BOOK",
    ]
    # Paused, the kiosk lends again.
    assert stocktake.set_status(store, "paused", "H001").ok
    desk.done()
    desk.scan(STUDENT_CARD)
    assert desk.scan("9787020002207").reason == "ok"


def test_starting_or_pausing_a_stocktake_ends_the_open_session_at_once(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    heard: list[tuple[str, str]] = []
    desk.subscribe(lambda fb: heard.append((fb.kind, fb.reason)))
    desk.scan(STUDENT_CARD)
    assert desk.mode == "patron" and not desk.counting
    assert stocktake.start(store, Scope(location="library"), "H001").ok  # from the dashboard
    desk.tick()  # the daemon's loop, a tenth of a second later
    assert (desk.mode, desk.counting) == ("idle", True)
    assert heard[-1] == ("session_ended", "counting_started")
    fb = desk.scan("9787020002207")  # the first shelf scan is counted, not lent
    assert fb.reason == "stocktake_found"
    # A helper's desk during the stocktake stays open when it is paused (the helper may have
    # paused it from the desk page), and its scans return books again.
    assert desk.scan(HELPER_CARD).reason == "desk_opened"
    assert stocktake.set_status(store, "paused", "H001").ok
    desk.tick()
    assert (desk.mode, desk.counting) == ("desk", False)
    assert heard[-1] == ("session_started", "desk_opened")
    assert desk.scan("9787020002207").reason != "stocktake_found"
    assert store.value("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 0


def test_a_scan_right_after_the_start_is_counted_even_before_the_loop_noticed(
    store: Store, desk: Kiosk
) -> None:
    desk.scan(STUDENT_CARD)
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    fb = desk.scan("9787020002207")  # no tick in between
    assert (fb.reason, desk.mode) == ("stocktake_found", "idle")
    assert store.value("SELECT count(*) FROM loans") == 0


def test_counts_match_the_report(store: Store, circulation: Circulation) -> None:
    scans, _ = plan_stocktake(store, circulation)
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    for code in scans:
        stocktake.scan(store, code, "H001")
    st = stocktake.latest(store.reader)
    assert st is not None
    assert stocktake.counts(store.reader, st) == stocktake.summary(
        stocktake.report(store.reader, st)
    )


# The session's look at the stocktake, identify (card, book with its open loan), BEGIN, the
# stocktake inside the write, the scan (its stocktake found by the INSERT), the event, the book
# with whether it is on loan, COMMIT.
SCAN_STATEMENTS = 9


def test_a_stocktake_scan_runs_no_more_statements_than_counted(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    assert circulation.checkout("S003", "9787535449450").ok
    assert stocktake.start(store, Scope(location="library"), "H001").ok
    desk.scan("9787020002207")
    for code, reason in (
        ("9787530215982", "stocktake_found"),
        ("9787535449450", "stocktake_on_loan_found"),
        ("NOT-A-BOOK", "stocktake_unknown"),
    ):
        with statements_of(store) as seen:
            fb = desk.scan(code)
        listing = "\n".join(seen)
        assert fb.reason == reason
        assert len(seen) <= SCAN_STATEMENTS, listing
        writes = [" ".join(s.split()[:3]) for s in seen if s.startswith("INSERT")]
        assert writes == ["INSERT INTO stocktake_scans", "INSERT INTO events"], listing
        assert seen[-1] == "COMMIT", listing  # the answer comes after the durable commit
    scanned = store.query("SELECT barcode FROM stocktake_scans ORDER BY barcode")
    assert [r["barcode"] for r in scanned] == [
        "9787020002207", "9787530215982", "9787535449450", "NOT-A-BOOK"
    ]  # fmt: skip
