"""Make the SIP2 self-check's circulation, session and link from the settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from kiosk.circulation.clock import Clock
from kiosk.circulation.store import Store
from kiosk.config import Settings, Sip2Settings
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.link import Link
from kiosk.sip2.service import Sip2Circulation
from kiosk.sip2.session import Sip2Kiosk


def resolved(settings: Settings) -> Sip2Settings:
    """Return the [sip2] settings with `ca_file` relative to the config file, as every path."""
    s = settings.sip2
    if not s.ca_file:
        return s
    return dataclasses.replace(s, ca_file=str(settings.resolve(s.ca_file)))


def sip2_kiosk(
    store: Store, settings: Settings, clock: Clock, session: dict[str, Any]
) -> tuple[Sip2Circulation, Sip2Kiosk, Link]:
    """Return the circulation, the session and the link (a service the daemon starts)."""
    s = resolved(settings)
    client = Sip2Client(s)
    link = Link(client, store, s)
    circulation = Sip2Circulation(store, settings.kiosk.timezone, s, link)
    kiosk = Sip2Kiosk(circulation, clock, hook=None, **session)
    return circulation, kiosk, link
