"""The library map's decision and projection on a real store."""

from __future__ import annotations

from kiosk.circulation import shelfmap
from kiosk.circulation.projector import Refusal
from kiosk.circulation.shelfmap import Cell
from kiosk.circulation.store import Store


def test_boxes_make_places_and_a_new_map_replaces_the_old(store: Store) -> None:
    first = [Cell(0, 0, "门边", "A B"), Cell(1, 3, " 故事 ", "i,j"), Cell(2, 2, "", "")]
    assert not isinstance(shelfmap.set_map(store, first, "librarian:x"), Refusal)
    places = shelfmap.places(store)
    assert sorted(places) == ["A", "B", "I", "J"]
    assert places["I"] == shelfmap.Place("故事", 1, 3, 2, 4, ((0, 0), (1, 3)))
    assert not isinstance(shelfmap.set_map(store, [Cell(0, 0, "百科", "Z")], "x"), Refusal)
    assert list(shelfmap.places(store)) == ["Z"]
    assert shelfmap.set_map(store, [], "x") is not None and shelfmap.places(store) == {}


def test_a_map_that_makes_no_sense_is_refused_with_its_reason(store: Store) -> None:
    assert not isinstance(shelfmap.set_map(store, [Cell(0, 0, "门边", "I")], "x"), Refusal)
    cases = {
        (Cell(0, 0, "", "I"),): Refusal("no_name", {"row": 1, "col": 1}),
        (Cell(1, 2, "x" * 21, "I"),): Refusal("long_name", {"row": 2, "col": 3}),
        (Cell(0, 0, "书", "I"), Cell(0, 1, "书", "J")): Refusal("same_name", {"name": "书"}),
        (Cell(0, 0, "书", "IL"),): Refusal("unknown_class", {"letter": "L"}),
    }
    for cells, refusal in cases.items():
        assert shelfmap.set_map(store, cells, "x") == refusal
    # The map drawn first is still there.
    assert [c.name for c in shelfmap.boxes(store)] == ["门边"]
