"""The pure decisions of a SIP2 self-check's copy: what is recorded; offline, what is refused."""

from __future__ import annotations

import datetime as dt

from kiosk.circulation import sip2_copy
from kiosk.circulation.events import Refusal
from kiosk.circulation.models import Item, Loan
from kiosk.circulation.sip2_copy import (
    CopyCheckin,
    CopyCheckout,
    CopyState,
    OfflineLimits,
)

NOW = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)
DUE = "2026-12-19T15:59:00.000Z"
LIMITS = OfflineLimits(card_days=7, max_loans=2)
BOOK = Item("B001", "小王子", "", "", "", "library", "available")


def test_a_book_new_here_is_named_first_by_the_system_or_by_its_barcode() -> None:
    drafts = sip2_copy.checkout(CopyState(None), CopyCheckout("P001", "B001", DUE, "小王子"), NOW)
    assert isinstance(drafts, list)
    assert [(d.type, dict(d.data)) for d in drafts] == [
        ("item_named", {"title": "小王子"}),
        ("checkout", {"due_at": DUE, "sip2": "online"}),
    ]
    unnamed = sip2_copy.checkout(CopyState(None), CopyCheckout("P001", "B009", DUE), NOW)
    assert isinstance(unnamed, list)
    assert dict(unnamed[0].data) == {"title": "B009"}


def test_a_known_book_is_renamed_only_when_the_system_calls_it_otherwise() -> None:
    same = sip2_copy.checkout(CopyState(BOOK), CopyCheckout("P001", "B001", DUE, "小王子"), NOW)
    untold = sip2_copy.checkout(CopyState(BOOK), CopyCheckout("P001", "B001", DUE), NOW)
    renamed = sip2_copy.checkout(CopyState(BOOK), CopyCheckout("P001", "B001", DUE, "新版"), NOW)
    assert [[d.type for d in ds] for ds in (same, untold, renamed) if isinstance(ds, list)] == [
        ["checkout"],
        ["checkout"],
        ["item_named", "checkout"],
    ]


def test_offline_a_loan_needs_a_card_accepted_lately_and_room_under_the_limit() -> None:
    def offline(state: CopyState, card_ok: bool = True) -> list[str] | str:
        cmd = CopyCheckout("P001", "B001", DUE, offline=True, card_ok=card_ok)
        decided = sip2_copy.checkout(state, cmd, NOW, LIMITS)
        return decided.reason if isinstance(decided, Refusal) else [d.type for d in decided]

    lately = "2026-12-01T04:00:00.000Z"
    assert offline(CopyState(BOOK, None, lately, 1)) == ["checkout"]
    assert offline(CopyState(BOOK, None, lately, 1), card_ok=False) == "offline_card_unknown"
    assert offline(CopyState(BOOK, None, None, 0)) == "offline_card_unknown"
    assert offline(CopyState(BOOK, None, "2026-11-27T04:00:00.000Z", 0)) == "offline_card_unknown"
    assert offline(CopyState(BOOK, None, lately, 2)) == "offline_limit"


def test_a_return_is_of_the_loan_here_else_of_the_patron_the_system_names() -> None:
    loan = Loan(1, "u-1", "B001", "P001", "2026-12-01T04:00:00.000Z", DUE, None, 0)
    (here,) = sip2_copy.checkin(CopyState(BOOK, loan), CopyCheckin("B001", "P777"))
    assert (here.patron_id, here.data["loan_uuid"], here.actor) == ("P001", "u-1", "self-service")
    (elsewhere,) = sip2_copy.checkin(CopyState(BOOK), CopyCheckin("B001", "P777", offline=True))
    assert (elsewhere.patron_id, dict(elsewhere.data)) == (
        "P777",
        {"loan_uuid": None, "sip2": "offline"},
    )
