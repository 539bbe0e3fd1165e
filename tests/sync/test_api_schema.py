"""The hub's sync API answers as kiosk/sync/openapi.yaml says: schemathesis generates requests
from the spec (right ones and wrong ones) and checks every answer of a running hub process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

import kiosk.sync
from kiosk.sync import hubstore

from .conftest import Hub, add_school

# What else a request the spec allows may be answered, as the spec documents it.
CONFIG = SchemathesisConfig.from_str("""
# The token is always the registered kiosk's (wrong and missing tokens: tests/sync/test_hub_input.py
# and schemathesis's own ignored_auth check), so wrong requests go wrong in their arguments.
generation.with-security-parameters = false

[[operations]]
include-path = "/api/v1/sync/changes"
# 410: the cursor belongs to no feed of this hub: take a snapshot first.
checks.positive_data_acceptance.expected-statuses = ["200", "401", "410"]

[[operations]]
include-path = "/api/v1/sync/events"
# Rules a JSON schema cannot state: a checkout needs patron_id, item_barcode and data.due_at;
# text holds no control, format or unassigned characters and no lone surrogate (400, 422).
# 409: an event uuid the hub already holds from another kiosk.
checks.positive_data_acceptance.expected-statuses = ["200", "400", "401", "409", "413", "422"]
""")
SCHEMA = schemathesis.openapi.from_path(
    Path(kiosk.sync.__file__).parent / "openapi.yaml", config=CONFIG
)
KIOSK = "k1"
# Known before the hub starts: schemathesis puts it into cases as it collects them.
TOKEN = secrets.token_urlsafe(32)
EPOCH = [""]


@SCHEMA.auth()
class KioskToken:
    """The registered kiosk's bearer token (not on the cases that test a missing one)."""

    def get(self, case: schemathesis.Case, context: Any) -> str:
        return TOKEN

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A hub process with the small school and a registered kiosk; its URL."""
    h = Hub(tmp_path_factory.mktemp("hub"))
    s = h.store()
    add_school(s)
    EPOCH[0] = hubstore.meta(s, "epoch")
    hubstore.register_kiosk(s, KIOSK)
    with s.write() as db:  # the token this module made, in place of the one registering made
        db.execute("UPDATE kiosks SET token_hash = ?", [hubstore.hash_token(TOKEN)])
    s.close()
    h.start()
    yield h.url
    h.stop()


@SCHEMA.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests each run: `make test` is repeatable
    suppress_health_check=list(HealthCheck),
)
def test_the_hub_answers_as_its_spec_says(case: schemathesis.Case, hub_url: str) -> None:
    if isinstance(case.body, dict):
        # Events of the token's kiosk, so the hub reads further than "not your kiosk" (403);
        # only where the spec's string is (a wrong type stays wrong).
        events = case.body.get("events")
        for part in [case.body, *(events if isinstance(events, list) else [])]:
            if isinstance(part, dict) and isinstance(part.get("kiosk_id"), str):
                part["kiosk_id"] = KIOSK
    if isinstance(case.query, dict) and isinstance(case.query.get("epoch"), str):
        case.query["epoch"] = EPOCH[0]  # the hub's: the feed answers, not only "snapshot first"
    case.call_and_validate(base_url=hub_url)
