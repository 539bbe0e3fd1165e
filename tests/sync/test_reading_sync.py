"""Reading lists are master data from the hub: a hub process and two kiosks on loopback.

A list made at kiosk A's dashboard or at the hub's pages reaches kiosk B, and B's children's
progress counts B's loans; an edit at either end reaches both; two edits meet in the order the
hub receives them; a forged or malformed list event is refused in words and changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from web.clients import Browser

from kiosk.circulation.reading import lists, progress
from kiosk.circulation.records import put_item
from kiosk.circulation.store import Store
from kiosk.sync import hubstore
from kiosk.web.security import Passwords

from .conftest import BOOK, Hub, add_school, kept_for_the_record, run_cli
from .test_hub_input import batch, event, post

pytestmark = pytest.mark.timeout(60)
SINCE = "2000-01-01"


def grade3(name: str = "三年级推荐书目", target: int = 2) -> lists.ListForm:
    return lists.ListForm(name=name, grade=3, term="2026秋", target=target)


def kiosk_list(store: Store) -> list[tuple[Any, ...]]:
    """Return each list with its titles, as the kiosk's store holds them."""
    db = store.reader
    return [
        (
            r["id"],
            r["name"],
            r["grade"],
            r["target"],
            [t["title"] for t in lists.titles(db, r["id"])],
        )
        for r in lists.all_lists(db)
    ]


def hub_list(hub: Hub) -> list[tuple[Any, ...]]:
    rows = hub.query("SELECT id, name, grade, target FROM reading_lists ORDER BY grade, id")
    return [
        (
            *r.values(),
            [
                t["title"]
                for t in hub.query(
                    "SELECT title FROM reading_list_titles WHERE list_id = ? "
                    "ORDER BY added_at, rowid",
                    [r["id"]],
                )
            ],
        )
        for r in rows
    ]


