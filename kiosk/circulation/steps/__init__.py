"""The steps of the one handler: for each command, read the state its decision needs, decide.

A step takes the open write, the command and the handler's `Context`, reads through named
queries and returns `Decided` (the pure decision's drafts or refusal, and the state it read).
Each module registers its steps with `@handler.step(...)`; the handler imports this package
on its first command.
"""

from kiosk.circulation.steps import (  # noqa: F401
    admin,
    collection,
    loans,
    master,
    reading,
    sip2,
)
