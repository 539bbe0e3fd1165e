"""Reading stars' rules are master data from the hub, like the lists: a hub and two kiosks.

A period with its star rules saved at kiosk A's dashboard or at the hub's pages reaches kiosk
B, and B's stars count B's loans; an edit at either end reaches both; two edits meet in the
order the hub receives them; a forged or malformed `star_rules_saved` is refused with its
reason and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from web.clients import Browser

from kiosk.circulation import projector
from kiosk.circulation.projector import project
from kiosk.circulation.reading import festival, stars
from kiosk.circulation.store import Event, Store
from kiosk.sync import hubstore
from kiosk.web.security import Passwords

from .conftest import BOOK, Hub, kept_for_the_record, run_cli
from .test_hub_input import batch, event, post

pytestmark = pytest.mark.timeout(60)
TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(TZ).date()
FIRST, LAST = (
    (TODAY - dt.timedelta(days=10)).isoformat(),
    (TODAY + dt.timedelta(days=10)).isoformat(),
)
FIELDS = ("id", "name", "first_day", "last_day", "min_books", "min_list", "top")


def festival_form(name: str = "读书节", books: int = 1, top: int = 0) -> stars.StarForm:
    return stars.StarForm(name=name, first=FIRST, last=LAST, min_books=str(books), top=str(top))


def kiosk_rules(store: Store) -> list[tuple[Any, ...]]:
    """Return each period's rules as the kiosk's store holds them."""
    return [tuple(r[k] for k in FIELDS) for r in stars.all_rules(store.reader)]


def hub_rules(hub: Hub) -> list[tuple[Any, ...]]:
    rows = hub.query(f"SELECT {', '.join(FIELDS)} FROM star_rules ORDER BY first_day DESC")
    return [tuple(r.values()) for r in rows]


def star_names(store: Store, rules_id: str) -> list[str]:
    """Return the names of the period's stars, computed from this kiosk's own loans."""
    rules = stars.get_rules(store.reader, rules_id)
    assert rules is not None
    children = festival.reading(store, *festival.dates(rules), TZ)
    return [c.name for _, best in festival.stars(children, rules) for c in best]


def test_rules_saved_at_a_kiosk_reach_the_other_whose_loans_count(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    a.worker.sync_once()
    saved = stars.save_rules(a.store, festival_form(), "librarian")
    assert saved.ok
    rules_id = saved.events[0].data["rules"]
    a.worker.sync_once()
    expected = [(rules_id, "读书节", FIRST, LAST, 1, 0, 0)]
    assert hub_rules(hub) == expected

    b.worker.sync_once()  # B's first contact: a snapshot, star rules included
    assert kiosk_rules(b.store) == expected
    assert b.circulation.checkout("S001", BOOK[0]).event is not None
    # The stars are computed where the loans are: B counts its loan, A has not heard of it yet.
    assert star_names(b.store, rules_id) == ["王小明"]
    assert star_names(a.store, rules_id) == []

    # An edit at B (name, two books) reaches the hub and A through the feed.
    assert stars.save_rules(b.store, festival_form("春季读书节", books=2), "librarian", rules_id).ok
    b.worker.sync_once()
    a.worker.sync_once()
    edited = [(rules_id, "春季读书节", FIRST, LAST, 2, 0, 0)]
    assert hub_rules(hub) == edited == kiosk_rules(a.store) == kiosk_rules(b.store)
    at_hub = hub.query("SELECT saved_at FROM star_rules")[0]["saved_at"]
    for k in (a, b):  # the hub's time everywhere
        assert k.store.value("SELECT saved_at FROM star_rules") == at_hub
    assert star_names(a.store, rules_id) == []  # one book (B's, synced to A), two needed
    assert a.circulation.checkout("S001", BOOK[1]).event is not None
    assert star_names(a.store, rules_id) == ["王小明"]


def test_two_edits_meet_in_the_order_the_hub_receives_them(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    rules_id = stars.save_rules(a.store, festival_form(), "librarian").events[0].data["rules"]
    a.worker.sync_once()
    b.worker.sync_once()
    # Both edit while cut off; B reaches the hub first, A last: A's edit stands everywhere.
    assert stars.save_rules(a.store, festival_form("A 的读书节", top=3), "l", rules_id).ok
    assert stars.save_rules(b.store, festival_form("B 的读书节", books=4), "l", rules_id).ok
    b.worker.sync_once()
    assert kiosk_rules(b.store)[0][1] == "B 的读书节"  # for now the hub has B's edit
    a.worker.sync_once()
    b.worker.sync_once()
    final = [(rules_id, "A 的读书节", FIRST, LAST, 1, 0, 3)]
    assert hub_rules(hub) == final == kiosk_rules(a.store) == kiosk_rules(b.store)


def test_rules_saved_at_the_hubs_pages_reach_the_kiosks(hub: Hub, kiosk_factory: Any) -> None:
    Passwords(hub.folder / "web-passwords.json").set("librarian", "a long secret")
    browser = Browser(hub.port)
    assert browser.login("librarian", "a long secret")[0] == 302
    path = "/admin/reports/stars/"
    form = {"name": "五月阅读之星", "month": "", "first": FIRST, "last": LAST,
            "min_books": "2", "min_list": "0", "top": "5"}  # fmt: skip
    status, headers, _, _ = browser.request(
        "POST", path, form={**form, "csrf_token": browser.token(path)}
    )
    assert status == 302
    found = re.search(r"/admin/reports/stars/(\w+)$", headers["Location"])
    assert found, headers["Location"]
    rules_id = found.group(1)
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    assert kiosk_rules(a.store) == [(rules_id, "五月阅读之星", FIRST, LAST, 2, 0, 5)]
    # Changed at the hub again: the kiosk follows the feed.
    page = path + rules_id
    edit = {**form, "name": "五月阅读之星（改）", "top": "0", "csrf_token": browser.token(page)}
    assert browser.request("POST", page, form=edit)[0] == 302
    a.worker.sync_once()
    assert kiosk_rules(a.store) == [(rules_id, "五月阅读之星（改）", FIRST, LAST, 2, 0, 0)]


def test_forged_star_rules_are_refused_with_their_reason_and_change_nothing(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    rules_id = stars.save_rules(a.store, festival_form(), "librarian").events[0].data["rules"]
    a.worker.sync_once()
    before = hub_rules(hub)
    assert before
    good = {"rules": rules_id, "name": "改掉", "first": FIRST, "last": LAST,
            "min_books": 1, "min_list": 0, "top": 0}  # fmt: skip
    forged = [
        ({**good, "last": "2000-01-01"}, "data.last", "ends_before"),
        ({**good, "first": "2020-01-01", "last": "2026-01-01"}, "data.last", "period_too_long"),
        ({**good, "min_books": 0}, "data.min_books", "no_rule"),
        ({**good, "min_books": "lots"}, "data.min_books", "not_number"),
        ({**good, "min_list": 501}, "data.min_list", "not_number"),
        ({**good, "top": True}, "data.top", "not_number"),
        ({**good, "first": "2026-02-30"}, "data.first", "not_date"),
        ({**good, "name": " "}, "data.name", "blank"),
        ({**good, "name": "坏\x00话"}, "data.name", "control"),
        ({**good, "rules": "new-one", "last": None}, "data.last", "missing"),
    ]
    token = hub.register("B")
    events = [
        event("B", "star_rules_saved", seq=n, patron_id=None, item_barcode=None, data=data)
        for n, (data, _, _) in enumerate(forged, start=1)
    ]
    resp = post(hub, token, batch("B", *events))
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] == len(forged)
    found = {r["event_uuid"]: r for r in hub.query("SELECT * FROM conflicts")}
    details = [(found[e["uuid"]]["kind"], json.loads(found[e["uuid"]]["detail"])) for e in events]
    said = [(kind, d.get("field"), d.get("problem")) for kind, d in details]
    assert said == [("malformed", place, code) for _, place, code in forged]
    assert hub_rules(hub) == before
    a.worker.sync_once()
    assert kiosk_rules(a.store) == before
    # The librarian reads each in words, with the field and the problem.
    words = run_cli("--config", str(hub.config), "hub", "conflicts")
    assert words.returncode == 0, words.stderr
    assert "data.last: is before the period's first day" in words.stdout
    assert "data.last: makes the period longer than 366 days" in words.stdout
    assert "data.min_books: is 0 like the list titles" in words.stdout


def test_a_kiosks_refused_new_rules_give_way_to_the_hubs(hub: Hub, kiosk_factory: Any) -> None:
    """Rules a newer hub would refuse (made by a kiosk whose own check was looser) go away."""
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    with a.store.write() as db:  # as a kiosk with a broken check would have recorded them
        data = {"rules": "R-BAD", "name": "坏的", "first": LAST, "last": FIRST,
                "min_books": 1, "min_list": 0, "top": 0}  # fmt: skip
        e = Event("star_rules_saved", a.store.now(), "A", "l", None, None, data, str(uuid.uuid4()))
        project(db, a.store.record(db, e))
    assert [r[0] for r in kiosk_rules(a.store)] == ["R-BAD"]
    a.worker.sync_once()
    assert [r["kind"] for r in hub.query("SELECT kind FROM conflicts")] == ["malformed"]
    assert hub_rules(hub) == [] == kiosk_rules(a.store)


def test_a_hub_from_before_applies_the_star_rules_it_kept(tmp_path: Path) -> None:
    """A hub that kept kiosks' star rules only for the record applies them once upgraded."""
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    good = {"rules": "R1", "name": "读书节", "first": FIRST, "last": LAST,
            "min_books": 2, "min_list": 0, "top": 0}  # fmt: skip
    edit = {**good, "name": "读书节（改）"}
    forged = {**good, "rules": "R2", "min_books": 0}
    with store.write() as db:  # as such a hub stored them, and nothing else
        events = [("star_rules_saved", data) for data in (good, edit, forged)]
        kept_for_the_record(store, db, events, "l")
        for op in ("insert", "update", "delete"):
            db.execute(f"DROP TRIGGER feed_star_rules_{op}")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'h005_star_sync'")
    store.close()
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    try:
        assert store.query("SELECT id, name, min_books FROM star_rules") == [
            {"id": "R1", "name": "读书节（改）", "min_books": 2}
        ]
        assert [r["kind"] for r in store.query("SELECT kind FROM conflicts")] == ["malformed"]
        page = hubstore.changes(store, 0, 1000)["changes"]
        sent = {c["key"]: c["row"] and c["row"]["name"] for c in page if c["kind"] == "stars"}
        assert sent == {"R1": "读书节（改）", "R2": None}  # a kiosk that has R2 drops it
    finally:
        store.close()


def test_a_kiosk_from_before_skips_the_feeds_stars() -> None:
    """Such a kiosk applies an unknown feed kind as "<kind>_saved": no projection may match."""
    assert "stars_saved" not in projector.event_types()
    assert "star_rules_synced" in projector.event_types()
    assert "lists_saved" not in projector.event_types()  # the lists' kind, likewise
    assert "reading_list_synced" in projector.event_types()
