"""Read models: named queries over the tables and the event log, never writers.

Views, the CLI and sync read through these, so each question ("which events wait for the hub",
"what does this patron have") has one definition.
"""

from kiosk.circulation.queries.loans import (
    card_or_item,
    event_logged,
    item_and_open_loan,
    last_desk_event,
    loan_by_uuid,
    loan_state,
    open_loans_due,
)
from kiosk.circulation.queries.records import (
    cards_of,
    counts,
    desk_search,
    item_row,
    items_by_type,
    loans_of_item,
    patron_row,
)

__all__ = [
    "card_or_item",
    "cards_of",
    "counts",
    "desk_search",
    "event_logged",
    "item_and_open_loan",
    "item_row",
    "items_by_type",
    "last_desk_event",
    "loan_by_uuid",
    "loan_state",
    "loans_of_item",
    "open_loans_due",
    "patron_row",
]
