"""A lost card replaced in one step (挂失补办): the old card refused, the new one issued."""

from __future__ import annotations

from typing import Any

from kiosk.circulation import schemas
from kiosk.circulation.collection.commands import ReplaceCard
from kiosk.circulation.events import Draft, Refusal
from kiosk.circulation.handler import Outcome, handle
from kiosk.circulation.store import Store
from kiosk.i18n import N_

MESSAGES = {
    "no_such_card": N_("This patron has no card {card}."),
    "card_taken": N_("Card {card} already belongs to {name}."),
    "same_card": N_("The new card must be a different card."),
    "empty_card": N_("Scan or type the new card."),
}


def decide_replace(
    patron_id: str, old: dict[str, Any] | None, new: str, new_card: dict[str, Any] | None
) -> list[Draft] | Refusal:
    """Replace a patron's card: the old one becomes lost, the new one theirs; both recorded.

    `old` and `new_card` are the cards the codes name in any of their forms, with their holder
    (kiosk/circulation/cards.py `holder`), so a card given in its other form is the same card.
    """
    if not new or schemas.card_problem(new):  # the hub's check of a card, at the kiosk too
        return Refusal("empty_card")
    if old is None or old["patron_id"] != patron_id:
        return Refusal("no_such_card", {"card": old["code"] if old else ""})
    if new_card is not None and new_card["code"] == old["code"]:
        return Refusal("same_card")
    if new_card is not None and new_card["patron_id"] != patron_id:
        return Refusal("card_taken", {"card": new, "name": new_card["name"]})
    new = new_card["code"] if new_card is not None else new
    return [Draft("card_replaced", patron_id=patron_id, data={"old": old["code"], "new": new})]


def replace(store: Store, patron_id: str, old: str, new: str, actor: str) -> Outcome:
    """Replace a lost card with a new one in one step."""
    return handle(store, ReplaceCard(patron_id, old.strip(), new.strip()), actor=actor)
