"""Decisions are pure: rules + state + command + time -> events or a refusal with its reason."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.circulation import decide
from kiosk.circulation.commands import Checkin, Checkout, Renew, UndoLast, Visit
from kiosk.circulation.models import Item, Loan, Patron
from kiosk.circulation.projector import Draft, Refusal, event_types
from kiosk.circulation.rules import Limits, Rules

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)  # Monday, 12:00 in Shanghai
RULES = Rules(by_role={"student": Limits(14, 2, 1)}, closed_weekdays=frozenset({6, 7}))
ANNA = Patron("S1", "王小明", "student", 3, "三(2)班", "active")
BOOK = Item("978-1", "红楼梦", "曹雪芹", "", "", "library", "available")
LOAN = Loan(
    1, "u-1", "978-1", "S1", "2026-10-20T04:00:00.000Z", "2026-11-03T15:59:59.000Z", None, 0
)


def test_checkout_drafts_one_event_with_the_due_date_of_the_rules() -> None:
    state = decide.LoanState(ANNA, BOOK)
    got = decide.checkout(RULES, TZ, state, Checkout("S1", "978-1"), NOW)
    assert got == [Draft("checkout", "S1", "S1", "978-1", {"due_at": "2026-11-16T15:59:59.000Z"})]


def test_checkout_refusals_in_order() -> None:
    cmd = Checkout("S1", "978-1")

    def reason(state: decide.LoanState) -> object:
        got = decide.checkout(RULES, TZ, state, cmd, NOW)
        return got.reason if isinstance(got, Refusal) else got

    blocked = Patron(**{**ANNA.__dict__, "status": "blocked"})
    lost = Item(**{**BOOK.__dict__, "status": "lost"})
    assert reason(decide.LoanState(None, BOOK)) == "unknown_code"
    assert reason(decide.LoanState(blocked, BOOK)) == "patron_blocked"
    assert reason(decide.LoanState(ANNA, BOOK, LOAN)) == "on_loan_to_other"
    assert reason(decide.LoanState(ANNA, lost)) == "item_unavailable"
    assert reason(decide.LoanState(ANNA, BOOK, None, ["2026-11-01T15:59:59.000Z"])) == "has_overdue"
    two = ["2026-11-20T15:59:59.000Z"] * 2
    assert decide.checkout(RULES, TZ, decide.LoanState(ANNA, BOOK, None, two), cmd, NOW) == (
        Refusal("limit_reached", {"count": 2})
    )


def test_a_stray_return_is_recorded_only_with_a_hub() -> None:
    state = decide.LoanState(None, BOOK)
    assert decide.checkin(state, Checkin("978-1"), NOW, record_stray=False) == Refusal(
        "not_on_loan"
    )
    (draft,) = decide.checkin(state, Checkin("978-1"), NOW, record_stray=True)  # type: ignore[misc]
    assert (draft.type, draft.actor, draft.data) == (
        "checkin",
        "self-service",
        {"loan_uuid": None, "not_on_loan": True},
    )


def test_renew_never_moves_the_due_date_earlier_and_respects_the_limit() -> None:
    late_due = Loan(**{**LOAN.__dict__, "due_at": "2026-12-31T15:59:59.000Z"})
    (draft,) = decide.renew(
        RULES, TZ, decide.LoanState(ANNA, BOOK, late_due), Renew("S1", "978-1"), NOW
    )  # type: ignore[misc]
    assert draft.data["due_at"] == "2026-12-31T15:59:59.000Z"
    renewed = Loan(**{**LOAN.__dict__, "renewals": 1})
    got = decide.renew(RULES, TZ, decide.LoanState(ANNA, BOOK, renewed), Renew("S1", "978-1"), NOW)
    assert got == Refusal("renew_limit")


def test_undo_only_the_last_recent_unchanged_action() -> None:
    last = {
        "uuid": "u-1",
        "type": "checkout",
        "at": "2026-11-02T03:59:30.000Z",
        "patron_id": "S1",
        "item_barcode": "978-1",
        "data": {"due_at": LOAN.due_at},
    }
    cmd = UndoLast("H1", 60)
    assert decide.undo(decide.UndoState(last, LOAN), cmd, NOW) == [
        Draft("undo", "H1", "S1", "978-1", {"undone": "u-1", "undone_type": "checkout"})
    ]
    returned = Loan(**{**LOAN.__dict__, "returned_at": "2026-11-02T03:59:50.000Z"})
    assert decide.undo(decide.UndoState(last, returned), cmd, NOW) == Refusal("changed_since")
    assert decide.undo(decide.UndoState(last, LOAN), UndoLast("H1", 10), NOW) == Refusal("too_late")
    assert decide.undo(decide.UndoState(None), cmd, NOW) == Refusal("nothing_to_undo")


def test_every_event_type_with_a_projection_is_in_the_architecture_page() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    table = page[page.index("### Event types") :]
    missing = [t for t in event_types() if f"`{t}`" not in table]
    assert missing == []


def test_rules_with_a_bad_scope_or_a_negative_number_are_refused() -> None:
    good = {"scope": "role:student", "loan_days": 14, "max_loans": 2, "renewals": 1}
    cmd = decide.SetRules((good,), {"block_when_overdue": True}, ("2026-10-01",), "librarian")
    (draft,) = decide.rules_set(cmd)  # type: ignore[misc]
    assert draft.type == "rules_set" and draft.data["closed_days"] == ["2026-10-01"]
    for bad in ({**good, "scope": "class:3"}, {**good, "max_loans": -1}):
        refused = decide.rules_set(decide.SetRules((bad,), {}, (), "librarian"))
        assert isinstance(refused, Refusal) and refused.reason == "bad_rules"


def test_a_visit_is_an_active_patrons_and_changes_no_table() -> None:
    assert decide.visit(ANNA, Visit("S1", "S1")) == [Draft("visit", "S1", "S1")]
    blocked = Patron(**{**ANNA.__dict__, "status": "blocked"})
    assert decide.visit(blocked, Visit("S1")) == Refusal("patron_blocked")
    assert decide.visit(None, Visit("S9")) == Refusal("unknown_code")
    assert "visit" not in event_types()  # no projection: the log is its only record


def test_importing_the_decisions_loads_no_database_code() -> None:
    # A fresh interpreter: this test process has long loaded the store.
    probe = (
        "import sys; import kiosk.circulation.decide, kiosk.circulation.events; "
        "print(sorted(m for m in sys.modules if m.startswith('sqlite') "
        "or m in ('kiosk.circulation.store', 'kiosk.circulation.projector')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
