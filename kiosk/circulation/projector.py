"""The one projector: apply each event's effect to the tables, inside the caller's transaction.

Every writer of loans, items, cards, patrons and rules goes through `project`: the kiosk's
service, the desk, the hub's replay of merged events, the kiosk's copy of the hub's data, the
demo and the importers. A new event type is a pure decision (returning events) plus one
projection registered here with `@projection("type")`, written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlite_utils import Database

from kiosk.circulation.events import Draft, Event
from kiosk.circulation.events import Refusal as Refusal  # re-exported: decisions import it here
from kiosk.circulation.store import Store

Projection = Callable[[Database, Event], None]
_PROJECTIONS: dict[str, Projection] = {}


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


def commit(store: Store, db: Database, drafts: Iterable[Draft], at: str) -> list[Event]:
    """Stamp each drafted event, apply it and append it to the log, in the caller's transaction.

    Each is applied in order, then all are appended at once (a batch of copies is hundreds): no
    projection reads an event of its own command from the log (an undo reads an earlier one).
    """
    done = []
    for d in drafts:
        event = Event(
            type=d.type,
            at=d.at or at,
            kiosk_id=store.kiosk_id,
            actor=d.actor,
            patron_id=d.patron_id,
            item_barcode=d.item_barcode,
            data=dict(d.data),
            uuid=store.new_uuid(),
        )
        project(db, event)
        done.append(event)
    return store.record_all(db, done)


def event_types() -> list[str]:
    """Return every event type that has a projection, sorted."""
    return sorted(_PROJECTIONS)


# The projection modules register themselves on import; importing them here means whoever
# imports the projector has them all (after the functions above exist, for the decorator).
import kiosk.circulation.projections  # noqa: E402, F401
