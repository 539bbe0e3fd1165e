"""A second kiosk's token forges every collection event type at a running hub, over HTTP.

Kiosk A lends, holds, counts and marks books at its desk; kiosk B (a stolen token) then sends
events naming A's loans, holds, incidents and stocktakes, garbage and mistyped data and control
characters. Each is stored, listed as a conflict in words (zh_CN and en), applied nowhere; every
hub page and A's touchscreen still answer 200 (docs/sync.md, "Trust").
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from markupsafe import escape
from web.helpers import fifo_settings, running

from kiosk.circulation.collection import EVENT_TYPES, corners, holds, lost, stocktake
from kiosk.circulation.collection.stocktake import Scope
from kiosk.circulation.schemas import PROBLEMS
from kiosk.config import from_dict
from kiosk.daemon.app import Daemon, hub_pages
from kiosk.i18n import translate
from kiosk.sync.conflicts import KINDS
from kiosk.web.security import Passwords

from .conftest import BOOK, Hub, run_cli
from .test_hub_input import batch, post

pytestmark = pytest.mark.timeout(120)

PASSWORD = "a long secret"
# What a forged event could change at the hub: none of it may move.
TABLES = {
    "loans": "uuid",
    "items": "barcode",
    "holds": "id",
    "incidents": "id",
    "stocktakes": "id",
    "stocktake_scans": "barcode",
    "cards": "code",
    "patrons": "id",
    "corner_loans": "loan_uuid",
    "withdrawals": "item_barcode",
    "holiday_loans": "grade",
}
STREAMS = ("/events", "/admin/live")  # Server-Sent Events: read in the touchscreen's part
CONTROL = "X\tissue\tS00041\n9"


def state(hub: Hub) -> dict[str, Any]:
    return {t: hub.query(f"SELECT * FROM {t} ORDER BY {key}") for t, key in TABLES.items()}


def forged(type_: str, patron: str | None = None, item: str | None = None, **data: Any) -> dict:
    """Return a wire event of kiosk B."""
    return {
        "uuid": str(uuid.uuid4()),
        "seq": 1,
        "type": type_,
        "at": "2026-12-01T02:00:00.000Z",
        "kiosk_id": "B",
        "actor": "H001",
        "patron_id": patron,
        "item_barcode": item,
        "data": data,
    }


@pytest.fixture
def desk(hub: Hub, kiosk_factory: Any) -> dict[str, Any]:
    """Kiosk A's desk work, at the hub: a loan, a hold, a damaged book, a stocktake, a corner."""
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    assert a.circulation.checkout("S001", BOOK[0]).ok
    assert holds.place(a.store, BOOK[0], "S002", "H001").ok
    assert lost.mark(a.store, "damaged", BOOK[1], "librarian:admin").ok
    assert a.circulation.checkout("S003", BOOK[3]).ok
    assert lost.mark(a.store, "lost", BOOK[3], "librarian:admin").ok
    assert stocktake.start(a.store, Scope(location="library"), "H001").ok
    assert stocktake.scan(a.store, BOOK[2], "H001").outcome.ok
    due = dt.date.today() + dt.timedelta(days=30)
    assert corners.lend(a.store, "三(2)班", "T001", [BOOK[4]], due, ZoneInfo("UTC"), "T001").ok
    a.worker.sync_once()
    one = a.store.query

    def first(sql: str) -> str:
        return str(one(sql)[0]["x"])

    found = {
        "kiosk": a,
        "loan": first(f"SELECT uuid AS x FROM loans WHERE item_barcode = '{BOOK[0]}'"),
        "hold": first("SELECT id AS x FROM holds"),
        "damaged": first("SELECT id AS x FROM incidents WHERE kind = 'damaged'"),
        "lost": first("SELECT id AS x FROM incidents WHERE kind = 'lost'"),
        "stocktake": first("SELECT id AS x FROM stocktakes"),
        "corner_loan": first(f"SELECT uuid AS x FROM loans WHERE item_barcode = '{BOOK[4]}'"),
    }
    assert hub.query("SELECT count(*) AS n FROM holds")[0]["n"] == 1  # A's work reached the hub
    assert hub.query("SELECT count(*) AS n FROM conflicts")[0]["n"] == 0
    return found


