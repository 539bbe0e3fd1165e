"""The one handler: a command becomes events through its decision, committed in one write.

`handle(store, command)` is the only way a command becomes events. It opens the write, runs the
command's step (read the state the decision needs through named queries, call the pure
decision) and commits the drafted events through the projector in the same transaction. A step
is registered once per command type with `@step(CommandType)`; entry points (scan session, desk,
dashboard, collection, imports, SIP2, demo) build a command and call `handle`, nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlite_utils import Database

from kiosk.circulation.clock import parse_stamp, stamp
from kiosk.circulation.events import Draft, Event, Refusal
from kiosk.circulation.projector import commit, commit_stamped, stamped
from kiosk.circulation.queries.loans import event_logged
from kiosk.circulation.store import Store


@dataclass(frozen=True)
class Context:
    """What a step knows besides the store and the command: the time and the kiosk's settings."""

    now: dt.datetime
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decided:
    """A step's answer: the decision (drafts or a refusal) and the state it was decided on."""

    decision: list[Draft] | Refusal
    state: Any = None


@dataclass(frozen=True)
class Outcome:
    """What a command did: the recorded events, or the refusal; and the state it was decided on."""

    events: tuple[Event, ...] = ()
    refusal: Refusal | None = None
    state: Any = None

    @property
    def ok(self) -> bool:
        """Return whether the command was carried out."""
        return self.refusal is None

    @property
    def reason(self) -> str:
        """Return 'ok' or the refusal's reason code."""
        return "ok" if self.refusal is None else self.refusal.reason

    @property
    def event(self) -> Event:
        """Return the one event of a command that records exactly one."""
        (only,) = self.events
        return only


Step = Callable[[Database, Any, Context], Decided]
_STEPS: dict[type, Step] = {}


def step(*command_types: type) -> Callable[[Step], Step]:
    """Register a function as the step (read, then decide) of one or more command types."""

    def register(fn: Step) -> Step:
        for kind in command_types:
            if kind in _STEPS:
                raise ValueError(f"command {kind.__name__} already has a step")
            _STEPS[kind] = fn
        return fn

    return register


def step_alone(command_type: type, decision: Callable[[Any], list[Draft] | Refusal]) -> None:
    """Register the step of a command whose decision needs nothing from the store."""
    step(command_type)(lambda db, cmd, context: Decided(decision(cmd)))


def handle(
    store: Store,
    command: Any,
    settings: Mapping[str, Any] | None = None,
    *,
    actor: str | None = None,
    durable: bool = True,
) -> Outcome:
    """Read, decide and commit one command in one transaction; a refusal changes nothing.

    Called inside another write it joins that transaction (one action, one transaction).
    `actor`, when given, is set on every drafted event (the collection's chores are drafted
    without one). `durable=False` is only for a copy of what another system already committed.
    """
    fn = _step_of(command)
    with store.write(durable) as db:
        context = Context(store.clock.now(), settings or {})
        decided = fn(db, command, context)
        if isinstance(decided.decision, Refusal):
            return Outcome(refusal=decided.decision, state=decided.state)
        drafts = decided.decision
        if actor is not None:
            drafts = [replace(d, actor=actor) for d in drafts]
        done = commit(store, db, drafts, stamp(context.now))
        return Outcome(tuple(done), state=decided.state)


def write_answered(
    store: Store, command: Any, at: str, uuids: Sequence[str], recovered: bool = False
) -> Outcome:
    """Read, decide and commit a copy whose answer has already shown, as of that moment.

    Only for a copy of what another system has already committed (a SIP2 library system's
    answer): the answer shows first, then this writes the copy (not synced on its own), its
    events stamped `at` with the `uuids` given when it was answered (circulation/answered.py).
    `recovered`: from the journal after a kill, which may have come after the write: nothing
    is written again if the first UUID is in the log.
    """
    fn = _step_of(command)
    with store.write(durable=False) as db:
        if recovered and uuids and event_logged(db, uuids[0]):
            return Outcome()
        decided = fn(db, command, Context(parse_stamp(at), {}))
        if isinstance(decided.decision, Refusal):
            return Outcome(refusal=decided.decision, state=decided.state)
        events = stamped(store, decided.decision, at, uuids)
        return Outcome(tuple(commit_stamped(store, db, events)), state=decided.state)


def command_types() -> list[str]:
    """Return the name of every command type that has a step, sorted."""
    return sorted(kind.__name__ for kind in _steps())


def _step_of(command: Any) -> Step:
    fn = _STEPS.get(type(command)) or _steps().get(type(command))
    if fn is None:
        raise TypeError(f"no step handles {type(command).__name__}")
    return fn


def _steps() -> dict[type, Step]:
    """Return the registered steps, importing the step modules the first time.

    The step modules register themselves on import. They read through the areas' modules,
    which import this handler to run their commands, so they are imported on first use, not
    with the handler: whichever module is imported first, no import finds the other half-done.
    """
    import kiosk.circulation.steps  # noqa: F401

    return _STEPS
