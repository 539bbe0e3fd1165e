"""Two kiosks scanning the same stocktake at once; their scans merge at a real hub on loopback."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kiosk.circulation.collection import lost, stocktake, weeding
from kiosk.circulation.collection.stocktake import Scope
from kiosk.config import from_dict
from kiosk.daemon.app import hub_pages
from kiosk.web.security import Passwords

from .conftest import BOOK, Hub, wait_until

pytestmark = pytest.mark.timeout(60)


def hub_report(hub: Hub) -> dict[str, str]:
    s = hub.store()
    try:
        st = stocktake.latest(s.reader)
        return {r["barcode"]: r["status"] for r in stocktake.report(s.reader, st)} if st else {}
    finally:
        s.close()


def test_two_kiosks_scanning_one_stocktake_merge_at_the_hub(hub: Hub, kiosk_factory: Any) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    a.worker.sync_once()
    b.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[16]).ok  # out, not on the shelf
    assert a.circulation.checkout("S002", BOOK[18]).ok  # out, yet B finds it on the shelf
    assert lost.mark(a.store, "lost", BOOK[19], "librarian:admin").ok  # lost: not expected
    for side in (a, b):
        assert stocktake.start(side.store, Scope(location="library"), "H001").ok

    def scan_all(side: Any, codes: list[str]) -> None:
        for code in codes:
            assert stocktake.scan(side.store, code, "H001").outcome.ok

    a.worker.start()
    b.worker.start()
    work = [(a, BOOK[0:12]), (b, [*BOOK[8:16], BOOK[18], "UNKNOWN-B"])]
    threads = [threading.Thread(target=scan_all, args=w) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = {code: "found" for code in BOOK[0:16]}
    expected |= {BOOK[17]: "missing", BOOK[18]: "on_loan_found", "UNKNOWN-B": "unknown"}
    wait_until(lambda: hub_report(hub) == expected, 20, "the merged report at the hub")
    # One stocktake at the hub, B's start joined A's (or the other way round), each barcode once.
    rows = hub.query("SELECT id, joined_to FROM stocktakes ORDER BY joined_to IS NULL")
    assert len(rows) == 2 and rows[0]["joined_to"] == rows[1]["id"]
    assert hub.query("SELECT count(*) AS n FROM stocktake_scans")[0]["n"] == 18
    kiosks = {r["barcode"]: r["kiosk_id"] for r in hub.query("SELECT * FROM stocktake_scans")}
    assert kiosks[BOOK[0]] == "A" and kiosks[BOOK[15]] == "B"
    # The librarian reads the merged report on the hub's dashboard.
    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=hub.folder)
    Passwords(settings.resolve(settings.web.password_file)).set("librarian", "a long secret")
    store = hub.store()
    try:
        client = hub_pages(store, settings).test_client()
        html = client.get("/admin/login").get_data(as_text=True)
        csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"csrf_token": csrf, "user": "librarian", "password": "a long secret"}
        assert client.post("/admin/login", data=form).status_code == 302
        merged = rows[1]["id"]
        csv_text = client.get(f"/admin/collection/stocktake/{merged}?format=csv").get_data(
            as_text=True
        )
    finally:
        store.close()
    lines = csv_text.lstrip("\ufeff").splitlines()
    # The download is in the librarian's language (Chinese): statuses in words, as on the page.
    assert lines[0].startswith("条码,状态,")
    words = {
        "found": "在架",
        "missing": "缺失",
        "on_loan_found": "借出却在架",
        "unknown": "未知条码",
    }
    shown = {code: words[status] for code, status in expected.items()}
    assert {line.split(",")[0]: line.split(",")[1] for line in lines[1:]} == shown


def test_a_loan_marked_lost_offline_reaches_the_hub_closed_as_lost(
    hub: Hub, kiosk_factory: Any
) -> None:
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[2]).ok
    assert lost.mark(a.store, "lost", BOOK[2], "librarian:admin").ok
    assert weeding.withdraw(a.store, BOOK[3], "worn", "librarian:admin").ok
    a.worker.sync_once()
    a.worker.sync_once()  # and the hub's data back
    for where in (hub.query, a.store.query):
        loans = where(
            "SELECT patron_id, returned_at IS NOT NULL AS closed, closed_as FROM loans "
            "WHERE item_barcode = ?",
            [BOOK[2]],
        )
        assert loans == [{"patron_id": "S001", "closed": 1, "closed_as": "lost"}]
        assert where("SELECT status FROM items WHERE barcode = ?", [BOOK[2]]) == [
            {"status": "lost"}
        ]
    # A withdrawal is the hub's librarian's to decide (kiosk/sync/trust.py): listed, not applied.
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[3]]) == [
        {"status": "available"}
    ]
    assert hub.query("SELECT kind, item_barcode FROM conflicts") == [
        {"kind": "not_kiosk_authority", "item_barcode": BOOK[3]}
    ]


def test_late_loan_events_replay_with_the_books_lost_and_corner_loans(
    hub: Hub, kiosk_factory: Any
) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.circulation.collection import corners

    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    b = kiosk_factory(hub.url, hub.register("B"), kiosk_id="B")
    for k in (a, b):
        k.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[7]).ok  # BOOK[7] on the shelf: a quiet moment
    assert a.circulation.checkin(BOOK[7]).ok
    a.worker.sync_once()
    # Offline, kiosk B lends and takes back three books.
    for book, patron in ((BOOK[5], "S002"), (BOOK[6], "S003"), (BOOK[7], "S002")):
        assert b.circulation.checkout(patron, book).ok
        assert b.circulation.checkin(book).ok
    # Later, A lends BOOK[5] and marks it lost, and lends BOOK[6] to a class corner; the hub has
    # these before B's older events of the same books arrive.
    assert a.circulation.checkout("S001", BOOK[5]).ok
    assert lost.mark(a.store, "lost", BOOK[5], "librarian:admin").ok
    due = dt.date.today() + dt.timedelta(days=60)
    box = corners.lend(a.store, "三(2)班", "T001", [BOOK[6]], due, ZoneInfo("UTC"), "T001")
    assert box.ok
    assert a.circulation.checkout("S003", BOOK[7]).ok
    a.worker.sync_once()
    hub_store = hub.store()  # the hub's librarian marks BOOK[7] lost at the hub
    try:
        assert lost.mark(hub_store, "lost", BOOK[7], "librarian:admin").ok
    finally:
        hub_store.close()
    b.worker.sync_once()  # late: replays the books from their first event or a quiet moment

    assert hub.query(
        "SELECT patron_id, returned_at IS NOT NULL AS closed, closed_as FROM loans "
        "WHERE item_barcode = ? ORDER BY checked_out_at",
        [BOOK[5]],
    ) == [
        {"patron_id": "S002", "closed": 1, "closed_as": None},
        {"patron_id": "S001", "closed": 1, "closed_as": "lost"},
    ]
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[5]]) == [
        {"status": "lost"}
    ]
    assert hub.query(
        "SELECT l.patron_id, c.class_name FROM loans l JOIN corner_loans c ON c.loan_uuid = l.uuid "
        "WHERE l.item_barcode = ? AND l.returned_at IS NULL",
        [BOOK[6]],
    ) == [{"patron_id": "T001", "class_name": "三(2)班"}]
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[6]]) == [
        {"status": "on_loan"}
    ]
    assert hub.query(
        "SELECT patron_id, closed_as FROM loans WHERE item_barcode = ? ORDER BY checked_out_at",
        [BOOK[7]],
    ) == [
        {"patron_id": "S001", "closed_as": None},
        {"patron_id": "S002", "closed_as": None},
        {"patron_id": "S003", "closed_as": "lost"},
    ]
    assert hub.query("SELECT status FROM items WHERE barcode = ?", [BOOK[7]]) == [
        {"status": "lost"}
    ]
