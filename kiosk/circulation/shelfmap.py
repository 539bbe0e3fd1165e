"""The library map: the librarian draws the shelves once as named boxes on a small grid, each
with the 中图法 classes it holds, and a search says on which shelf a title stands and shows it.

Drawing it is a command (`SetLibraryMap`): `decide.library_map` checks the boxes (a name each,
names not twice, classes that exist) and returns the `library_map_set` event or a refusal with a
reason; its projection (projections/master.py) replaces the `shelf_boxes` table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.circulation.commands import MapCell as Cell
from kiosk.circulation.commands import SetLibraryMap
from kiosk.circulation.events import Refusal
from kiosk.circulation.handler import handle
from kiosk.circulation.stats.find import SHELVES as SHELVES  # the map page lists them
from kiosk.circulation.store import Event, Store
from kiosk.i18n import N_

ROWS, COLS = 4, 6  # the grid the librarian fills in: enough for a school library's room
REFUSALS = {
    "no_name": N_("The box in row {row}, column {col} has classes but no name."),
    "long_name": N_("The name of the box in row {row}, column {col} is too long."),
    "same_name": N_("Two boxes are called {name}: give each shelf its own name."),
    "unknown_class": N_("{letter} is not a 中图法 class: use letters like I, Q or Z."),
}


@dataclass(frozen=True)
class Place:
    """Where a class's shelf is: its box, and every box of the map to draw around it."""

    name: str
    row: int
    col: int
    rows: int
    cols: int
    boxes: tuple[tuple[int, int], ...]


def set_map(store: Store, cells: Iterable[Cell], actor: str) -> Event | Refusal:
    """Make the drawn boxes the library map (decide.library_map checks them)."""
    done = handle(store, SetLibraryMap(tuple(cells), actor))
    return done.refusal if done.refusal is not None else done.event


def boxes(store: Store) -> list[Cell]:
    """Return the map's boxes as drawn."""
    rows = store.reader.execute("SELECT row, col, name, classes FROM shelf_boxes ORDER BY row, col")
    return [Cell(*r) for r in rows]


def places(store: Store) -> dict[str, Place]:
    """Return where each class's shelf is on the map (a class in two boxes: the first)."""
    drawn = boxes(store)
    if not drawn:
        return {}
    rows = max(b.row for b in drawn) + 1
    cols = max(b.col for b in drawn) + 1
    every = tuple((b.row, b.col) for b in drawn)
    found: dict[str, Place] = {}
    for b in drawn:
        for letter in b.classes:
            found.setdefault(letter, Place(b.name, b.row, b.col, rows, cols, every))
    return found
