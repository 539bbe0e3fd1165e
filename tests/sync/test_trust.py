"""The hub trusts a kiosk for what happened at its desk, not for master data (docs/sync.md).

Every request goes to a real hub process over HTTP on loopback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import BOOK, Hub, run_cli
from .test_hub_input import batch, event, post, stored


@pytest.fixture
def token(hub: Hub) -> str:
    return hub.register("k1")


def master(hub: Hub) -> dict[str, Any]:
    return {
        "cards": hub.query("SELECT code, patron_id, status FROM cards ORDER BY code"),
        "patrons": hub.query("SELECT id, status FROM patrons ORDER BY id"),
        "items": hub.query("SELECT barcode, status FROM items ORDER BY barcode"),
    }


def listed(hub: Hub) -> list[tuple[str, str | None, str | None]]:
    rows = hub.query("SELECT kind, patron_id, other_patron_id FROM conflicts ORDER BY id")
    return [(r["kind"], r["patron_id"], r["other_patron_id"]) for r in rows]


def test_a_kiosk_cannot_move_cards_make_blank_ones_or_block_patrons(hub: Hub, token: str) -> None:
    before = master(hub)
    attacks = [
        # S001's card "issued" to S002: the card would change hands.
        event("k1", "card_issued", patron_id="S002", item_barcode=None, data={"card": "CARD-S001"}),
        event("k1", "card_issued", patron_id="S002", item_barcode=None, data={"card": "  "}),
        event("k1", "card_lost", patron_id="S003", item_barcode=None, data={"card": "CARD-S001"}),
        event(
            "k1", "patron_status", patron_id="S003", item_barcode=None, data={"status": "blocked"}
        ),
        event("k1", "item_status", patron_id=None, data={"status": "withdrawn"}),
    ]
    resp = post(hub, token, batch("k1", *attacks))
    assert (resp.status_code, resp.json()["stored"]) == (200, 5)
    assert master(hub) == before
    assert listed(hub) == [
        ("card_moved", "S002", "S001"),
        ("blank_card", "S002", None),
        ("card_moved", "S003", "S001"),
        ("not_kiosk_authority", "S003", None),
        ("not_kiosk_authority", None, None),
    ]
    assert len(hub.query("SELECT * FROM events WHERE kiosk_id = 'k1'")) == 5


def test_what_a_desk_may_do_still_reaches_the_hub(hub: Hub, token: str) -> None:
    done = [
        event("k1", "card_lost", patron_id="S002", item_barcode=None, data={"card": "CARD-S002"}),
        event("k1", "card_issued", patron_id="S002", item_barcode=None, data={"card": "NEW-S002"}),
        event(
            "k1", "item_status", patron_id=None, item_barcode=BOOK[3], data={"status": "damaged"}
        ),
        # A session a student's card opened at the kiosk: the kiosk's own, counted in reports.
        event("k1", "visit", patron_id="S002", item_barcode=None, data={}),
    ]
    assert post(hub, token, batch("k1", *done)).status_code == 200
    visits = hub.query("SELECT patron_id, kiosk_id FROM events WHERE type = 'visit'")
    assert visits == [{"patron_id": "S002", "kiosk_id": "k1"}]
    cards = hub.query("SELECT code, status FROM cards WHERE patron_id = 'S002' ORDER BY code")
    assert cards == [
        {"code": "CARD-S002", "status": "lost"},
        {"code": "NEW-S002", "status": "active"},
    ]
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[3]]) == [
        {"status": "damaged"}
    ]
    assert listed(hub) == []


def test_control_characters_never_reach_the_koha_file(hub: Hub, token: str) -> None:
    forged = f"{BOOK[0]}\n2026-11-02 09:00:00\treturn\t{BOOK[1]}"
    for barcode in (forged, BOOK[0] + "\t", BOOK[0] + "\x00"):
        before = stored(hub)
        resp = post(hub, token, batch("k1", event("k1", item_barcode=barcode)))
        assert (resp.status_code, resp.json()["error"]) == (422, "bad_event")
        assert "control character" in resp.json()["message"]
        assert stored(hub) == before
    assert post(hub, token, batch("k1", event("k1"))).status_code == 200
    koc = run_cli("--config", str(hub.config), "export", "koc")
    assert koc.returncode == 0, koc.stderr
    lines = koc.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].split("\t")[1:] == ["issue", "CARD-S001", BOOK[0]]


def deep(n: int) -> bytes:
    return (
        b'{"kiosk_id": "k1", "sent_at": "2026-11-02T01:00:00.000Z", "events": ['
        + (b"[" * n + b"]" * n)
        + b"]}"
    )


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("nested JSON", 400, "bad_json"),
        ("nested data", 422, "bad_event"),
        ("lone surrogate", 400, "bad_text"),
        ("sent_at without a time zone", 400, "bad_batch"),
        ("year past 9999", 400, "bad_batch"),
        ("seq of 10^30", 422, "bad_event"),
        ("date-only due_at", 422, "bad_event"),
        ("NUL in a barcode", 422, "bad_event"),
    ],
)
def test_malformed_batches_get_a_4xx_with_a_stable_code(
    hub: Hub, token: str, case: str, status: int, code: str
) -> None:
    body: Any = batch("k1", event("k1"))
    if case == "nested JSON":
        body = deep(100_000)
    elif case == "nested data":
        nest: Any = "x"
        for _ in range(200):
            nest = {"a": nest}
        body = batch("k1", event("k1", data={"due_at": "2026-12-01T15:59:59.000Z", "n": nest}))
    elif case == "lone surrogate":
        body = batch("k1", event("k1", actor="\ud800"))
    elif case == "sent_at without a time zone":
        body["sent_at"] = "2026-11-02T09:00:00"
    elif case == "year past 9999":
        body["sent_at"] = "9999-12-31T23:59:59.999Z"
    elif case == "seq of 10^30":
        body = batch("k1", event("k1", seq=10**30))
    elif case == "date-only due_at":
        body = batch("k1", event("k1", data={"due_at": "2026-12-01"}))
    elif case == "NUL in a barcode":
        body = batch("k1", event("k1", item_barcode=BOOK[0] + "\x00"))
    before = stored(hub)
    resp = post(hub, token, body)
    assert (resp.status_code, resp.json()["error"]) == (status, code)
    assert stored(hub) == before


@pytest.mark.parametrize(
    "query",
    [
        "cursor=0&epoch=x&clock=garbage",
        "cursor=0&epoch=x&clock=2026-11-02",
        "cursor=1000000000000000000000000000000&epoch=x",
        "cursor=%D9%A3&epoch=x",
    ],
)
def test_malformed_arguments_get_400(hub: Hub, token: str, query: str) -> None:
    resp = requests.get(
        f"{hub.url}/api/v1/sync/changes?{query}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert (resp.status_code, resp.json()["error"]) == (400, "bad_argument")


def test_a_stored_code_with_control_characters_cannot_forge_a_line(tmp_path: Path) -> None:
    import csv
    import io

    from kiosk.circulation.export import write_csv
    from kiosk.sync import hubstore
    from kiosk.sync.koc import koc_lines

    store = hubstore.open_hub_store(tmp_path / "old.db")  # a store from before the checks
    forged = f"{BOOK[0]}\r\n2026-11-02 09:00:00\treturn\t{BOOK[1]}\x00"
    with store.write() as db:
        store.record(
            db,
            store.event("checkout", item_barcode=forged, patron_id="S001\t", actor="x\ty"),
        )
    lines = koc_lines(store, "Asia/Shanghai")
    assert len(lines) == 2 and lines[1].split("\t")[1:] == [
        "issue",
        "S001",
        f"{BOOK[0]}2026-11-02 09:00:00return{BOOK[1]}",
    ]
    out = io.StringIO()
    write_csv(store, "events", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert len(rows) == 2 and not any(ch in cell for cell in rows[1] for ch in "\t\r\n\x00")
    store.close()
