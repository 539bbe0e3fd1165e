"""The demo school: same seed, same school; big enough to feel real; ready to scan."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.demo import PERIODICALS, make_demo
from kiosk.circulation.export import KINDS, write_csv
from kiosk.circulation.importers import normal_isbn
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.config import Settings

TODAY = dt.date(2026, 11, 20)


def exports(settings: Settings) -> dict[str, str]:
    store = Store.open(settings.resolve(settings.store.path), create=False)
    try:
        result = {}
        for kind in KINDS:
            out = io.StringIO()
            write_csv(store, kind, out)
            result[kind] = out.getvalue()
        return result
    finally:
        store.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    return make_demo(tmp_path_factory.mktemp("demo"), seed=2026, today=TODAY)


def test_same_seed_same_school_other_seed_other_school(
    demo: tuple[Settings, str], tmp_path: Path
) -> None:
    again, hints = make_demo(tmp_path / "again", seed=2026, today=TODAY)
    assert exports(again) == exports(demo[0])
    assert hints.splitlines()[1:-1] == demo[1].splitlines()[1:-1]  # all but the paths
    other, _ = make_demo(tmp_path / "other", seed=7, today=TODAY)
    assert exports(other)["patrons"] != exports(demo[0])["patrons"]


def test_the_school_has_the_size_and_shape_of_a_primary_school(demo: tuple[Settings, str]) -> None:
    settings = demo[0]
    store = Store.open(settings.resolve(settings.store.path), create=False)
    q = store.value
    try:
        assert q("SELECT count(DISTINCT class_name) FROM patrons WHERE role = 'student'") == 18
        assert q("SELECT group_concat(DISTINCT grade) FROM patrons WHERE grade IS NOT NULL") == (
            "1,2,3,4,5,6"
        )
        students = q("SELECT count(*) FROM patrons WHERE role IN ('student', 'helper')")
        assert 650 <= students <= 750
        assert q("SELECT count(*) FROM patrons WHERE role = 'helper'") >= 18
        assert q("SELECT count(*) FROM patrons WHERE role = 'teacher'") >= 18
        names = [r["name"] for r in store.query("SELECT name FROM patrons WHERE role='student'")]
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", n) for n in names)
        extra = sum(p[4] for p in PERIODICALS)  # the magazines and reference books
        assert q("SELECT count(*) FROM items") == 8000 + extra
        assert q("SELECT count(*) FROM items WHERE item_type = 'magazine'") == 12
        assert q("SELECT count(*) FROM items WHERE item_type = 'reference'") == 10
        isbns = [r["isbn"] for r in store.query("SELECT DISTINCT isbn FROM items")]
        assert "" in isbns  # a magazine has no ISBN; every book's is a normal one
        assert all(normal_isbn(i) == i for i in isbns if i)
        calls = [r["call_number"] for r in store.query("SELECT DISTINCT call_number FROM items")]
        assert all(re.fullmatch(r"[A-Z][0-9.\-]+/[0-9]+", c) for c in calls)
        assert q("SELECT count(*) FROM items WHERE call_number LIKE 'I247.8/%'") > 0
        assert q("SELECT count(*) FROM items WHERE title GLOB '*[a-z]*'") > 100  # English books
        assert q("SELECT count(*) FROM items WHERE location LIKE '%班图书角'") > 100
        # A term of loans: most returned, some still out, a few overdue, each with its events.
        loans = q("SELECT count(*) FROM loans")
        still_out = q("SELECT count(*) FROM loans WHERE returned_at IS NULL")
        overdue = q(
            "SELECT count(*) FROM loans WHERE returned_at IS NULL AND due_at < ?",
            ["2026-11-20T00:00:00.000Z"],
        )
        assert loans > 2000 and 0 < still_out < loans / 3 and 0 < overdue < still_out / 3
        assert q("SELECT count(*) FROM events WHERE type = 'checkout'") == loans
        assert q("SELECT count(*) FROM events WHERE type = 'checkin'") == loans - still_out
        assert q("SELECT count(*) FROM items WHERE status = 'on_loan'") == still_out
        assert q("SELECT max(checked_out_at) FROM loans") < "2026-11-20"
        assert store.integrity() == "ok"
    finally:
        store.close()


def test_hints_name_codes_that_work(demo: tuple[Settings, str]) -> None:
    settings, hints = demo
    codes = re.findall(r"^  (\S+)  ", hints, flags=re.M)
    assert len(codes) == 8  # 3 students (the last as its printed decimal), a helper, 4 books
    store = Store.open(settings.resolve(settings.store.path), clock=FakeClock("2026-11-20T12:00Z"))
    try:
        circulation = Circulation(store)
        kinds = [
            (circulation.identify(c).kind, getattr(circulation.identify(c).patron, "role", None))
            for c in codes
        ]
        assert kinds[:4] == [("patron", "student")] * 3 + [("patron", "helper")]
        assert re.fullmatch(r"[0-9]{10}", codes[2])
        assert [k for k, _ in kinds[4:]] == ["item"] * 4
        assert circulation.checkout(circulation.identify(codes[0]).patron.id, codes[4]).ok  # type: ignore[union-attr]
    finally:
        store.close()


def test_an_existing_demo_is_reused_not_rebuilt(tmp_path: Path) -> None:
    settings, _ = make_demo(tmp_path, seed=3, today=TODAY)
    db = settings.resolve(settings.store.path)
    before = exports(settings)
    store = Store.open(db)
    Circulation(store).checkin(
        store.value("SELECT item_barcode FROM loans WHERE returned_at IS NULL")
    )
    store.close()
    again, hints = make_demo(tmp_path, seed=3, today=TODAY)
    assert again.resolve(again.store.path) == db
    assert exports(again)["events"].count("\n") == before["events"].count("\n") + 1
    assert "Ctrl+C" in hints


def test_kiosk_run_does_not_load_the_demo_generator() -> None:
    code = "import sys, kiosk.cli, kiosk.daemon.app; print('kiosk.circulation.demo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