def attacks(d: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Return (forged event of kiosk B, the conflict it must be listed as)."""
    box = [{"barcode": BOOK[9], "loan_uuid": d["loan"]}]  # A's loan id for another book
    due = "2026-12-20T15:59:59.000Z"
    corner = {"batch": "b1", "class_name": "三(2)班", "due_at": due}
    hold = d["hold"]
    st = d["stocktake"]
    return [
        # A class corner: garbage due date, mistyped box, control characters, another's loans.
        (forged("corner_lent", "T001", **{**corner, "due_at": "garbage"}, items=box), "malformed"),
        (forged("corner_lent", "T001", **corner, items={}), "malformed"),
        (forged("corner_lent", "T001", **corner, items=[{"barcode": BOOK[9], "loan_uuid": []}]),
         "malformed"),
        (forged("corner_lent", "T001", **{**corner, "class_name": CONTROL}, items=box),
         "malformed"),
        (forged("corner_lent", "T001", **corner, items=box), "not_own_loan"),
        (forged("corner_lent", "NOBODY", **corner, items=box), "unknown_patron"),
        # Lost and damaged: another book's loan, mistyped ids, blaming a student with no loan.
        (forged("item_lost", "S001", BOOK[5], loan_uuid=d["loan"]), "not_own_loan"),
        (forged("item_damaged", "S001", BOOK[0], loan_uuid=[]), "malformed"),
        (forged("item_lost", "S002", BOOK[0], loan_uuid=d["loan"]), "not_own_loan"),
        (forged("item_lost", "S003", BOOK[6]), "not_own_loan"),
        (forged("item_damaged", None, BOOK[6], note="A\x00"), "malformed"),
        (forged("item_found", None, BOOK[7], how="desk"), "not_lost"),
        (forged("item_found", None, BOOK[7], how=CONTROL), "malformed"),
        # A's incidents: compensation and repair are for the kiosk that opened them.
        (forged("compensation_recorded", "S003", BOOK[3], incident=d["lost"], kind="waived"),
         "not_own_incident"),
        (forged("compensation_recorded", None, None, incident=[], kind="money"), "malformed"),
        (forged("compensation_recorded", None, None, incident=d["lost"], kind="gold"),
         "malformed"),
        (forged("repair_started", None, None, incident=d["damaged"]), "not_own_incident"),
        (forged("repair_done", None, BOOK[1], incident=d["damaged"]), "not_own_incident"),
        # A's hold: neither taken over, nor made ready, collected, expired or cancelled.
        (forged("hold_placed", "S003", BOOK[0], hold={}), "malformed"),
        (forged("hold_placed", "S003", BOOK[0], hold=hold), "not_own_hold"),
        (forged("hold_placed", "S003", "NO-SUCH-BOOK", hold="h2"), "unknown_item"),
        (forged("hold_ready", "S002", BOOK[0], hold=hold, expires_on="2026-12-09"),
         "not_own_hold"),
        (forged("hold_ready", "S002", BOOK[0], hold=hold, expires_on="garbage"), "malformed"),
        (forged("hold_fulfilled", "S002", BOOK[0], hold=hold), "not_own_hold"),
        (forged("hold_expired", "S002", BOOK[0], hold=hold), "not_own_hold"),
        (forged("hold_cancelled", "S002", BOOK[0], hold=hold), "not_own_hold"),
        (forged("hold_cancelled", "S002", BOOK[0], hold=CONTROL), "malformed"),
        # A's stocktake: neither joined by id, scanned into, paused, resumed nor finished.
        (forged("stocktake_started", stocktake=st, location="library"), "not_own_stocktake"),
        (forged("stocktake_started", stocktake="s2", location="A\x00"), "malformed"),
        (forged("stocktake_scan", None, BOOK[8], stocktake=st), "not_own_stocktake"),
        (forged("stocktake_scan", None, BOOK[8], stocktake=[]), "malformed"),
        (forged("stocktake_paused", stocktake=st), "not_own_stocktake"),
        (forged("stocktake_resumed", stocktake=st), "not_own_stocktake"),
        (forged("stocktake_finished", stocktake=st), "not_own_stocktake"),
        # Cards: control characters, another's card, a card the patron does not have.
        (forged("card_replaced", "S002", old="CARD-S002", new=CONTROL), "blank_card"),
        (forged("card_replaced", "S002", old="CARD-S002", new="A\x00"), "blank_card"),
        (forged("card_replaced", "S002", old="CARD-S002", new=["A"]), "blank_card"),
        (forged("card_replaced", "S002", old="CARD-S002", new="CARD-S001"), "card_moved"),
        (forged("card_replaced", "S002", old="CARD-S001", new="NEW-CARD"), "unknown_card"),
        # The hub librarian's: withdrawals, the school year, holiday loans.
        (forged("item_withdrawn", None, BOOK[6], reason="worn"), "not_kiosk_authority"),
        (forged("year_promoted", moves=[{"patron": "S001", "grade": 9, "class_name": "x"}]),
         "not_kiosk_authority"),
        (forged("leavers_closed", leavers=["S001", "S002"]), "not_kiosk_authority"),
        (forged("holiday_loans_set", grades={"3": "2027-03-01"}), "not_kiosk_authority"),
    ]  # fmt: skip


def login(hub: Hub) -> requests.Session:
    """Log in to the hub's dashboard over HTTP as the librarian."""
    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=hub.folder)
    Passwords(settings.resolve(settings.web.password_file)).set("librarian", PASSWORD)
    s = requests.Session()
    html = s.get(hub.url + "/admin/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf
    form = {"csrf_token": csrf.group(1), "user": "librarian", "password": PASSWORD}
    r = s.post(hub.url + "/admin/login", data=form, timeout=5, allow_redirects=False)
    assert r.status_code == 302, r.text
    return s


def pages(hub: Hub, d: dict[str, Any]) -> list[str]:
    """Return every page of the hub's dashboard: each GET route, and the records forged at."""
    settings = from_dict({"kiosk": {"id": "hub"}, "store": {"path": "hub.db"}}, base_dir=hub.folder)
    store = hub.store()
    try:
        app = hub_pages(store, settings)
        plain = sorted(
            str(rule.rule)
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods
            and not rule.arguments
            and rule.endpoint != "static"
            and rule.rule.startswith("/admin/")
            and rule.rule not in STREAMS
        )
    finally:
        store.close()
    records = (
        [f"/admin/patrons/{p}" for p in ("S001", "S002", "S003", "T001")]
        + [f"/admin/items/{b}" for b in BOOK[:10]]
        + [
            f"/admin/collection/stocktake/{d['stocktake']}",
            "/admin/hub/conflicts?page=2",
        ]
    )
    return plain + records


def test_every_forged_collection_event_is_listed_in_words_and_changes_nothing(
    hub: Hub, desk: dict[str, Any], tmp_path: Path
) -> None:
    token = hub.register("B")
    cases = attacks(desk)
    forged_types = {e["type"] for e, _ in cases}
    assert forged_types >= set(EVENT_TYPES)  # every collection event type is forged
    before = state(hub)
    for event, kind in cases:
        resp = post(hub, token, batch("B", event))
        assert resp.status_code == 200, (event["type"], resp.text)
        assert resp.json()["acked"] == [event["uuid"]]
        listed = hub.query("SELECT kind FROM conflicts WHERE event_uuid = ?", [event["uuid"]])
        assert [r["kind"] for r in listed] == [kind], (event["type"], event["data"])
    assert state(hub) == before
    # The whole lot again in one batch (in the order they happened): still nothing applied.
    again = [{**e, "uuid": str(uuid.uuid4())} for e, _ in cases]
    assert post(hub, token, batch("B", *again)).status_code == 200
    assert state(hub) == before
    assert hub.query("SELECT count(*) AS n FROM conflicts")[0]["n"] == 2 * len(cases)

    # The librarian reads each conflict in words, in both languages; every page answers 200.
    s = login(hub)
    for lang in ("zh_CN", "en"):
        html = "".join(
            s.get(f"{hub.url}/admin/hub/conflicts?lang={lang}&page={n}", timeout=10).text
            for n in (1, 2)
        )
        for kind in {k for _, k in cases}:
            assert escape(translate(KINDS[kind], lang)) in html, (lang, kind)
        problem = translate(PROBLEMS["not_stamp"], lang)
        assert f"data.due_at: {escape(problem)}" in html  # the garbage due date, in words
        assert CONTROL not in html  # control characters are shown as nothing
    said = run_cli("--config", str(hub.config), "hub", "conflicts").stdout
    assert "A kiosk named a hold it did not place: not applied" in said
    assert "(data.due_at: is not a UTC time like 2026-11-02T01:00:00.000Z)" in said
    for path in pages(hub, desk):
        r = s.get(hub.url + path, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text[-500:])

    # Kiosk A takes the hub's data; a student taps: the touchscreen and its stream answer 200.
    a = desk["kiosk"]
    a.worker.sync_once()
    (tmp_path / "screen").mkdir()
    settings, _ = fifo_settings(
        tmp_path / "screen", store={"path": str(tmp_path / "A" / "kiosk.db")}
    )
    daemon = Daemon(settings)
    with running(daemon):
        daemon.kiosk.scan("CARD-S001")
        url = f"http://127.0.0.1:{daemon.web.port}"
        assert requests.get(url + "/", timeout=10).status_code == 200
        with requests.get(url + "/events", timeout=10, stream=True) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_content(chunk_size=None)).startswith(b"retry: 1000")
    daemon.store.close()


