"""Copies answered before they were written: a line each, so that a kill in between loses none.

A SIP2 self-check shows the library system's answer first and writes its own copy right after
(circulation/handler.py `prepare`, `write_prepared`). In that moment the copy's stamped events
are a line in this file beside the store, appended with one `write` (no sync to disk, as the
copy's own commit): a kill of the daemon leaves the line, and the next start writes what the
log does not have yet. Once every copy answered is written, the file is emptied.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from kiosk.circulation.events import Event
from kiosk.circulation.handler import write_prepared
from kiosk.circulation.store import Store

log = logging.getLogger("kiosk.answered")
SUFFIX = "-answered"


def journal_path(store: Store) -> Path:
    """Return the journal's path: beside the store's file."""
    return Path(f"{store.path}{SUFFIX}")


class Answered:
    """The journal of copies answered and not yet written, and their writing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = journal_path(store)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._unwritten: list[tuple[Event, ...]] = []

    def add(self, events: Sequence[Event]) -> None:
        """Keep a copy's events, answered and not yet written: one line, one `write`."""
        line = json.dumps([e.row() for e in events], ensure_ascii=False) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        self._unwritten.append(tuple(events))

    @property
    def waiting(self) -> bool:
        """Return whether a copy answered is not written yet."""
        return bool(self._unwritten)

    def write(self) -> None:
        """Write every copy answered; empty the journal when all are in the log."""
        failed = False
        while self._unwritten:
            events = self._unwritten.pop(0)
            try:
                write_prepared(self.store, events)
            except Exception:
                # The library system has the transaction; its line stays for the next start.
                log.exception("could not write the copy of %s", events[-1].type)
                failed = True
        if not failed:
            os.ftruncate(self._fd, 0)

    def recover(self) -> int:
        """Write the copies a kill left in the journal; return how many were written."""
        written = 0
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            try:
                events = tuple(Event.from_row(row) for row in json.loads(line))
            except (ValueError, KeyError, TypeError) as e:  # a line cut short by the kill
                log.warning("%s line %d: not a copy (%s); skipped", self.path, n, e)
                continue
            try:
                written += bool(events and write_prepared(self.store, events, recovered=True))
            except Exception:
                log.exception("%s line %d: not written; kept for the next start", self.path, n)
                return written
        os.ftruncate(self._fd, 0)
        if written:
            log.info("wrote %d SIP2 copies answered before the last stop", written)
        return written

    def close(self) -> None:
        """Close the journal's file."""
        os.close(self._fd)
