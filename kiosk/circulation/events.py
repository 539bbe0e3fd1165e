"""Events and what a decision returns: plain values, no store, no SQL.

A decision (decide.py and the other pure decision modules) returns `Draft`s, the events it wants
recorded, or a `Refusal` with its reason; the projector stamps drafts into `Event`s and applies
them. Kept apart from the store so that importing a decision loads no database code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import uuid6

# What json.dumps(data, ensure_ascii=False, sort_keys=True) writes, with the encoder made once
# (json.dumps makes one a call when given options: the hub writes 10,000 events a drain).
_data_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def ordered_uuid() -> str:
    """Return a new event UUID that sorts by time (RFC 9562 version 7, the `uuid6` package).

    The events' UNIQUE index on `uuid` takes every new one. Random UUIDs (version 4) landed on a
    random page of it each: an import's hundreds of events dirtied hundreds of pages a batch,
    which the next scan's COMMIT then had to sync (scans' p99 beside an import 1.4 -> 13 ms).
    Ordered ones land on its last page.
    """
    return str(uuid6.uuid7())


@dataclass(frozen=True)
class Event:
    """One thing that happened at the desk; immutable and identified by a UUID."""

    type: str
    at: str
    kiosk_id: str
    actor: str = ""
    patron_id: str | None = None
    item_barcode: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    uuid: str = field(default_factory=ordered_uuid)
    seq: int | None = None

    def row(self) -> dict[str, Any]:
        """Return the event as an events-table row."""
        return {
            "uuid": self.uuid,
            "type": self.type,
            "at": self.at,
            "kiosk_id": self.kiosk_id,
            "actor": self.actor,
            "patron_id": self.patron_id,
            "item_barcode": self.item_barcode,
            "data": _data_json(self.data if type(self.data) is dict else dict(self.data)),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Event:
        """Build an event from an events-table row."""
        return cls(
            type=row["type"],
            at=row["at"],
            kiosk_id=row["kiosk_id"],
            actor=row["actor"],
            patron_id=row["patron_id"],
            item_barcode=row["item_barcode"],
            data=json.loads(row["data"]),
            uuid=row["uuid"],
            seq=row.get("seq"),
        )


@dataclass(frozen=True)
class Refusal:
    """A decision's no: a stable reason code and the message's parameters."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """An event a decision wants recorded; `commit` gives it a UUID, a time and a kiosk.

    `at`: only for a copy of a row decided at another time (the demo school's history); an
    event decided here is stamped with the time the handler read.
    """

    type: str
    actor: str = ""
    patron_id: str | None = None
    item_barcode: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    at: str | None = None
