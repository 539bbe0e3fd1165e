"""The collection's hook on a checkout: a hold is fulfilled, and a book with none is read once."""

from __future__ import annotations

from collection.shelves import statements_of
from kiosk.circulation.collection import holds
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

S001_CARD, S003_CARD = "0F00A1B2C3", "0F00A1B2C5"
RED, PRINCE = "9787020002207", "9787535449450"


def test_a_checkout_with_no_hold_on_the_book_looks_at_holds_once(store: Store, desk: Kiosk) -> None:
    desk.scan(S001_CARD)
    with statements_of(store) as seen:
        fb = desk.scan(RED)
    assert (fb.kind, fb.result and fb.result.action) == ("ok", "checkout")
    listing = "\n".join(seen)
    # `before` found no hold on the book, so `after` does not look for one to fulfil.
    assert sum("FROM holds" in s for s in seen) == 1, listing
    assert seen.index("COMMIT") > max(i for i, s in enumerate(seen) if "FROM holds" in s), listing


def test_the_child_who_waited_for_a_book_has_their_hold_fulfilled_at_checkout(
    store: Store, circulation: Circulation, desk: Kiosk
) -> None:
    assert circulation.checkout("S003", PRINCE).ok
    assert holds.place(store, PRINCE, "S001", "H001").ok
    assert desk.scan(PRINCE).reason == "hold_shelf"  # returned: onto the hold shelf for S001
    desk.scan(S003_CARD)
    assert desk.scan(PRINCE).reason == "held_for_other"  # Tom may not take it
    desk.scan(S001_CARD)
    fb = desk.scan(PRINCE)
    assert (fb.kind, fb.result and fb.result.action) == ("ok", "checkout")
    held = store.query("SELECT patron_id, status FROM holds WHERE item_barcode = ?", [PRINCE])
    assert held == [{"patron_id": "S001", "status": "fulfilled"}]
