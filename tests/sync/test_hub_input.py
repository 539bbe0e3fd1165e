"""Bad input at the hub: each gets a clear 4xx and nothing stored changes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.circulation.clock import SystemClock, stamp

from .conftest import BOOK, Hub, run_cli

TABLES = ("events", "received", "loans", "conflicts", "feed", "kiosks", "cards", "items")


def stored(hub: Hub) -> dict[str, Any]:
    """Return every row the hub keeps about sync, to compare before and after."""
    return {t: hub.query(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}


def event(kiosk_id: str, type_: str = "checkout", **kw: Any) -> dict[str, Any]:
    base = {
        "uuid": str(uuid.uuid4()),
        "seq": 1,
        "type": type_,
        "at": stamp(SystemClock().now()),
        "kiosk_id": kiosk_id,
        "actor": "S001",
        "patron_id": "S001",
        "item_barcode": BOOK[0],
        "data": {"due_at": "2026-12-01T15:59:59.000Z"},
    }
    return {**base, **kw}


def post(hub: Hub, token: str, body: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        hub.url + "/api/v1/sync/events",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=5,
    )


def batch(kiosk_id: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"kiosk_id": kiosk_id, "sent_at": stamp(SystemClock().now()), "events": list(events)}


@pytest.fixture
def tokens(hub: Hub) -> dict[str, str]:
    return {"k1": hub.register("k1"), "k2": hub.register("k2")}


def test_a_good_batch_is_stored_once_even_when_sent_twice(hub: Hub, tokens: dict[str, str]) -> None:
    body = batch("k1", event("k1"))
    first, again = post(hub, tokens["k1"], body), post(hub, tokens["k1"], body)
    assert (first.status_code, first.json()["stored"], first.json()["duplicates"]) == (200, 1, 0)
    assert (again.status_code, again.json()["stored"], again.json()["duplicates"]) == (200, 0, 1)
    assert again.json()["acked"] == [body["events"][0]["uuid"]]
    assert len(hub.query("SELECT * FROM events WHERE kiosk_id = 'k1'")) == 1


@pytest.mark.parametrize(
    ("case", "status", "code", "words"),
    [
        ("no token", 401, "no_token", "Authorization: Bearer"),
        ("wrong token", 401, "unknown_token", "unknown token"),
        ("revoked token", 401, "revoked_token", "revoked"),
        ("malformed JSON", 400, "bad_json", "not JSON"),
        ("not an object", 400, "bad_json", "must be a JSON object"),
        ("too many events", 413, "batch_too_large", "at most 2000 per batch"),
        ("too many bytes", 413, "batch_too_large", "larger than"),
        ("malformed event type", 422, "bad_event", "events[1].type"),
        ("bad time", 422, "bad_event", "events[0].at"),
        ("checkout without due date", 422, "bad_event", "events[0].data.due_at"),
        ("events of another kiosk", 403, "wrong_kiosk", "events[0].kiosk_id"),
        ("batch of another kiosk", 403, "wrong_kiosk", "kiosk_id: 'k1'"),
        ("replayed from another kiosk", 409, "replayed_from_other_kiosk", "another kiosk"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    hub: Hub, tokens: dict[str, str], case: str, status: int, code: str, words: str
) -> None:
    k1_batch = batch("k1", event("k1"))
    assert post(hub, tokens["k1"], k1_batch).status_code == 200
    token, body = tokens["k1"], batch("k1", event("k1", item_barcode=BOOK[1]))
    if case == "no token":
        token = ""
    elif case == "wrong token":
        token = "not-a-token"
    elif case == "revoked token":
        assert run_cli("--config", str(hub.config), "hub", "revoke", "k1").returncode == 0
    elif case == "malformed JSON":
        body = b'{"kiosk_id": "k1", "events": [}'
    elif case == "not an object":
        body = [1, 2]
    elif case == "too many events":
        body = batch("k1", *[event("k1") for _ in range(2001)])
    elif case == "too many bytes":
        big = {"due_at": "2026-12-01T15:59:59.000Z", "x": "a" * 5_000_000}
        body = batch("k1", event("k1", data=big))
    elif case == "malformed event type":
        body = batch("k1", event("k1", item_barcode=BOOK[2]), event("k1", type_="Check Out!"))
    elif case == "bad time":
        body = batch("k1", event("k1", at="yesterday"))
    elif case == "checkout without due date":
        body = batch("k1", event("k1", data={}))
    elif case == "events of another kiosk":
        body = batch("k1", event("k2"))
    elif case == "batch of another kiosk":
        token = tokens["k2"]
    elif case == "replayed from another kiosk":
        token = tokens["k2"]
        body = {**k1_batch, "kiosk_id": "k2"}
        body["events"] = [{**e, "kiosk_id": "k2"} for e in k1_batch["events"]]
    before = stored(hub)
    resp = post(hub, token, body)
    assert (resp.status_code, resp.json()["error"]) == (status, code)
    assert words in resp.json()["message"]
    assert stored(hub) == before


def test_a_well_formed_event_of_a_new_type_is_stored_but_not_applied(
    hub: Hub, tokens: dict[str, str]
) -> None:
    undo = event("k1", type_="desk_undo", data={"undoes": str(uuid.uuid4())})
    resp = post(hub, tokens["k1"], batch("k1", undo))
    assert (resp.status_code, resp.json()["stored"]) == (200, 1)
    assert hub.query("SELECT type FROM events WHERE uuid = ?", [undo["uuid"]]) == [
        {"type": "desk_undo"}
    ]
    assert hub.query("SELECT * FROM loans") == []


def test_register_prints_a_token_that_is_kept_only_hashed(hub: Hub) -> None:
    out = run_cli("--config", str(hub.config), "hub", "register", "k9")
    token = out.stdout.strip()
    assert out.returncode == 0 and len(token) >= 40
    assert "shown only once" in out.stderr
    rows = hub.query("SELECT token_hash FROM kiosks WHERE id = 'k9'")
    assert len(rows) == 1 and token not in rows[0]["token_hash"]
    resp = requests.get(
        hub.url + "/api/v1/sync/kiosks", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert resp.status_code == 200 and "k9" in [k["id"] for k in resp.json()["kiosks"]]
    gone = run_cli("--config", str(hub.config), "hub", "revoke", "nobody")
    assert gone.returncode == 1 and "no kiosk nobody" in gone.stderr


def test_openapi_describes_every_route_of_the_hub(tmp_path: Any) -> None:
    from kiosk.sync.hub import create_hub_app
    from kiosk.sync.hubstore import open_hub_store

    store = open_hub_store(tmp_path / "hub.db")
    try:
        app = create_hub_app(store)
        routes = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    finally:
        store.close()
    spec = (Path(__file__).parents[2] / "kiosk" / "sync" / "openapi.yaml").read_text("utf-8")
    described = {line.strip().rstrip(":") for line in spec.splitlines() if line.startswith("  /")}
    assert routes == described
