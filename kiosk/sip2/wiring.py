"""Make the SIP2 self-check's circulation, session and link from the settings."""

from __future__ import annotations

from typing import Any

from kiosk.circulation.clock import Clock
from kiosk.circulation.store import Store
from kiosk.config import Settings
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.link import Link
from kiosk.sip2.service import Sip2Circulation
from kiosk.sip2.session import Sip2Kiosk


def sip2_kiosk(
    store: Store, settings: Settings, clock: Clock, session: dict[str, Any]
) -> tuple[Sip2Circulation, Sip2Kiosk, Link]:
    """Return the circulation, the session and the link (a service the daemon starts)."""
    client = Sip2Client(settings.sip2)
    link = Link(client, store, settings.sip2)
    circulation = Sip2Circulation(store, settings.kiosk.timezone, settings.sip2, link)
    kiosk = Sip2Kiosk(circulation, clock, hook=None, **session)
    return circulation, kiosk, link
