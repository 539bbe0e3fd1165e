"""Write the loans as a Koha offline circulation file (.koc), for schools already on Koha.

The format Koha's "Upload offline circulation file" reads: a header line of tab-separated
`key=value` pairs starting with `Version=1.0`, then one transaction per line, in the order they
happened, local time first: `issue` with card number and barcode, or `return` with the barcode.
A renewal is written as an `issue` to the same patron, which Koha treats as a renewal.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO
from zoneinfo import ZoneInfo

from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.export import without_controls
from kiosk.circulation.store import Store

GENERATOR = "kiosk"
GENERATOR_VERSION = "0.1.0"


def card_numbers(store: Store) -> dict[str, str]:
    """Return patron id -> the card number to write: the newest active card, else the id."""
    out: dict[str, str] = {}
    for row in store.query(
        "SELECT patron_id, code FROM cards ORDER BY status = 'active', created_at, code"
    ):
        out[row["patron_id"]] = row["code"]  # the last one wins: active and newest
    return out


def koc_lines(store: Store, timezone: str) -> list[str]:
    """Return the lines of the file: the header, then each issue, renewal and return."""
    tz = ZoneInfo(timezone)
    cards = card_numbers(store)
    lines = [f"Version=1.0\tGenerator={GENERATOR}\tGeneratorVersion={GENERATOR_VERSION}"]
    for e in store.query(
        "SELECT type, at, patron_id, item_barcode FROM events "
        "WHERE type IN ('checkout', 'renew', 'checkin') AND item_barcode IS NOT NULL "
        "ORDER BY at, seq"
    ):
        when = _local(e["at"], tz)
        # A TAB or line break in a code would forge a field or a whole transaction.
        barcode = without_controls(e["item_barcode"])
        if e["type"] == "checkin":
            lines.append(f"{when}\treturn\t{barcode}")
        elif e["patron_id"]:
            card = without_controls(cards.get(e["patron_id"], e["patron_id"]))
            lines.append(f"{when}\tissue\t{card}\t{barcode}")
    return lines


def _local(at: str, tz: dt.tzinfo) -> str:
    return parse_stamp(at).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def write_koc(store: Store, out: TextIO, timezone: str) -> int:
    """Write the .koc file to `out`; return the number of transactions."""
    lines = koc_lines(store, timezone)
    out.write("\n".join(lines) + "\n")
    return len(lines) - 1
