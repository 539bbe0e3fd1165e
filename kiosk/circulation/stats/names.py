"""Who did what, in words: patron names for ids, titles for barcodes, librarians by user name."""

from __future__ import annotations

import json
from typing import Any

from kiosk.circulation.store import Store
from kiosk.i18n import N_

# Event types as the pages name them (the log stores the code).
EVENT_TYPES = (
    N_("checkout"),
    N_("checkin"),
    N_("renew"),
    N_("undo"),
    N_("visit"),
    N_("import"),
    N_("rules_set"),
    N_("card_lost"),
    N_("card_issued"),
    N_("item_status"),
    N_("patron_status"),
    N_("patron_edited"),
    N_("item_edited"),
    N_("item_cover_set"),
    N_("item_type_saved"),
    N_("item_type_set"),
    N_("item_type_removed"),
    N_("library_map_set"),
    N_("admin_password_set"),
    N_("admin_password_changed"),
    N_("export"),
    N_("notice_printed"),
    N_("notice_text_set"),
    N_("notice_levels_set"),
    N_("card_replaced"),
    N_("card_saved"),
    N_("compensation_recorded"),
    N_("corner_lent"),
    N_("hold_cancelled"),
    N_("hold_expired"),
    N_("hold_fulfilled"),
    N_("hold_placed"),
    N_("hold_ready"),
    N_("holiday_loans_set"),
    N_("item_catalogued"),
    N_("item_named"),
    N_("import_mapping_saved"),
    N_("item_damaged"),
    N_("item_found"),
    N_("item_lost"),
    N_("item_saved"),
    N_("marc_record_saved"),
    N_("item_withdrawn"),
    N_("leavers_closed"),
    N_("reading_list_saved"),
    N_("reading_list_title_added"),
    N_("reading_list_title_removed"),
    N_("star_rules_saved"),
    N_("donation_recorded"),
    N_("item_drifting"),
    N_("drift_taken"),
    N_("drift_ended"),
    N_("badge_awarded"),
    N_("reading_list_synced"),
    N_("star_rules_synced"),
    N_("loan_synced"),
    N_("loans_replayed"),
    N_("patron_saved"),
    N_("repair_done"),
    N_("repair_started"),
    N_("stocktake_finished"),
    N_("stocktake_paused"),
    N_("stocktake_resumed"),
    N_("stocktake_scan"),
    N_("stocktake_started"),
    N_("year_promoted"),
)
# Actors that are not a patron, and the kinds of actor before a colon ("cli:root").
ACTORS = {
    "self-service": N_("self-service"),
    "hub": N_("hub"),
    "import undone": N_("import undone"),  # the rows a stopped import had written, put back
    "demo": N_("demo"),
    "library system": N_("library system"),  # a SIP2 library system's answer about a card
    "config": N_("the settings file"),  # the rules config.toml gave on the first start
}
ACTOR_KINDS = (N_("librarian"), N_("cli"), N_("kiosk"))
# Keys of events' details as the log shows them.
DATA_KEYS = (
    N_("due_at"),
    N_("loan_uuid"),
    N_("overdue"),
    N_("card"),
    N_("status"),
    N_("level"),
    N_("loans"),
    N_("class_name"),
    N_("kind"),
    N_("rows"),
    N_("user"),
    N_("body"),
    N_("renewals"),
    N_("item_type"),
    N_("loan_days"),
    N_("max_loans"),
    N_("lendable"),
    # A copy of a row decided elsewhere (an import's, the hub's): its key, the row, its cards.
    N_("key"),
    N_("row"),
    N_("cards"),
    # The fields of a saved patron or item, and of the rules a rules_set saved.
    N_("id"),
    N_("rules"),
    N_("scope"),
    N_("policy"),
    N_("closed_days"),
    N_("closed_weekdays"),
    N_("block_when_overdue"),
    N_("holiday_loans"),
    N_("term_start"),
    N_("term_end"),
)
# Keys whose own message id is an export's column name (`call_number` in English): their words.
DATA_KEY_WORDS = {"call_number": N_("call number"), "isbn": "ISBN"}
# The days of a rules_set's closed_weekdays, 1 = Monday, as the rules page names them.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
YES_NO = (N_("yes"), N_("no"))
TIME_KEYS = ("due_at", "at", "returned_at", "checked_out_at", "effective_at")


def lookup(store: Store, rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Return the names of the patrons and titles of the items the rows mention, in two queries."""
    ids = {r.get("patron_id") for r in rows} | {r.get("actor") for r in rows}
    ids = {i for i in ids if i and ":" not in i}
    barcodes = sorted({r["item_barcode"] for r in rows if r.get("item_barcode")})
    names = dict(
        store.reader.execute(
            "SELECT id, name FROM patrons WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(ids))],
        ).fetchall()
    )
    titles = dict(
        store.reader.execute(
            "SELECT barcode, title FROM items WHERE barcode IN (SELECT value FROM json_each(?))",
            [json.dumps(barcodes)],
        ).fetchall()
    )
    return {"names": names, "titles": titles}


def actor_parts(actor: str) -> tuple[str, str]:
    """Split an actor into its kind and who: ('librarian', 'li'), ('patron', 'S001')."""
    kind, sep, who = (actor or "").partition(":")
    return (kind, who) if sep else ("patron", actor or "")
