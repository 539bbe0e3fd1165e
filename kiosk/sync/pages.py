"""The hub's own pages for the librarian: the conflict list and the kiosks' last contact.

A blueprint on the hub's store. It knows nothing of the dashboard it is mounted on: the wiring
(kiosk/daemon/app.py) registers it on the web app with the dashboard's login guard, and its
templates extend the dashboard's layout.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request

from kiosk.circulation.schemas import PROBLEMS
from kiosk.circulation.stats.search import page_of
from kiosk.circulation.store import Store
from kiosk.i18n import N_
from kiosk.sync import hubstore

# What each conflict kind means, for the page (docs/sync.md has the rules).
KINDS = {
    "transfer": N_("Lent again to another student: the later loan stands"),
    "same_patron": N_("Lent twice to the same student: kept as one loan, renewed"),
    "return_not_on_loan": N_("Returned while not on loan"),
    "renew_not_on_loan": N_("Renewed while not on loan to that student: ignored"),
    "over_limit": N_("Loan over the student's limit: kept"),
    "lost_card": N_("Loan after a card was reported lost: kept"),
    "patron_blocked": N_("Loan by a blocked patron: kept"),
    "unknown_item": N_("Unknown book: not applied"),
    "unknown_patron": N_("Unknown patron: not applied"),
    "card_moved": N_("A kiosk gave another patron's card to someone else: not applied"),
    "blank_card": N_("A kiosk sent a blank or unreadable card: not applied"),
    "unknown_card": N_("A kiosk reported an unknown card lost: not applied"),
    "not_kiosk_authority": N_("Only the hub's librarian may change this: not applied"),
    "undo_foreign": N_("A kiosk tried to undo another kiosk's loan or return: not applied"),
    "undo_unknown_event": N_("A kiosk tried to undo something the hub does not have: not applied"),
    "undo_mismatch": N_("A kiosk's undo named another book or student: not applied"),
    "undo_repeated": N_("A kiosk tried to undo something already undone: not applied"),
    "malformed": N_("A kiosk sent an event whose details do not fit: not applied"),
    "not_own_loan": N_("A kiosk named a loan of another book or student: not applied"),
    "not_own_hold": N_("A kiosk named a hold it did not place: not applied"),
    "not_own_stocktake": N_("A kiosk named a stocktake it did not start: not applied"),
    "not_own_incident": N_("A kiosk named a lost or damaged record it did not make: not applied"),
    "not_lost": N_("A kiosk marked found a book that is not lost: not applied"),
    "unknown_list": N_("A kiosk changed a reading list the hub does not have: not applied"),
    "not_in_catalogue": N_(
        "A kiosk put a title on a reading list that the hub's catalogue does not have "
        "(or names it otherwise): not applied"
    ),
}


def hub_blueprint(store: Store) -> Blueprint:
    """Return the blueprint of the hub's pages on `store` (under /admin/hub)."""
    bp = Blueprint(
        "hub",
        __name__,
        url_prefix="/admin/hub",
        template_folder=str(Path(__file__).parent / "templates"),
    )

    @bp.get("/conflicts")
    def conflicts() -> str:
        """Show the conflicts between kiosks, newest first, a page at a time."""
        raw = request.args.get("page", "1")
        found = page_of(hubstore.conflicts(store), int(raw) if raw.isdigit() else 1)
        return render_template(
            "hub/conflicts.html", rows=found.rows, found=found, kinds=KINDS, problems=PROBLEMS
        )

    @bp.get("/kiosks")
    def kiosks() -> str:
        """Show each kiosk's last contact, clock offset and events received."""
        return render_template("hub/kiosks.html", rows=hubstore.kiosks(store))

    return bp
