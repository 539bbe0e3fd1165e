"""The one projector: apply each event's effect to the tables, inside the caller's transaction.

Every writer of loans, items, cards, patrons and rules goes through `project`: the kiosk's
service, the desk, the hub's replay of merged events, the kiosk's copy of the hub's data, the
demo and the importers. A new event type is a pure decision (returning events) plus one
projection registered here with `@projection("type")`, written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.store import Event

Projection = Callable[[Database, Event], None]
_PROJECTIONS: dict[str, Projection] = {}


@dataclass(frozen=True)
class Refusal:
    """A decision's no: a stable reason code and the message's parameters."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def projection(*types: str) -> Callable[[Projection], Projection]:
    """Register a function as the projection of one or more event types."""

    def register(fn: Projection) -> Projection:
        for type_ in types:
            if type_ in _PROJECTIONS:
                raise ValueError(f"event type {type_!r} already has a projection")
            _PROJECTIONS[type_] = fn
        return fn

    return register


def project(db: Database, event: Event) -> None:
    """Apply one event's effect to the tables; event types with no effect on them are skipped."""
    if not db.conn.in_transaction:
        raise RuntimeError("events are projected only inside store.write()")
    fn = _PROJECTIONS.get(event.type)
    if fn is not None:
        fn(db, event)


def event_types() -> list[str]:
    """Return every event type that has a projection, sorted."""
    return sorted(_PROJECTIONS)


# The projection modules register themselves on import; importing them here means whoever
# imports the projector has them all (after the functions above exist, for the decorator).
import kiosk.circulation.projections  # noqa: E402, F401