def test_a_list_made_at_a_kiosk_reaches_the_other_whose_loans_count(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    a.worker.sync_once()
    made = lists.save_list(a.store, grade3(), 6, "librarian")
    list_id = made.events[0].data["list"]
    for code in BOOK[:3]:
        assert lists.add_title(a.store, list_id, code, "librarian").ok
    a.worker.sync_once()
    expected = [(list_id, "三年级推荐书目", 3, 2, ["书 1", "书 2", "书 3"])]
    assert hub_list(hub) == expected

    b.worker.sync_once()  # B's first contact: a snapshot, lists included
    assert kiosk_list(b.store) == expected
    assert b.circulation.checkout("S001", BOOK[0]).event is not None
    at_b = progress.progress(b.store.reader, "S001", 3, SINCE)
    assert (at_b["read"], at_b["list"]) == (1, {"name": "三年级推荐书目", "done": 1, "target": 2})
    # Progress is computed where the loans are: A has not heard of B's loan yet.
    assert progress.progress(a.store.reader, "S001", 3, SINCE)["list"]["done"] == 0

    # An edit at B (name, target, a title off) reaches the hub and A through the feed.
    renamed = grade3("三年级必读", target=3)
    assert lists.save_list(b.store, renamed, 6, "librarian", list_id).ok
    assert lists.remove_title(b.store, list_id, "书 3", "librarian").ok
    b.worker.sync_once()
    a.worker.sync_once()
    edited = [(list_id, "三年级必读", 3, 3, ["书 1", "书 2"])]
    assert hub_list(hub) == edited == kiosk_list(a.store) == kiosk_list(b.store)
    saved = hub.query("SELECT saved_at FROM reading_lists")[0]["saved_at"]
    for k in (a, b):  # the hub's time everywhere, so "the grade's newest list" is the same one
        assert k.store.value("SELECT saved_at FROM reading_lists") == saved
    assert progress.progress(a.store.reader, "S001", 3, SINCE)["list"] == {
        "name": "三年级必读",
        "done": 1,  # B's loan, synced to A with the loans
        "target": 3,
    }


def test_two_edits_meet_in_the_order_the_hub_receives_them(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    list_id = lists.save_list(a.store, grade3(), 6, "librarian").events[0].data["list"]
    a.worker.sync_once()
    b.worker.sync_once()
    # Both edit while cut off; B reaches the hub first, A last: A's edit stands everywhere.
    assert lists.save_list(a.store, grade3("A 的名字"), 6, "librarian", list_id).ok
    assert lists.add_title(a.store, list_id, BOOK[4], "librarian").ok
    assert lists.save_list(b.store, grade3("B 的名字", target=5), 6, "librarian", list_id).ok
    assert lists.add_title(b.store, list_id, BOOK[5], "librarian").ok
    b.worker.sync_once()
    a.worker.sync_once()
    b.worker.sync_once()
    # The list's fields: the last received edit; titles: each added title (neither removed).
    final = [(list_id, "A 的名字", 3, 2, ["书 6", "书 5"])]
    assert hub_list(hub) == final == kiosk_list(a.store) == kiosk_list(b.store)


def test_a_list_made_at_the_hubs_pages_reaches_the_kiosks(hub: Hub, kiosk_factory: Any) -> None:
    Passwords(hub.folder / "web-passwords.json").set("librarian", "a long secret")
    browser = Browser(hub.port)
    assert browser.login("librarian", "a long secret")[0] == 302
    form = {"name": "科普节书单", "grade": "", "term": "读书节", "target": "0"}
    status, headers, _, _ = browser.request(
        "POST", "/admin/reading/", form={**form, "csrf_token": browser.token("/admin/reading/")}
    )
    assert status == 302
    found = re.search(r"/admin/reading/(\w+)$", headers["Location"])
    assert found, headers["Location"]
    list_id = found.group(1)
    path = f"/admin/reading/{list_id}"
    add = {"code": BOOK[7], "csrf_token": browser.token(path)}
    assert browser.request("POST", path + "/add", form=add)[0] == 302
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    assert kiosk_list(a.store) == [(list_id, "科普节书单", None, 0, ["书 8"])]
    # Edited at the hub again: the kiosk follows the feed.
    edit = {**form, "name": "科普节书单（五月）", "csrf_token": browser.token(path)}
    assert browser.request("POST", path, form=edit)[0] == 302
    a.worker.sync_once()
    assert kiosk_list(a.store) == [(list_id, "科普节书单（五月）", None, 0, ["书 8"])]


def test_a_forged_list_event_is_refused_in_words_and_changes_nothing(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    list_id = lists.save_list(a.store, grade3(), 6, "librarian").events[0].data["list"]
    assert lists.add_title(a.store, list_id, BOOK[0], "librarian").ok
    a.worker.sync_once()
    before = hub_list(hub)
    good = {"list": list_id, "key": "书 2", "title": "书 2", "author": "", "isbn": ""}
    forged = [
        ("reading_list_title_added", {**good, "key": "X", "title": "坏话"}, "not_in_catalogue"),
        ("reading_list_title_added", {**good, "title": "书 3"}, "not_in_catalogue"),
        ("reading_list_title_added", {**good, "author": "某人"}, "not_in_catalogue"),
        ("reading_list_title_added", {**good, "list": "no-such-list"}, "unknown_list"),
        ("reading_list_title_removed", {"list": "no-such-list", "key": "书 1"}, "unknown_list"),
        ("reading_list_title_added", {**good, "title": "书\x002"}, "malformed"),
        ("reading_list_saved", {"list": list_id, "name": "x", "target": "lots"}, "malformed"),
        ("reading_list_saved", {"list": list_id, "name": "x", "target": True}, "malformed"),
        (
            "reading_list_saved",
            {"list": list_id, "name": "x", "target": 3, "grade": 99},
            "malformed",
        ),
        ("reading_list_saved", {"list": list_id, "name": " ", "target": 3}, "malformed"),
        ("reading_list_saved", {"list": [list_id], "name": "x", "target": 3}, "malformed"),
    ]
    token = hub.register("B")
    events = [
        event("B", type_, seq=n, patron_id=None, item_barcode=None, data=data)
        for n, (type_, data, _) in enumerate(forged, start=1)
    ]
    resp = post(hub, token, batch("B", *events))
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] == len(forged)
    kinds = {r["event_uuid"]: r["kind"] for r in hub.query("SELECT * FROM conflicts")}
    assert [kinds.get(e["uuid"]) for e in events] == [kind for _, _, kind in forged]
    assert hub_list(hub) == before
    a.worker.sync_once()
    assert kiosk_list(a.store) == before
    # The librarian reads each in words, with the field and the problem for a malformed one.
    words = run_cli("--config", str(hub.config), "hub", "conflicts")
    assert words.returncode == 0, words.stderr
    assert "reading list the hub does not have" in words.stdout
    assert "the hub's catalogue does not have" in words.stdout
    assert "data.target" in words.stdout and "data.grade" in words.stdout


def test_a_kiosks_refused_edit_gives_way_to_the_hubs_list(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    list_id = lists.save_list(a.store, grade3(), 6, "librarian").events[0].data["list"]
    a.worker.sync_once()
    # A book catalogued at A's desk only: the hub's catalogue does not have it.
    with a.store.write() as db:
        put_item(db, {"barcode": "LOCAL-1", "title": "本地的书"}, a.store.now())
    assert lists.add_title(a.store, list_id, "LOCAL-1", "librarian").ok
    assert kiosk_list(a.store)[0][4] == ["本地的书"]
    a.worker.sync_once()
    assert [r["kind"] for r in hub.query("SELECT kind FROM conflicts")] == ["not_in_catalogue"]
    assert hub_list(hub) == [(list_id, "三年级推荐书目", 3, 2, [])] == kiosk_list(a.store)


def test_a_hub_from_before_applies_the_list_edits_it_kept(tmp_path: Path) -> None:
    """A hub that kept kiosks' list edits only for the record applies them once upgraded."""
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    add_school(store)
    saved = {"list": "L1", "name": "三年级推荐书目", "grade": 3, "term": "", "target": 2}
    title = {"list": "L1", "key": "书 1", "title": "书 1", "author": "", "isbn": ""}
    forged = {**title, "key": "X", "title": "X"}
    with store.write() as db:  # as such a hub stored them, and nothing else
        kept_for_the_record(
            store,
            db,
            [
                ("reading_list_saved", saved),
                ("reading_list_title_added", title),
                ("reading_list_title_added", forged),
            ],
            "librarian",
        )
        for table in ("reading_lists", "reading_list_titles"):
            for op in ("insert", "update", "delete"):
                db.execute(f"DROP TRIGGER feed_{table}_{op}")
        db.execute("DELETE FROM reading_list_titles")
        db.execute("DELETE FROM reading_lists")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'h004_reading_sync'")
    store.close()
    store = hubstore.open_hub_store(tmp_path / "hub.db")
    try:
        assert store.query("SELECT id, name FROM reading_lists") == [
            {"id": "L1", "name": "三年级推荐书目"}
        ]
        assert [r["title"] for r in store.query("SELECT title FROM reading_list_titles")] == [
            "书 1"
        ]
        kinds = [r["kind"] for r in store.query("SELECT kind FROM conflicts")]
        assert kinds == ["not_in_catalogue"]
        page = hubstore.changes(store, 0, 1000)["changes"]
        assert [c["row"]["titles"][0]["title"] for c in page if c["kind"] == "lists"] == ["书 1"]
    finally:
        store.close()
