"""An undo is the sending kiosk's own: a forged one changes nothing and is listed at the hub."""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.circulation.desk import undo_last
from kiosk.circulation.projector import project
from kiosk.circulation.store import Event
from kiosk.config import from_dict
from kiosk.sync.koc import koc_lines
from kiosk.web.security import Passwords

from .conftest import BOOK, Hub, open_loans
from .test_hub_input import batch, event, post
from .test_undo import hub_loans

pytestmark = pytest.mark.timeout(90)


def undo_of(kiosk_id: str, target: Any, **kw: Any) -> dict[str, Any]:
    """An undo event on the wire naming `target` (an Event), as a desk would write it."""
    data = {"undone": target.uuid, "undone_type": target.type}
    fields = {"patron_id": target.patron_id, "item_barcode": target.item_barcode, "seq": 900}
    return event(kiosk_id, "undo", data=data, **{**fields, **kw})


def conflict_page(hub: Hub, lang: str) -> str:
    """Log in to the hub's dashboard over HTTP and return the conflict page's text."""
    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=hub.folder)
    Passwords(settings.resolve(settings.web.password_file)).set("librarian", "a long secret")
    s = requests.Session()
    login = s.get(hub.url + "/admin/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert csrf, login
    form = {"csrf_token": csrf.group(1), "user": "librarian", "password": "a long secret"}
    assert s.post(hub.url + "/admin/login", data=form, timeout=5).status_code == 200
    page = s.get(hub.url + f"/admin/hub/conflicts?lang={lang}", timeout=5)
    assert page.status_code == 200
    return html.unescape(page.text)


def test_a_forged_undo_changes_nothing_and_a_genuine_one_still_works(
    hub: Hub, kiosk_factory: Any
) -> None:
    tokens = {k: hub.register(k) for k in ("A", "B")}
    a = kiosk_factory(hub.url, tokens["A"], kiosk_id="A")
    b = kiosk_factory(hub.url, tokens["B"], kiosk_id="B")
    for k in (a, b):
        k.worker.sync_once()
    lent = a.circulation.checkout("S001", BOOK[0], actor="S002")
    own = b.circulation.checkout("S003", BOOK[1], actor="T001")
    assert lent.ok and own.ok
    a_checkout = a.store.query("SELECT * FROM events WHERE type = 'checkout'")[0]
    b_checkout = b.store.query("SELECT * FROM events WHERE type = 'checkout'")[0]
    for k in (a, b, a):
        k.worker.sync_once()
    assert hub_loans(hub) == {BOOK[0]: "S001", BOOK[1]: "S003"}

    a_event, b_event = Event.from_row(a_checkout), Event.from_row(b_checkout)
    forged = [
        undo_of("B", a_event),  # B (or B's stolen token) erasing A's loan
        undo_of("B", b_event, item_barcode=BOOK[0]),  # its own loan, but another book named
        event("B", "undo", seq=901, data={"undone": str(uuid.uuid4())}),  # nothing the hub has
    ]
    before = hub.query("SELECT * FROM loans ORDER BY uuid")
    resp = post(hub, tokens["B"], batch("B", *forged))
    assert resp.status_code == 200, resp.text
    assert hub.query("SELECT * FROM loans ORDER BY uuid") == before
    kinds = {r["event_uuid"]: r["kind"] for r in hub.query("SELECT * FROM conflicts")}
    assert [kinds.get(f["uuid"]) for f in forged] == [
        "undo_foreign",
        "undo_mismatch",
        "undo_unknown_event",
    ]
    listed = requests.get(
        hub.url + "/api/v1/sync/conflicts",
        headers={"Authorization": f"Bearer {tokens['A']}"},
        timeout=5,
    ).json()["conflicts"]
    assert {c["kind"] for c in listed} == {"undo_foreign", "undo_mismatch", "undo_unknown_event"}
    assert next(c for c in listed if c["kind"] == "undo_foreign")["detail"]["undone_kiosk"] == "A"
    # Every kiosk pulling from the hub still sees both loans.
    # The Koha export leaves the refused undos out: A's loan is not returned there either.
    hub_store = hub.store()
    try:
        lines = koc_lines(hub_store, "Asia/Shanghai")
    finally:
        hub_store.close()
    # (sorted: the two loans may fall in one millisecond, and then either comes first)
    assert sorted(line.split("\t")[1:] for line in lines[1:]) == [
        ["issue", "CARD-S001", BOOK[0]],
        ["issue", "CARD-S003", BOOK[1]],
    ]
    c = kiosk_factory(hub.url, hub.register("C"), kiosk_id="C")  # a new one: a snapshot
    for k in (b, a, c):
        k.worker.sync_once()
        assert open_loans(k.store) == {BOOK[0]: "S001", BOOK[1]: "S003"}
    # A late event of the book makes the hub replay it from its first event: the forged undo
    # stays out of the replay too.
    late = event("B", "checkin", seq=902, patron_id=None, data={}, at="2026-01-05T01:00:00.000Z")
    assert post(hub, tokens["B"], batch("B", late)).status_code == 200
    assert hub_loans(hub) == {BOOK[0]: "S001", BOOK[1]: "S003"}

    # The librarian reads why, in Chinese and in English.
    zh = conflict_page(hub, "zh_CN")
    assert "自助借还机试图撤销另一台借还机的借阅或归还：未生效" in zh
    en = conflict_page(hub, "en")
    assert "A kiosk tried to undo another kiosk's loan or return: not applied" in en
    assert "A kiosk's undo named another book or student: not applied" in en
    assert "A kiosk tried to undo something the hub does not have: not applied" in en

    # A's own undo of its own loan still travels: kiosk, hub, the other kiosk.
    assert a.circulation.checkout("S002", BOOK[2], actor="T001").ok
    for k in (a, b):
        k.worker.sync_once()
    assert open_loans(b.store)[BOOK[2]] == "S002"
    assert undo_last(a.store, "T001", 60).reason == "undone"
    for k in (a, b):
        k.worker.sync_once()
    assert BOOK[2] not in hub_loans(hub)
    assert open_loans(a.store) == open_loans(b.store) == {BOOK[0]: "S001", BOOK[1]: "S003"}


def test_an_undo_sent_again_cannot_reopen_a_later_return(hub: Hub, kiosk_factory: Any) -> None:
    token = hub.register("A")
    a = kiosk_factory(hub.url, token, kiosk_id="A")
    a.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[3], actor="T001").ok
    assert a.circulation.checkin(BOOK[3], actor="T001").ok
    assert undo_last(a.store, "T001", 60).reason == "undone"  # the return was a mistake
    assert a.circulation.checkin(BOOK[3], actor="S002").ok  # returned for real later
    a.worker.sync_once()
    assert hub_loans(hub) == {} == open_loans(a.store)
    first_return = Event.from_row(
        a.store.query("SELECT * FROM events WHERE type = 'checkin' ORDER BY seq")[0]
    )
    again = undo_of("A", first_return)
    assert post(hub, token, batch("A", again)).status_code == 200
    assert hub_loans(hub) == {}
    assert hub.query("SELECT kind FROM conflicts WHERE event_uuid = ?", [again["uuid"]]) == [
        {"kind": "undo_repeated"}
    ]


def test_the_undo_projection_touches_only_the_book_it_names(tmp_path: Path) -> None:
    from kiosk.circulation.records import seed_rules
    from kiosk.circulation.service import Circulation
    from kiosk.circulation.store import Store
    from kiosk.config import RulesSettings

    from .conftest import add_school

    store = Store.open(tmp_path / "k.db", kiosk_id="k")
    try:
        seed_rules(store, RulesSettings())
        add_school(store)
        assert Circulation(store).checkout("S001", BOOK[0], actor="S001").ok
        lent = store.query("SELECT uuid FROM events WHERE type = 'checkout'")[0]["uuid"]
        stray = store.event(
            "undo",
            actor="S001",
            patron_id="S001",
            item_barcode=BOOK[1],
            data={"undone": lent, "undone_type": "checkout"},
        )
        with store.write() as db:
            project(db, stray)
        assert open_loans(store) == {BOOK[0]: "S001"}
        assert store.value("SELECT status FROM items WHERE barcode = ?", [BOOK[0]]) == "on_loan"
    finally:
        store.close()
