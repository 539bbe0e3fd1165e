"""Read models: named queries over the tables and the event log, never writers.

Views, the CLI and sync read through these, so each question ("which events wait for the hub",
"what does this patron have") has one definition.
"""

from kiosk.circulation.queries.loans import (
    last_desk_event,
    loan_by_uuid,
    open_loans_due,
)

__all__ = ["last_desk_event", "loan_by_uuid", "open_loans_due"]
