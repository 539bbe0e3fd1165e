"""The collection's pages through the Flask client: login needed, forms to commands, lists, CSV."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient

from kiosk.circulation.collection import stocktake
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token

RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"


def post(client: FlaskClient, path: str, **data: str) -> str:
    r = client.post(
        path,
        data={"csrf_token": token(client, "/admin/collection/"), **data},
        follow_redirects=True,
    )
    assert r.status_code == 200, text(r)
    return text(r)


def test_the_pages_need_the_librarians_login(client: FlaskClient) -> None:
    set_up_and_login(client)
    client.post("/admin/logout", data={"csrf_token": token(client, "/admin/")})
    for path in ("/admin/collection/", "/admin/collection/list/lost", "/admin/collection/year"):
        assert client.get(path).status_code == 302


def test_stocktake_lost_compensation_withdrawal_and_card_from_the_pages(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    client.get("/admin/collection/?lang=en")  # the language cookie: English from here on
    assert daemon.circulation.checkout("S003", WEB).ok
    page = post(client, "/admin/collection/stocktake/start", location="")
    assert "Say what to count: a location, or a call-number range." in page
    page = post(client, "/admin/collection/stocktake/start", location="library")
    assert "Stocktake running: scan the books on the shelves at the kiosk." in page
    for code in (RED, WEB, "STRAY-1"):
        daemon.kiosk.scan(code)
    st = stocktake.latest(daemon.store.reader)
    assert st is not None
    report = text(client.get(f"/admin/collection/stocktake/{st['id']}?lang=en"))
    assert 'data-status="missing">missing 3<' in report
    assert 'data-status="on_loan_found">on loan but found 1<' in report
    rows = list(
        csv.DictReader(
            io.StringIO(
                text(client.get(f"/admin/collection/stocktake/{st['id']}?format=csv")).lstrip(
                    "\ufeff"
                )
            )
        )
    )
    # Column titles and statuses in the reader's language (English here), as the page shows them.
    assert {r["Barcode"]: r["Status"] for r in rows}[WEB] == "on loan but found"
    page = post(client, f"/admin/collection/stocktake/{st['id']}/return", barcode=WEB)
    assert "Returned: Charlotte&#39;s Web." in page
    assert daemon.circulation.open_loan(WEB) is None
    confirm = text(client.get(f"/admin/collection/stocktake/{st['id']}/mark-lost"))
    assert confirm.count("<tr>") == 3
    page = post(client, f"/admin/collection/stocktake/{st['id']}/mark-lost")
    assert "Books marked lost: 3." in page
    page = post(client, "/admin/collection/item/withdraw", barcode=RED, reason="worn")
    assert f"Withdrawn: {RED}." in page
    withdrawn = text(client.get("/admin/collection/list/withdrawn?format=csv"))
    assert withdrawn.splitlines()[1].startswith(f"{RED},红楼梦,")
    lost_id = daemon.store.value("SELECT id FROM incidents WHERE item_barcode = ?", [PRINCE])
    page = post(
        client,
        f"/admin/collection/incident/{lost_id}/compensate",
        kind="waived",
        amount="",
        next="/admin/collection/list/lost",
    )
    assert "Compensation recorded." in page
    page = post(client, "/admin/collection/item/found", barcode=PRINCE)
    assert f"Restored: {PRINCE} is back on the shelf." in page
    assert daemon.circulation.checkout("S002", PRINCE).ok
    page = post(client, "/admin/collection/item/mark", kind="lost", barcode=PRINCE, note="")
    assert f"Marked lost: {PRINCE}." in page
    # The student's record says so: 李雨涵 had 小王子 out when it was marked lost.
    patron = text(client.get("/admin/patrons/S002"))
    assert '<section class="card" id="incidents">' in patron and "小王子" in patron
    page = post(
        client,
        "/admin/collection/card/replace",
        patron_id="S001",
        old="0F00A1B2C3",
        new="0F00A1B2C9",
    )
    assert "Card replaced: the old card is refused from now on." in page
    assert daemon.kiosk.scan("0F00A1B2C3").reason == "card_lost"
    year = text(client.get("/admin/collection/year"))
    assert "三(2)班 → 四(2)班" in year
    assert daemon.circulation.checkout("S002", WEB).ok
    recall = text(client.get("/admin/collection/year?format=csv")).lstrip("\ufeff").splitlines()
    # Times in the school's time zone, as `kiosk export` writes them: due at the end of a day.
    assert recall == [
        "Class,Patron id,Student,Barcode,Title,Due",
        f"一(1)班,S002,李雨涵,{WEB},Charlotte's Web,2026-11-16 23:59:59",
    ]


def test_a_helpers_card_opens_the_stocktake_and_holds_at_the_desk(
    client: FlaskClient, daemon: Daemon
) -> None:
    assert client.get("/desk/collection/").status_code == 403  # nobody runs the desk
    assert daemon.kiosk.scan("0F00AAAA01").reason == "desk_opened"  # 张晨, a helper
    page = text(client.get("/desk/collection/?lang=en"))
    assert "Run by 晨" in page and '<option value="library">Library</option>' in page
    t = token(client, "/desk/collection/")
    r = client.post(
        "/desk/collection/stocktake",
        data={"csrf_token": t, "action": "start", "location": "library"},
        follow_redirects=True,
    )
    assert "Stocktake running: scan the books on the shelves at the kiosk." in text(r)
    assert daemon.kiosk.scan(RED).reason == "stocktake_found"
    st = stocktake.running(daemon.store.reader)
    assert st is not None and st["started_by"] == "H001"
    r = client.post(
        "/desk/collection/stocktake",
        data={"csrf_token": t, "action": "paused"},
        follow_redirects=True,
    )
    assert "Stocktake paused: the kiosk lends and returns again." in text(r)
    assert daemon.circulation.checkout("S003", WEB).ok
    r = client.post(
        "/desk/collection/hold",
        data={"csrf_token": t, "barcode": WEB, "patron_id": "S001"},
        follow_redirects=True,
    )
    assert "Hold placed." in text(r)
    r = client.post(
        "/desk/collection/damaged",
        data={"csrf_token": t, "barcode": PRINCE, "note": "wet"},
        follow_redirects=True,
    )
    assert f"Marked damaged: {PRINCE}; it is in the repair queue." in text(r)
    actors = daemon.store.query(
        "SELECT type, actor FROM events WHERE type IN ('hold_placed', 'item_damaged')"
    )
    assert actors == [
        {"type": "hold_placed", "actor": "H001"},
        {"type": "item_damaged", "actor": "H001"},
    ]


def test_a_box_for_a_class_corner_from_the_dashboard_keeps_the_form_when_refused(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    client.get("/admin/collection/corners?lang=en")
    t = token(client, "/admin/collection/corners")
    form = {
        "csrf_token": t,
        "class_name": "三(2)班",
        "responsible": "T001",
        "due": "2027-01-15",
        "barcodes": f"{RED}\n{PRINCE}\nNOPE\n",
    }
    r = client.post("/admin/collection/corners", data=form)
    page = text(r)
    assert "These books cannot be lent now: NOPE." in page
    assert f"{RED}\n{PRINCE}\nNOPE" in page  # the typed barcodes are still there
    form["barcodes"] = f"{RED}\n{PRINCE}\n"
    r = client.post("/admin/collection/corners", data=form, follow_redirects=True)
    assert "Lent to 三(2)班, due 2027-01-15; books: 2." in text(r)
    recall = text(client.get("/admin/collection/corners?class=三(2)班&format=csv"))
    assert [line.split(",")[1] for line in recall.splitlines()[1:]] == [RED, PRINCE]


def test_a_corners_due_date_that_is_no_day_or_too_far_ahead_is_said_and_nothing_lent(
    client: FlaskClient, daemon: Daemon
) -> None:
    import datetime as dt

    set_up_and_login(client)
    client.get("/admin/collection/corners?lang=en")
    form = {
        "csrf_token": token(client, "/admin/collection/corners"),
        "class_name": "三(2)班",
        "responsible": "T001",
        "due": "99999-01-01",
        "barcodes": f"{RED}\n{PRINCE}\n",
    }
    r = client.post("/admin/collection/corners", data=form)
    assert r.status_code == 400
    page = text(r)
    assert "The due date is not a date: write it as year-month-day, like 2026-06-30." in page
    assert "after today" not in page and f"{RED}\n{PRINCE}" in page  # the box as typed
    today = dt.date.today()
    form["due"] = today.replace(year=today.year + 3, day=min(today.day, 28)).isoformat()
    page = text(client.post("/admin/collection/corners", data=form))
    assert "The due date is more than two years ahead: choose " in page
    assert daemon.store.value("SELECT count(*) FROM loans") == 0
    assert daemon.store.value("SELECT count(*) FROM events WHERE type = 'corner_lent'") == 0


def test_a_class_corners_box_with_a_drifting_book_is_refused(
    client: FlaskClient, daemon: Daemon
) -> None:
    assert daemon.circulation.set_drifting(WEB, True, "librarian:librarian").ok
    set_up_and_login(client)
    t = token(client, "/admin/collection/corners")
    form = {
        "csrf_token": t,
        "class_name": "三(2)班",
        "responsible": "T001",
        "due": "2027-01-15",
        "barcodes": f"{RED}\n{WEB}\n",
    }
    r = client.post("/admin/collection/corners", data=form)
    page = text(r)
    assert f"这些是漂流书，在同学之间传阅，不放进班级图书角：{WEB}。" in page
    assert f"{RED}\n{WEB}" in page  # the form keeps the box
    assert daemon.store.value("SELECT count(*) FROM loans") == 0
    assert daemon.store.value("SELECT count(*) FROM events WHERE type = 'corner_lent'") == 0


def test_holiday_loans_per_grade_from_the_year_page(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    client.get("/admin/collection/year?lang=en")
    t = token(client, "/admin/collection/year")
    r = client.post(
        "/admin/collection/holidays",
        data={"csrf_token": t, "on_3": "1", "due_3": "2027-03-01", "due_4": "2027-03-01"},
        follow_redirects=True,
    )
    page = text(r)
    assert "Holiday loans saved." in page
    assert 'name="on_3" value="1" checked' in page and 'name="on_4" value="1">' in page
    r = client.post(
        "/admin/collection/holidays",
        data={"csrf_token": t, "on_3": "1", "due_3": "1 March"},
        follow_redirects=True,
    )
    assert "Write the holiday due date as a date, like 2027-03-01." in text(r)
    assert daemon.store.query("SELECT * FROM holiday_loans") == [
        {"grade": 3, "due_on": "2027-03-01"}
    ]


def test_a_long_list_has_pages(client: FlaskClient, daemon: Daemon) -> None:
    from kiosk.circulation.collection import weeding
    from kiosk.circulation.records import put_item

    store = daemon.store
    with store.write() as db:
        for n in range(250):
            put_item(db, {"barcode": f"OLD{n:03d}", "title": f"旧书{n}"}, store.now())
    for n in range(250):
        assert weeding.withdraw(store, f"OLD{n:03d}", "worn", "librarian:admin").ok
    set_up_and_login(client)
    first = text(client.get("/admin/collection/list/withdrawn?lang=en"))
    assert first.count("<tr data-barcode=") == 200 and "page 1 of 2" in first
    second = text(client.get("/admin/collection/list/withdrawn?page=2"))
    assert second.count("<tr data-barcode=") == 50
    assert len(text(client.get("/admin/collection/list/withdrawn?format=csv")).splitlines()) == 251
    # The asset register as a real spreadsheet: its sheet read back with the standard library.
    sheet = xlsx_rows(client.get("/admin/collection/list/withdrawn?format=xlsx").data)
    assert len(sheet) == 251
    assert sheet[0][:6] == ["Barcode", "Title", "Author", "ISBN", "Call number", "Reason"]
    assert sheet[1][5] == "worn"  # the stored reason in the reader's words
    assert {row[0] for row in sheet[1:]} == {f"OLD{n:03d}" for n in range(250)}
    assert sheet[1][1].startswith("旧书")


def xlsx_rows(data: bytes) -> list[list[str]]:
    """Return the first sheet of an XLSX file as rows of cell texts (shared strings resolved)."""
    import io
    import zipfile
    from xml.etree import ElementTree

    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['x']}}}t"))
            for si in ElementTree.fromstring(z.read("xl/sharedStrings.xml")).findall("x:si", ns)
        ]
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{ns['x']}}}row"):
        cells = []
        for c in row.findall("x:c", ns):
            v = c.find("x:v", ns)
            text = "" if v is None else v.text or ""
            cells.append(strings[int(text)] if c.get("t") == "s" else text)
        rows.append(cells)
    return rows