def test_records_from_before_the_checks_show_as_they_are_and_no_page_fails(
    hub: Hub, kiosk_factory: Any, tmp_path: Path
) -> None:
    # What a forged class corner left in a hub's store before these checks: loans due "garbage",
    # a conflict whose detail is not JSON, an event whose data is not an object.
    conn = sqlite3.connect(hub.db_path, timeout=10)
    with conn:
        for n, (out, due) in enumerate([("2026-11-01T00:00:00.000Z", "garbage"), ("junk", "")]):
            conn.execute(
                "INSERT INTO loans (uuid, item_barcode, patron_id, checked_out_at, due_at) "
                "VALUES (?, ?, 'S001', ?, ?)",
                [f"old-{n}", BOOK[n], out, due],
            )
        conn.execute(
            "INSERT INTO events (uuid, type, at, kiosk_id, actor, data) "
            "VALUES ('old-event', 'corner_lent', 'zz', 'k9', 'A\tB', '[]')"
        )
        conn.execute(
            "INSERT INTO conflicts (kind, event_uuid, kiosk_id, at, detected_at, detail) "
            "VALUES ('malformed', 'old-event', 'k9', 'bad', 'bad', 'not json')"
        )
    conn.close()
    s = login(hub)
    for path in [*pages(hub, {"stocktake": "none"})[:-2], "/admin/hub/conflicts"]:
        r = s.get(hub.url + path, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text[-500:])
    assert "garbage" in s.get(f"{hub.url}/admin/patrons/S001", timeout=10).text  # shown as is
    # A kiosk takes those loans from the hub; the student taps: the screen still answers.
    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    assert a.store.query("SELECT due_at FROM loans ORDER BY item_barcode") == [
        {"due_at": "garbage"},
        {"due_at": ""},
    ]
    (tmp_path / "screen").mkdir()
    settings, _ = fifo_settings(
        tmp_path / "screen", store={"path": str(tmp_path / "A" / "kiosk.db")}
    )
    daemon = Daemon(settings)
    with running(daemon):
        daemon.kiosk.scan("CARD-S001")
        url = f"http://127.0.0.1:{daemon.web.port}"
        assert requests.get(url + "/", timeout=10).status_code == 200
        with requests.get(url + "/events", timeout=10, stream=True) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_content(chunk_size=None)).startswith(b"retry: 1000")
    daemon.store.close()


