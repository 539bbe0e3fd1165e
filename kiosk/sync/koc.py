"""Write the loans as a Koha offline circulation file (.koc), for schools already on Koha.

The format Koha's "Upload offline circulation file" reads: a header line of tab-separated
`key=value` pairs starting with `Version=1.0`, then one transaction per line: local time,
`issue` with card number and barcode, or `return` with the barcode.

The lines come from the same ordered stream the hub replays (on the hub: skew-corrected time,
then each kiosk's own order), and say what the hub's replay decided, in the only two words Koha
has. Koha's `process_koc.pl` renews an `issue` to the patron who has the book, but ignores an
`issue` of a book another patron borrowed the same day (it transfers only across days), and
refuses a `return` of a book not on loan; so a transfer is written as a `return` then an `issue`,
a return of a book not on loan is left out, and an `undo` is written as its reverse (an undone
loan is a `return`, and when that loan had ended another patron's (a transfer), an `issue` to
them again, as the hub's replay gives it back; an undone return an `issue` to the same patron;
an undone renewal has no reverse in Koha and is left out). A line names the card the patron
had when it happened (a replaced card before its replacement). docs/sync.md says the rest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from kiosk import codes
from kiosk.circulation.clock import parse_stamp
from kiosk.circulation.export import without_controls
from kiosk.circulation.store import Store, fetch
from kiosk.sync import hubstore
from kiosk.sync.trust import UNDO_REFUSALS

GENERATOR = "kiosk"
GENERATOR_VERSION = "0.1.0"
TYPES = "('checkout', 'renew', 'checkin', 'undo')"
REFUSED_UNDO = "({})".format(",".join(f"'{k}'" for k in UNDO_REFUSALS))


def card_numbers(store: Store, prefer: str = "barcode") -> dict[str, str]:
    """Return patron id -> the card to write: an active one, the preferred kind, newest first.

    `prefer` is "barcode" (the number printed on a card, which Koha's cardnumber holds) or
    "uid" (the RFID UID). A lost card is written only for a patron with no active card.
    """
    best: dict[str, tuple[Any, ...]] = {}
    for row in store.query("SELECT patron_id, code, status, created_at FROM cards"):
        kind_ok = codes.is_uid(row["code"]) == (prefer == "uid")
        rank = (row["status"] == "active", kind_ok, row["created_at"], row["code"])
        if row["patron_id"] not in best or rank > best[row["patron_id"]]:
            best[row["patron_id"]] = rank
    return {pid: rank[3] for pid, rank in best.items()}


def replacements(store: Store) -> dict[str, list[tuple[dt.datetime, str, str]]]:
    """Return per patron their card replacements (time, old card, new card), oldest first."""
    found: dict[str, list[tuple[dt.datetime, str, str]]] = {}
    for e in fetch(
        store.reader,
        "SELECT patron_id, at, data FROM events WHERE type = 'card_replaced' ORDER BY at, seq",
    ):
        data = json.loads(e["data"])
        old, new = codes.canonical_card(str(data.get("old", ""))), str(data.get("new", ""))
        found.setdefault(e["patron_id"], []).append(
            (parse_stamp(e["at"]), old, codes.canonical_card(new))
        )
    return found


def card_then(card: str, when: dt.datetime, replaced: list[tuple[dt.datetime, str, str]]) -> str:
    """Return the card a patron had at `when`: a replacement after it gives back the old one."""
    for at, old, new in reversed(replaced):
        if when < at and card == new:
            card = old
    return card


def ordered_events(store: Store) -> Iterator[dict[str, Any]]:
    """Yield the loan events in the order the hub replays them (a kiosk: its own order)."""
    db = store.reader
    if hubstore.is_hub_store(store):
        sql = (
            "SELECT e.uuid, e.type, e.patron_id, e.item_barcode, e.data, "
            "COALESCE(r.effective_at, e.at) AS eff FROM events e "
            f"LEFT JOIN received r ON r.uuid = e.uuid WHERE e.type IN {TYPES} "
            # An undo the hub refused (kiosk/sync/trust.py) changed nothing: not written.
            "AND NOT (e.type = 'undo' AND EXISTS (SELECT 1 FROM conflicts c WHERE "
            f"c.event_uuid = e.uuid AND c.kind IN {REFUSED_UNDO})) "
            "ORDER BY eff, COALESCE(r.kiosk_seq, e.seq), e.uuid"
        )
    else:
        sql = (
            "SELECT uuid, type, patron_id, item_barcode, data, at AS eff FROM events "
            f"WHERE type IN {TYPES} ORDER BY at, seq"
        )
    yield from fetch(db, sql)


def transactions(store: Store) -> Iterator[tuple[str, str, str | None, str]]:
    """Yield (time, command, patron id or None, barcode) as Koha should apply them."""
    holder: dict[str, str] = {}  # barcode -> patron id, as the replay has it so far
    # uuid -> (type, data, patron, barcode)
    kinds: dict[str, tuple[str, dict[str, Any], str | None, str | None]] = {}
    # checkout uuid -> the patron whose loan it ended (a transfer): theirs again if it is undone
    ended: dict[str, str] = {}
    for e in ordered_events(store):
        data, barcode, patron, at = (
            json.loads(e["data"]),
            e["item_barcode"],
            e["patron_id"],
            e["eff"],
        )
        kinds[e["uuid"]] = (e["type"], data, patron, barcode)
        if not barcode:
            continue
        kind = e["type"]
        if kind == "undo":
            undone = kinds.get(str(data.get("undone")))
            if undone is None or undone[3] != barcode:  # the projection ignores it too
                continue
            if undone[0] == "checkout":
                # The mistaken loan never happened: it ends, and a loan it ended goes on.
                if holder.get(barcode) != undone[2]:
                    continue  # not the book's open loan any more: the projection keeps it too
                del holder[barcode]
                yield at, "return", None, barcode
                before = ended.get(str(data.get("undone")))
                if before is not None:
                    holder[barcode] = before
                    yield at, "issue", before, barcode
                continue
            kind, patron = ("checkout" if undone[0] == "checkin" else ""), (undone[2] or patron)
        if kind == "checkout" and patron:
            if holder.get(barcode) not in (None, patron):
                ended[e["uuid"]] = holder[barcode]
                yield at, "return", None, barcode
            holder[barcode] = patron
            yield at, "issue", patron, barcode
        elif kind == "renew" and patron and holder.get(barcode) == patron:
            yield at, "issue", patron, barcode
        elif kind == "checkin" and barcode in holder:
            del holder[barcode]
            yield at, "return", None, barcode


def koc_lines(store: Store, timezone: str, prefer: str = "barcode") -> list[str]:
    """Return the lines of the file: the header, then each issue, renewal and return."""
    tz = ZoneInfo(timezone)
    cards = card_numbers(store, prefer)
    replaced = replacements(store)
    lines = [f"Version=1.0\tGenerator={GENERATOR}\tGeneratorVersion={GENERATOR_VERSION}"]
    last: dict[str, dt.datetime] = {}  # barcode -> the time of its previous line
    for at, command, patron, barcode in transactions(store):
        # Koha's queue orders lines by their time, to the second: a book's lines get strictly
        # increasing times (a second later when two fall in one second), so none swap places.
        moment = parse_stamp(at).astimezone(tz).replace(microsecond=0)
        if barcode in last and moment <= last[barcode]:
            moment = last[barcode] + dt.timedelta(seconds=1)
        last[barcode] = moment
        when = moment.strftime("%Y-%m-%d %H:%M:%S")
        barcode = without_controls(barcode)  # a TAB or line break would forge a transaction
        if command == "return":
            lines.append(f"{when}\treturn\t{barcode}")
        else:
            assert patron is not None
            # The card the patron had then: a loan made before a card replacement names the
            # old card, as Koha's cardnumber was then; later lines name the new one.
            card = card_then(cards.get(patron, patron), parse_stamp(at), replaced.get(patron, []))
            card = without_controls(card)
            lines.append(f"{when}\tissue\t{card}\t{barcode}")
    return lines


def write_koc(store: Store, out: TextIO, timezone: str, prefer: str = "barcode") -> int:
    """Write the .koc file to `out`; return the number of transactions."""
    lines = koc_lines(store, timezone, prefer)
    out.write("\n".join(lines) + "\n")
    return len(lines) - 1
