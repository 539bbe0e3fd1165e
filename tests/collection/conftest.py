"""Fixtures for the collection: a kiosk session with the collection's hook, a generated shelf."""

from __future__ import annotations

import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.collection.kiosk_hook import CollectionHook
from kiosk.circulation.service import Circulation
from kiosk.circulation.session import Kiosk


@pytest.fixture
def desk(circulation: Circulation, clock: FakeClock) -> Kiosk:
    """The kiosk's session with the collection's hook, as the daemon wires it."""
    return Kiosk(circulation, clock, hook=CollectionHook(circulation))