def test_every_collection_event_a_desk_makes_reaches_the_hub_unrefused(
    hub: Hub, kiosk_factory: Any
) -> None:
    from kiosk.circulation.collection import cards

    a = kiosk_factory(hub.url, hub.register("A"), kiosk_id="A")
    a.worker.sync_once()
    s, c = a.store, a.circulation
    today = dt.date.today()
    # Holds: collected, cancelled, expired (each made ready by the book's return at A).
    for book, borrower, waiting in ((BOOK[0], "S001", "S002"), (BOOK[5], "S001", "S003")):
        assert c.checkout(borrower, book).ok
        assert holds.place(s, book, waiting, "H001").ok
    assert c.checkin(BOOK[0]).ok
    ready = holds.on_return(s, BOOK[0], "H001", today + dt.timedelta(days=5))
    assert ready is not None and holds.close(s, ready["id"], "fulfilled", "H001").ok
    (cancel,) = holds.active(s.reader, BOOK[5])
    assert holds.close(s, cancel["id"], "cancelled", "H001").ok
    assert c.checkout("S002", BOOK[6]).ok and holds.place(s, BOOK[6], "S001", "H001").ok
    assert c.checkin(BOOK[6]).ok
    assert holds.on_return(s, BOOK[6], "H001", today) is not None
    assert holds.expire(s, today + dt.timedelta(days=2), "self-service").ok
    # Lost and damaged: repaired, compensated, found again.
    assert lost.mark(s, "damaged", BOOK[1], "librarian:admin").ok
    damaged = s.query("SELECT id FROM incidents WHERE kind = 'damaged'")[0]["id"]
    assert lost.repair(s, damaged, "started", "librarian:admin").ok
    assert lost.repair(s, damaged, "done", "librarian:admin").ok
    assert c.checkout("S003", BOOK[3]).ok
    assert lost.mark(s, "lost", BOOK[3], "librarian:admin", note="书包里找不到\n周一再找").ok
    lost_id = s.query("SELECT id FROM incidents WHERE kind = 'lost'")[0]["id"]
    assert lost.compensate(s, lost_id, "money", "20", "librarian:admin").ok
    assert lost.found(s, BOOK[3], "H001", "desk").ok
    # A stocktake counted, paused, resumed and finished; a class corner; a card replaced.
    assert stocktake.start(s, Scope(location="图书馆"), "H001").ok
    assert stocktake.scan(s, BOOK[2], "H001").outcome.ok
    for to in ("paused", "open", "finished"):
        assert stocktake.set_status(s, to, "H001").ok
    due = today + dt.timedelta(days=30)
    assert corners.lend(s, "三(2)班", "T001", [BOOK[4]], due, ZoneInfo("UTC"), "T001").ok
    assert cards.replace(s, "S002", "CARD-S002", "0f00beef02", "librarian:admin").ok
    made = {r["type"] for r in s.query("SELECT DISTINCT type FROM events")}
    assert made >= set(EVENT_TYPES) - {
        "item_withdrawn",
        "year_promoted",
        "leavers_closed",
        "holiday_loans_set",
    }  # every collection event type a kiosk's desk may send
    a.worker.sync_once()
    assert hub.query("SELECT kind, detail FROM conflicts") == []
    for table, key in (("holds", "id"), ("incidents", "id"), ("stocktakes", "id")):
        cols = {
            "holds": "id, status, kiosk_id",
            "incidents": "id, kind, compensation, resolved_as, repair_started_at IS NOT NULL",
            "stocktakes": "id, location, status, kiosk_id",
        }[table]
        sql = f"SELECT {cols} FROM {table} ORDER BY {key}"
        assert hub.query(sql) == s.query(sql), table
    assert hub.query(
        "SELECT code, patron_id, status FROM cards WHERE patron_id = 'S002' ORDER BY code"
    ) == [
        {"code": "0F00BEEF02", "patron_id": "S002", "status": "active"},
        {"code": "CARD-S002", "patron_id": "S002", "status": "lost"},
    ]
