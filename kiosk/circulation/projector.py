"""The one projector: apply each event's effect to the tables, inside the caller's transaction.

Every writer of loans, items, cards, patrons and rules goes through `project`: the kiosk's
service, the desk, the hub's replay of merged events, the kiosk's copy of the hub's data, the
demo and the importers. A new event type is a pure decision (returning events) plus one
projection registered here with `@projection("type")`, written once.

A projection registered with `@projections("type")` takes a list of events of that type, each
naming another book, and applies them in a few statements; `project` hands it a list of one, so
it is still the one definition. `project_many` gives it each run of such events (the hub's replay
of a batch of many books).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlite_utils import Database

from kiosk.circulation.events import Draft, Event
from kiosk.circulation.events import Refusal as Refusal  # re-exported: decisions import it here
from kiosk.circulation.store import Store

Projection = Callable[[Database, Event], None]
SetProjection = Callable[[Database, list[Event]], None]
_PROJECTIONS: dict[str, Projection | SetProjection] = {}
_SETS: set[str] = set()  # the types whose projection takes a list of events


def projection(*types: str) -> Callable[[Projection], Projection]:
    """Register a function as the projection of one or more event types."""

    def register(fn: Projection) -> Projection:
        for type_ in types:
            if type_ in _PROJECTIONS:
                raise ValueError(f"event type {type_!r} already has a projection")
            _PROJECTIONS[type_] = fn
        return fn

    return register


def projections(*types: str) -> Callable[[SetProjection], SetProjection]:
    """Register a function as the projection of events of these types, a list of them at a time
    (each event of the list names another book)."""

    def register(fn: SetProjection) -> SetProjection:
        projection(*types)(fn)  # type: ignore[arg-type]
        _SETS.update(types)
        return fn

    return register


def project(db: Database, event: Event) -> None:
    """Apply one event's effect to the tables; event types with no effect on them are skipped."""
    if not db.conn.in_transaction:
        raise RuntimeError("events are projected only inside store.write()")
    fn = _PROJECTIONS.get(event.type)
    if fn is None:
        return
    if event.type in _SETS:
        fn(db, [event])  # type: ignore[arg-type]
    else:
        fn(db, event)  # type: ignore[arg-type]


def project_many(db: Database, events: list[Event]) -> None:
    """Apply events as `project` would one by one, in this order; each run of one type over
    different books goes to its set projection (if the type has one) at once."""
    run: list[Event] = []
    books: set[str | None] = set()
    for e in events:
        joins = e.type in _SETS and e.item_barcode is not None
        if run and (not joins or e.type != run[0].type or e.item_barcode in books):
            _project_run(db, run)
            run, books = [], set()
        if joins:
            run.append(e)
            books.add(e.item_barcode)
        else:
            project(db, e)
    if run:
        _project_run(db, run)


def _project_run(db: Database, run: list[Event]) -> None:
    if not db.conn.in_transaction:
        raise RuntimeError("events are projected only inside store.write()")
    _PROJECTIONS[run[0].type](db, run)  # type: ignore[arg-type]


def commit(store: Store, db: Database, drafts: Iterable[Draft], at: str) -> list[Event]:
    """Stamp each drafted event, apply it and append it to the log, in the caller's transaction.

    Each is applied in order, then all are appended at once (a batch of copies is hundreds): no
    projection reads an event of its own command from the log (an undo reads an earlier one).
    """
    return commit_stamped(store, db, stamped(store, drafts, at))


def stamped(
    store: Store, drafts: Iterable[Draft], at: str, uuids: Sequence[str] = ()
) -> list[Event]:
    """Return the drafted events made whole: their time, this kiosk, a UUID each (the ones
    given, in order, then new ones)."""
    given = iter(uuids)
    return [
        Event(
            type=d.type,
            at=d.at or at,
            kiosk_id=store.kiosk_id,
            actor=d.actor,
            patron_id=d.patron_id,
            item_barcode=d.item_barcode,
            data=dict(d.data),
            uuid=next(given, None) or store.new_uuid(),
        )
        for d in drafts
    ]


def commit_stamped(store: Store, db: Database, events: list[Event]) -> list[Event]:
    """Apply stamped events in order and append them to the log, in the caller's transaction."""
    for event in events:
        project(db, event)
    return store.record_all(db, events)


def event_types() -> list[str]:
    """Return every event type that has a projection, sorted."""
    return sorted(_PROJECTIONS)


# The projection modules register themselves on import; importing them here means whoever
# imports the projector has them all (after the functions above exist, for the decorator).
import kiosk.circulation.projections  # noqa: E402, F401
