"""The .koc export, replayed the way Koha's process_koc.pl applies it, ends where the hub ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.circulation.clock import SystemClock
from kiosk.circulation.desk import undo_last
from kiosk.circulation.records import issue_card, report_card_lost

from .conftest import BOOK, Hub, run_cli

pytestmark = pytest.mark.timeout(60)


class FastClock(SystemClock):
    """A kiosk whose clock runs ten minutes ahead."""

    def now(self) -> dt.datetime:
        return super().now() + dt.timedelta(minutes=10)


def koha_replay(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Apply a .koc file as Koha's offline_circ/process_koc.pl does; return loans and errors.

    issue: a book on loan to the same card is renewed; on loan to another card it is returned
    and issued only when that loan was made on an earlier day, else the line is ignored.
    return: a book on loan is returned; a book not on loan is an error.
    """
    assert lines[0].startswith("Version=1.0\t")
    loans: dict[str, tuple[str, str]] = {}  # barcode -> (card, issue date)
    errors = []
    for line in lines[1:]:
        stamp, command, *args = line.split("\t")
        day = stamp.split(" ")[0]
        if command == "issue":
            card, barcode = args
            held = loans.get(barcode)
            if held is None or (held[0] != card and held[1] < day):
                loans[barcode] = (card, day)
        elif command == "return" and loans.pop(args[0], None) is None:
            errors.append(line)
    return {barcode: card for barcode, (card, _) in loans.items()}, errors


def koha_queue(lines: list[str]) -> dict[str, str]:
    """Apply a .koc file as Koha's offline queue does (enqueue_koc.pl, then Process).

    Operations run ordered by their timestamp only; ties are taken in reverse file order here,
    the worst a database may do. issue: a book on loan to another card is returned first, then
    issued (or renewed). return: a book on loan is returned; else nothing.
    """
    ops = sorted(enumerate(lines[1:]), key=lambda p: (p[1].split("\t")[0], -p[0]))
    loans: dict[str, str] = {}
    for _, line in ops:
        _stamp, command, *args = line.split("\t")
        if command == "issue":
            loans[args[1]] = args[0]
        elif command == "return":
            loans.pop(args[0], None)
    return loans


def test_koc_from_the_hub_follows_skew_corrected_time_undo_and_card_rules(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A", clock=SystemClock())
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B", clock=FastClock())
    for k in (a, b):
        k.worker.sync_once()
    # Cards at the hub: S001 also gets an RFID card; S002's printed card is lost and replaced.
    s = hub.store()
    try:
        issue_card(s, "S001", "0f00beef01", actor="librarian")
        report_card_lost(s, "CARD-S002", actor="librarian")
        issue_card(s, "S002", "0F00BEEF02", actor="librarian")
    finally:
        s.close()

    # At B (ten minutes fast) S002 borrows and returns a book; then at A, S001 borrows it.
    assert b.circulation.checkout("S002", BOOK[0]).ok
    assert b.circulation.checkin(BOOK[0]).ok
    b.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[0]).ok
    # A helper lends by mistake and undoes it; another undoes a return.
    assert a.circulation.checkout("S003", BOOK[1], actor="T001").ok
    assert undo_last(a.store, "T001", 60).ok
    assert a.circulation.checkout("S001", BOOK[2], actor="S002").ok
    assert a.circulation.checkin(BOOK[2], actor="S002").ok
    assert undo_last(a.store, "S002", 60).ok
    for k in (a, b):
        k.worker.sync_once()

    hub_loans = {
        r["item_barcode"]: r["patron_id"]
        for r in hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    }
    assert hub_loans == {BOOK[0]: "S001", BOOK[2]: "S001"}
    out = run_cli("--config", str(hub.config), "export", "koc")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    loans, errors = koha_replay(lines)
    assert (loans, errors) == ({BOOK[0]: "CARD-S001", BOOK[2]: "CARD-S001"}, [])
    assert koha_queue(lines) == loans
    issued_to = {line.split("\t")[2] for line in lines[1:] if line.split("\t")[1] == "issue"}
    assert issued_to == {"CARD-S001", "0F00BEEF02", "CARD-S003"}
    assert "CARD-S002" not in out.stdout and "0F00BEEF01" not in out.stdout
    # Each book's lines have strictly increasing times, so Koha's queue keeps their order.
    by_book: dict[str, list[str]] = {}
    for line in lines[1:]:
        fields = line.split("\t")
        by_book.setdefault(fields[-1], []).append(fields[0])
    for times in by_book.values():
        assert times == sorted(set(times)), times


def test_a_transfer_undone_at_another_kiosk_gives_the_book_back_in_koha(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A", clock=SystemClock())
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B", clock=SystemClock())
    for k in (a, b):
        k.worker.sync_once()
    # S001 borrows at A; at B's desk the book is lent to S002 by mistake (a transfer), undone.
    assert a.circulation.checkout("S001", BOOK[3]).ok
    a.worker.sync_once()  # B has not heard of it: to B the book is on the shelf
    assert b.circulation.checkout("S002", BOOK[3], actor="T001").ok
    assert undo_last(b.store, "T001", 60).ok
    for k in (b, a):
        k.worker.sync_once()
    hub_loans = {
        r["item_barcode"]: r["patron_id"]
        for r in hub.query("SELECT item_barcode, patron_id FROM loans WHERE returned_at IS NULL")
    }
    assert hub_loans == {BOOK[3]: "S001"}
    out = run_cli("--config", str(hub.config), "export", "koc")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    commands = [line.split("\t")[1:] for line in lines[1:]]
    assert commands == [
        ["issue", "CARD-S001", BOOK[3]],
        ["return", BOOK[3]],
        ["issue", "CARD-S002", BOOK[3]],
        ["return", BOOK[3]],
        ["issue", "CARD-S001", BOOK[3]],  # S001's loan goes on, as at the hub
    ]
    loans, errors = koha_replay(lines)
    assert (loans, errors) == ({BOOK[3]: "CARD-S001"}, [])
    assert koha_queue(lines) == loans


def test_a_loan_made_before_a_card_replacement_names_the_old_card(
    hub: Hub, kiosk_factory: Any
) -> None:
    from kiosk.circulation.collection import cards

    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A", clock=SystemClock())
    a.worker.sync_once()
    assert a.circulation.checkout("S002", BOOK[4]).ok
    a.worker.sync_once()
    # S002 loses the card; the librarian replaces it at the hub, then S002 borrows again.
    s = hub.store()
    try:
        assert cards.replace(s, "S002", "CARD-S002", "CARD-S002B", "librarian:li").ok
    finally:
        s.close()
    a.worker.sync_once()
    assert a.circulation.checkout("S002", BOOK[5]).ok
    a.worker.sync_once()
    out = run_cli("--config", str(hub.config), "export", "koc")
    assert out.returncode == 0, out.stderr
    issued = [line.split("\t")[2:] for line in out.stdout.splitlines()[1:]]
    # The first loan names the card Koha had then; the one after the replacement the new card.
    assert issued == [["CARD-S002", BOOK[4]], ["CARD-S002B", BOOK[5]]]
    loans, errors = koha_replay(out.stdout.splitlines())
    assert (loans, errors) == ({BOOK[4]: "CARD-S002", BOOK[5]: "CARD-S002B"}, [])
