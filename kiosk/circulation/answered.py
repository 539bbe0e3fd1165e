"""Copies answered before they were written: a line each, so that a kill in between loses none.

A SIP2 self-check shows the library system's answer first and writes its own copy right after
(circulation/handler.py `write_answered`). In that moment the copy's command, its time and the
UUID of its first event are a line in this file beside the store, appended with one `write`
(no sync to disk, as the copy's own commit): a kill of the daemon leaves the line, and the next
start writes what the log does not have yet. Once every copy answered is written, the file is
emptied.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from kiosk.circulation.handler import write_answered
from kiosk.circulation.sip2_copy import CopyCheckin, CopyCheckout, CopyRenew
from kiosk.circulation.store import Store

log = logging.getLogger("kiosk.answered")
SUFFIX = "-answered"
COMMANDS = {kind.__name__: kind for kind in (CopyCheckout, CopyCheckin, CopyRenew)}


def journal_path(store: Store) -> Path:
    """Return the journal's path: beside the store's file."""
    return Path(f"{store.path}{SUFFIX}")


@dataclasses.dataclass(frozen=True)
class Copy:
    """A copy answered: its command, the moment of the answer and its first event's UUID.

    The first UUID is enough: a copy's events are written in one transaction, so the log has
    all of them or none (the others get theirs when written).
    """

    command: Any
    at: str
    uuids: tuple[str, ...]

    def line(self) -> bytes:
        """Return the journal's line for it."""
        kind = type(self.command).__name__  # its fields are plain values: no deep copy
        row = {"command": kind, "fields": vars(self.command), "at": self.at, "uuids": self.uuids}
        return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_line(cls, line: str) -> Copy:
        """Read a journal's line (ValueError, KeyError or TypeError when it is not one)."""
        row = json.loads(line)
        command = COMMANDS[row["command"]](**row["fields"])
        return cls(command, str(row["at"]), tuple(str(u) for u in row["uuids"]))


class Answered:
    """The journal of copies answered and not yet written, and their writing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = journal_path(store)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._unwritten: list[Copy] = []

    def add(self, command: Any, at: str) -> Copy:
        """Keep a copy answered and not yet written: one line, one `write`."""
        copy = Copy(command, at, (self.store.new_uuid(),))
        os.write(self._fd, copy.line())
        self._unwritten.append(copy)
        return copy

    @property
    def waiting(self) -> bool:
        """Return whether a copy answered is not written yet."""
        return bool(self._unwritten)

    def write(self) -> None:
        """Write every copy answered; empty the journal when all are in the log."""
        failed = False
        while self._unwritten:
            copy = self._unwritten.pop(0)
            try:
                write_answered(self.store, copy.command, copy.at, copy.uuids)
            except Exception:
                # The library system has the transaction; its line stays for the next start.
                log.exception("could not write the copy of %s", type(copy.command).__name__)
                failed = True
        if not failed:
            os.ftruncate(self._fd, 0)

    def recover(self) -> int:
        """Write the copies a kill left in the journal; return how many were written."""
        written = 0
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            try:
                copy = Copy.from_line(line)
            except (ValueError, KeyError, TypeError) as e:  # a line cut short by the kill
                log.warning("%s line %d: not a copy (%s); skipped", self.path, n, e)
                continue
            try:
                done = write_answered(self.store, copy.command, copy.at, copy.uuids, True)
            except Exception:
                log.exception("%s line %d: not written; kept for the next start", self.path, n)
                return written
            written += bool(done.events)
        os.ftruncate(self._fd, 0)
        if written:
            log.info("wrote %d SIP2 copies answered before the last stop", written)
        return written

    def close(self) -> None:
        """Close the journal's file."""
        os.close(self._fd)
