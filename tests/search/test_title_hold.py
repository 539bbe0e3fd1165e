""" "I want this" at the kiosk: a hold on a title with every copy out, for the session's child or
the next card tapped, within the limit of holds, and the child's place in the queue."""

from __future__ import annotations

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection import holds
from kiosk.circulation.collection.kiosk_hook import CollectionHook
from kiosk.circulation.records import put_item
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk
from kiosk.circulation.store import Store

WOLF = ["WOLF1", "WOLF2"]
CARD_A, CARD_B, HELPER = "0F00A1B2C3", "0F00A1B2C4", "0F00AAAA01"


@pytest.fixture
def kiosk(store: Store, clock: FakeClock) -> Kiosk:
    """A kiosk with the collection's hook, both copies of 狼王梦 lent to Tom."""
    with store.write() as db:
        for b in WOLF:
            put_item(db, {"barcode": b, "title": "狼王梦", "author": "沈石溪"}, store.now())
    c = Circulation(store, "Asia/Shanghai")
    assert c.checkout("S003", "WOLF1").ok
    clock.advance(days=1)
    assert c.checkout("S003", "WOLF2").ok
    return Kiosk(c, clock, hook=CollectionHook(c, max_holds=2))


def open_holds(store: Store) -> list[tuple[str, str]]:
    rows = store.query(
        "SELECT patron_id, item_barcode FROM holds WHERE status = 'waiting' ORDER BY placed_at"
    )
    return [(r["patron_id"], r["item_barcode"]) for r in rows]


def test_in_a_session_the_hold_is_placed_and_the_place_said(kiosk: Kiosk, store: Store) -> None:
    kiosk.scan(CARD_A)
    fb = kiosk.want("WOLF2")
    assert fb is not None and fb.kind == "ok" and fb.reason == "hold_placed"
    assert fb.params == {"title": "狼王梦", "position": 1}
    # The copy due first is held (WOLF1 was lent a day earlier).
    assert open_holds(store) == [("S001", "WOLF1")]
    again = kiosk.want("WOLF1")
    assert again is not None and again.reason == "title_held"
    assert open_holds(store) == [("S001", "WOLF1")]


def test_the_next_child_is_queued_on_the_copy_with_the_shorter_queue(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.scan(CARD_A)
    kiosk.want("WOLF1")
    kiosk.done()
    clock.advance(1)
    kiosk.scan(CARD_B)
    fb = kiosk.want("WOLF1")
    assert fb is not None and fb.params["position"] == 1
    assert open_holds(store) == [("S001", "WOLF1"), ("S002", "WOLF2")]


def test_idle_i_want_this_then_a_card_starts_the_session_with_the_hold(
    kiosk: Kiosk, store: Store
) -> None:
    assert kiosk.want("WOLF1") is None  # waits for a card
    assert open_holds(store) == []
    fb = kiosk.scan(CARD_A)
    assert fb.kind == "session_started" and kiosk.mode == "patron"
    assert fb.reason == "hold_placed"
    assert fb.message == holds.MESSAGES["hello_queue"]
    assert fb.params == {"name": "小明", "title": "狼王梦", "position": 1}
    assert open_holds(store) == [("S001", "WOLF1")]


def test_a_want_is_forgotten_after_the_search_times_out(
    kiosk: Kiosk, store: Store, clock: FakeClock
) -> None:
    kiosk.want("WOLF1")
    clock.advance(29)
    assert not kiosk.search_over()
    clock.advance(2)
    assert kiosk.search_over()
    assert not kiosk.search_over()  # said once
    fb = kiosk.scan(CARD_A)
    assert fb.reason == "session_started" and open_holds(store) == []


def test_a_touch_keeps_the_search_open_and_a_card_ends_it(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.touch()
    clock.advance(20)
    kiosk.touch()
    clock.advance(20)
    assert not kiosk.search_over()
    kiosk.scan(CARD_A)
    kiosk.done()
    clock.advance(60)
    assert not kiosk.search_over()  # the card ended the search


def test_a_book_on_the_shelf_is_borrowed_not_waited_for(kiosk: Kiosk, store: Store) -> None:
    kiosk.scan(CARD_A)
    fb = kiosk.want("9787020002207")  # 红楼梦, on the shelf
    assert fb is not None and fb.kind == "warning" and fb.reason == "on_shelf"
    assert fb.params["title"] == "红楼梦" and open_holds(store) == []


def test_the_limit_of_holds(kiosk: Kiosk, store: Store) -> None:
    c = kiosk.circulation
    for n in range(2):
        with store.write() as db:
            put_item(db, {"barcode": f"OUT{n}", "title": f"借出的书{n}"}, store.now())
        assert c.checkout("T001", f"OUT{n}").ok
    kiosk.scan(CARD_A)
    assert [kiosk.want(f"OUT{n}").reason for n in range(2)] == ["hold_placed"] * 2  # type: ignore[union-attr]
    fb = kiosk.want("WOLF1")
    assert fb is not None and fb.reason == "hold_limit"
    assert len(open_holds(store)) == 2


def test_a_child_does_not_wait_for_their_own_book(kiosk: Kiosk, store: Store) -> None:
    kiosk.scan("0F00A1B2C5")  # Tom, who has both copies
    fb = kiosk.want("WOLF1")
    assert fb is not None and fb.reason == "title_own_loan" and open_holds(store) == []
