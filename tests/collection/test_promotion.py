"""The new school year on the demo school: `kiosk promote --dry-run`, then `kiosk promote`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from daemon.test_daemon import kiosk_cmd

from kiosk.circulation.collection.promotion import decide, next_class_name
from kiosk.circulation.demo import make_demo
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store

pytestmark = pytest.mark.slow  # `kiosk` commands in processes


def test_class_names_move_up_a_grade() -> None:
    assert next_class_name("三(2)班", 3) == "四(2)班"
    assert next_class_name("5(1)", 5) == "6(1)"
    assert next_class_name("Dolphins", 2) == "Dolphins"
    plan = decide(
        [
            {"id": "a", "name": "A", "grade": 6, "class_name": "六(1)班", "loans": 1},
            {"id": "b", "name": "B", "grade": 6, "class_name": "六(1)班", "loans": 0},
            {"id": "c", "name": "C", "grade": 1, "class_name": "一(1)班", "loans": 0},
            {"id": "d", "name": "D", "grade": 7, "class_name": "六(2)班（2026届）", "loans": 0},
            {"id": "e", "name": "E", "grade": 7, "class_name": "六(2)班（2026届）", "loans": 2},
        ],
        last_grade=6,
        year=2027,
    )
    assert [(s["id"], s["grade"], s["class_name"]) for s in plan.kept] == [
        ("a", 7, "六(1)班（2027届）"),
        ("e", 7, "六(2)班（2026届）"),
    ]
    assert [s["id"] for s in plan.leavers] == ["b", "d"]
    assert [(m["id"], m["grade"], m["class_name"]) for m in plan.moves] == [("c", 2, "二(1)班")]


def test_promotion_of_the_demo_school_keeps_a_leaver_who_still_has_a_book(tmp_path: Path) -> None:
    settings, _ = make_demo(tmp_path / "demo", seed=7, today=dt.date(2026, 7, 1))
    cfg = tmp_path / "demo" / "config.toml"
    store = Store.open(settings.resolve(settings.store.path), kiosk_id="demo-kiosk")
    with_books = {
        r["id"]
        for r in store.query(
            "SELECT DISTINCT p.id FROM patrons p JOIN loans l ON l.patron_id = p.id "
            "WHERE l.returned_at IS NULL AND p.grade = 6"
        )
    }
    sixth = store.value("SELECT count(*) FROM patrons WHERE grade = 6")
    third_2 = store.value("SELECT count(*) FROM patrons WHERE class_name = '三(2)班' AND grade = 3")
    before = store.query("SELECT id, grade, class_name, status FROM patrons ORDER BY id")
    store.close()
    assert with_books, "the demo school should have a sixth-grader with a book out"

    dry = kiosk_cmd(cfg, "promote", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"Leavers with books still out, kept on the list: {len(with_books)}" in dry.stdout
    assert f"三(2)班 -> 四(2)班: {third_2}" in dry.stdout
    assert dry.stdout.endswith("dry run: nothing changed\n")
    store = Store.open(settings.resolve(settings.store.path), kiosk_id="demo-kiosk")
    assert store.query("SELECT id, grade, class_name, status FROM patrons ORDER BY id") == before
    store.close()

    done = kiosk_cmd(cfg, "promote")
    assert done.returncode == 0, done.stderr
    assert f"Leavers closed: {sixth - len(with_books)}" in done.stdout
    store = Store.open(settings.resolve(settings.store.path), kiosk_id="demo-kiosk")
    try:
        kept = store.query(
            "SELECT id, status, grade, class_name FROM patrons WHERE id IN "
            f"({','.join('?' * len(with_books))})",
            sorted(with_books),
        )
        # Kept: blocked from borrowing, their class named by the year they left.
        assert {(r["status"], r["grade"]) for r in kept} == {("blocked", 7)}
        assert all(r["class_name"].endswith(f"（{dt.date.today().year}届）") for r in kept)
        assert store.value("SELECT count(*) FROM patrons WHERE status = 'left'") == sixth - len(
            with_books
        )
        assert (
            store.value(
                "SELECT count(*) FROM patrons WHERE class_name = '四(2)班' AND "
                "grade = 4 AND role IN ('student', 'helper')"
            )
            == third_2
        )
        assert store.value("SELECT count(*) FROM patrons WHERE grade = 1") == 0
        assert store.value("SELECT count(*) FROM events WHERE type = 'year_promoted'") == 1
        # A leaver kept on the list may return books but borrow nothing more.
        circulation = Circulation(store)
        leaver = sorted(with_books)[0]
        free_book = store.value("SELECT barcode FROM items WHERE status = 'available' LIMIT 1")
        assert circulation.checkout(leaver, free_book).reason == "patron_blocked"
        for loan in circulation.loans_of(leaver):
            assert circulation.checkin(loan["item_barcode"]).ok
    finally:
        store.close()
    again = kiosk_cmd(cfg, "promote")
    assert again.returncode == 1
    assert "once a school year is enough" in again.stderr
    closed = kiosk_cmd(cfg, "promote", "--close-leavers")
    assert closed.stdout == "Leavers closed, their books all back: 1.\n", closed.stderr
    store = Store.open(settings.resolve(settings.store.path), kiosk_id="demo-kiosk")
    try:
        assert store.value("SELECT status FROM patrons WHERE id = ?", [leaver]) == "left"
    finally:
        store.close()
