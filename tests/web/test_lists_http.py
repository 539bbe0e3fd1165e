"""Long lists a page at a time, and exports in the reader's words, over real HTTP (waitress)."""

from __future__ import annotations

import csv
import http.client
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest

from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.stats import search
from kiosk.daemon.app import Daemon
from kiosk.web import admin, create_app
from kiosk.web import reports as report_pages
from kiosk.web.server import WebServer
from web.clients import Browser
from web.helpers import LOOPBACK, PASSWORD

# Six students of 四(1)班 and two of 六(1)班, each with a book; all overdue a month later.
FOUR = [(f"S4{n}", f"四班学生{n}", "四(1)班", f"97871000000{n}") for n in range(1, 7)]
SIX = [(f"S6{n}", f"六班学生{n}", "六(1)班", f"97872000000{n}") for n in range(1, 3)]


@pytest.fixture
def site(daemon: Daemon, web_settings, clock: FakeClock) -> Iterator[tuple[WebServer, Browser]]:
    """The dashboard on the daemon's store, served by waitress on loopback, logged in."""
    store = daemon.store
    with store.write() as db:
        for pid, name, cls, barcode in FOUR + SIX:
            row = {"id": pid, "name": name, "role": "student", "grade": 4, "class_name": cls}
            put_patron(db, row, [f"C{pid}"], store.now())
            put_item(db, {"barcode": barcode, "title": f"书{barcode[-2:]}"}, store.now())
    for pid, _, _, barcode in FOUR + SIX:
        assert daemon.circulation.checkout(pid, barcode).ok
    clock.advance(days=40)
    app = create_app(store=store, settings=web_settings, daemon=daemon, networks=LOOPBACK)
    app.extensions["kiosk"].passwords.set("librarian", PASSWORD)
    server = WebServer(app, "127.0.0.1:0", threads=4)
    server.start()
    browser = Browser(server.port)
    status, _ = browser.login("librarian", PASSWORD)
    assert status == 302
    assert browser.get("/admin/?lang=en")[0] == 200  # the pages in English from here on
    yield server, browser
    server.stop()


def page(browser: Browser, path: str) -> str:
    status, _, html, _ = browser.get(quote(path, safe="/?=&%"))
    assert status == 200, path
    return unescape(html)


def next_link(html: str) -> str:
    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert found, "no link to the next page"
    return found.group(1)


def test_the_overdue_report_pages_keep_the_class_and_print_every_row(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, browser = site
    monkeypatch.setattr(report_pages, "OVERDUE_PER_PAGE", 4)
    first = page(browser, "/admin/reports/overdue?class=四(1)班")
    shown = re.findall(r"四班学生\d", first)
    assert shown == ["四班学生1", "四班学生2", "四班学生3", "四班学生4"]
    assert "1–4 of 6" in first and "page 1 of 2" in first and "六班学生" not in first
    assert "6 books" in first  # the class's heading counts all its books, not this page's
    link = next_link(first)
    assert "class=" in link and "page=2" in link
    second = page(browser, "/admin/reports/overdue" + link)
    assert re.findall(r"四班学生\d", second) == ["四班学生5", "四班学生6"]
    assert "六班学生" not in second and 'rel="prev"' in second
    # The print view for the teachers has every overdue book of the class on its page.
    printed = page(browser, "/admin/reports/overdue/print?class=四(1)班")
    assert re.findall(r"四班学生\d", printed) == [f"四班学生{n}" for n in range(1, 7)]
    # The old address leads there, with its filter.
    status, headers, _, _ = browser.get("/admin/overdue?class=%E5%9B%9B(1)%E7%8F%AD")
    assert status == 301 and headers["Location"].startswith("/admin/reports/overdue?class=")


def test_the_event_log_pages_keep_the_filter(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, browser = site
    monkeypatch.setattr(admin, "EVENTS_PER_PAGE", 5)
    first = page(browser, "/admin/events?type=checkout")
    # Newest first: the eight checkouts, S62 last lent, five on the first page.
    rows = re.findall(r"<tr><td>(\d+)</td>", first)
    assert len(rows) == 5 and "page 1" in first
    link = next_link(first)
    assert "type=checkout" in link and "page=2" in link
    second = page(browser, "/admin/events" + link)
    more = re.findall(r"<tr><td>(\d+)</td>", second)
    assert len(more) == 3 and int(more[0]) < int(rows[-1])  # the next, older checkouts
    assert 'rel="next"' not in second and 'rel="prev"' in second
    # A page past the end, or nonsense, is an empty page or the first, never an error.
    assert "No events match." in page(browser, "/admin/events?type=checkout&page=" + "9" * 40)
    assert re.findall(r"<tr><td>(\d+)</td>", page(browser, "/admin/events?page=-2"))


def test_holds_and_surplus_are_paged(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch, daemon: Daemon
) -> None:
    from kiosk.circulation.collection import holds

    _, browser = site
    monkeypatch.setattr(search, "PER_PAGE", 3)
    # Each 六(1)班 student holds two of 四(1)班's books that are out: four holds.
    for pid, _, _, _ in SIX:
        for _, _, _, barcode in FOUR[:2]:
            assert holds.place(daemon.store, barcode, pid, "librarian:test").ok
    first = page(browser, "/admin/collection/holds")
    assert first.count("六班学生") == 3 and "1–3 of 4" in first
    second = page(browser, "/admin/collection/holds" + next_link(first))
    assert second.count("六班学生") == 1 and "4–4 of 4" in second


def test_surplus_notices_printed_and_recall_lists_are_paged(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch, daemon: Daemon
) -> None:
    from zoneinfo import ZoneInfo

    from kiosk.circulation.stats import overdue as chase

    _, browser = site
    store = daemon.store
    monkeypatch.setattr(search, "PER_PAGE", 3)
    # Four titles with two copies each and no loans: four surplus lines.
    with store.write() as db:
        for t in range(4):
            for c in range(2):
                row = {"barcode": f"SUR{t}{c}", "title": f"多余{t}", "isbn": f"97873000000{t}"}
                put_item(db, row, store.now())
    first = page(browser, "/admin/collection/surplus")
    assert first.count("多余") == 3 and "1–3 of 4" in first
    assert page(browser, "/admin/collection/surplus" + next_link(first)).count("多余") == 1
    # A notice printed for each of the eight students: the overdue page shows the latest, the
    # list of notices has them all, a page at a time.
    monkeypatch.setattr(report_pages, "LATEST_NOTICES", 2)
    loans = chase.overdue_loans(store, ZoneInfo("Asia/Shanghai"))
    assert chase.record_printed(store, chase.by_student(loans), "librarian:li") == 8
    overdue = page(browser, "/admin/reports/overdue")
    assert "All 8 notices printed" in overdue
    notices = page(browser, "/admin/reports/notices/printed")
    assert len(re.findall(r"(?:四|六)班学生\d", notices)) == 3 and "1–3 of 8" in notices
    last = page(browser, "/admin/reports/notices/printed?page=3")
    assert len(re.findall(r"(?:四|六)班学生\d", last)) == 2 and "7–8 of 8" in last
    # The term-end recall list: every open loan, three a page.
    year = page(browser, "/admin/collection/year")
    recall = year.split('id="term-recall"')[1].split("</section>")[0]
    assert len(re.findall(r"(?:四|六)班学生\d", recall)) == 3 and "1–3 of 8" in recall
    year3 = page(browser, "/admin/collection/year?page=3")
    recall3 = year3.split('id="term-recall"')[1].split("</section>")[0]
    assert len(re.findall(r"(?:四|六)班学生\d", recall3)) == 2


def test_the_new_books_report_pages_keep_the_period(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, browser = site
    monkeypatch.setattr(report_pages, "NEW_BOOKS_PER_PAGE", 5)
    # The small school's five titles and the fixture's six (书01 and 书02 twice), in November.
    first = page(browser, "/admin/reports/new-books?period=month&month=2026-11")
    assert "11 titles" in first and "1–5 of 11" in first
    link = next_link(first)
    assert "month=2026-11" in link and "page=2" in link
    second = page(browser, "/admin/reports/new-books" + link)
    assert "6–10 of 11" in second and "11 titles" in second
    titles = set(re.findall(r"<tr><td>([^<]+)</td>", first))
    assert titles and not titles & set(re.findall(r"<tr><td>([^<]+)</td>", second))


def test_a_books_loans_are_paged(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch, daemon: Daemon
) -> None:
    from kiosk.web.admin import records as admin_records

    _, browser = site
    monkeypatch.setattr(admin_records, "ITEM_LOANS_PER_PAGE", 2)
    book = "9787020024759"
    for patron in ("S001", "S002", "S003"):  # lent and returned three times
        assert daemon.circulation.checkout(patron, book).ok
        assert daemon.circulation.checkin(book).ok
    first = page(browser, f"/admin/items/{book}")
    loans = first.split('id="item-loans"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]+)</td>", loans) == ["Tom Green", "李雨涵"]
    second = page(browser, f"/admin/items/{book}" + next_link(first))
    loans = second.split('id="item-loans"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]+)</td>", loans) == ["王小明"]


def test_a_class_corners_recall_list_is_paged_and_prints_whole(
    site: tuple[WebServer, Browser], monkeypatch: pytest.MonkeyPatch, daemon: Daemon
) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.circulation.collection import corners

    _, browser = site
    box = ["9787020002207", "9787535449450", "9787544270878", "9787530215982"]
    tz = ZoneInfo("Asia/Shanghai")
    done = corners.lend(daemon.store, "三(2)班", "T001", box, dt.date(2027, 1, 15), tz, "li")
    assert done.ok
    monkeypatch.setattr(search, "PER_PAGE", 3)

    def recall(html: str) -> list[str]:
        table = html.split('id="recall"')[1].split("</table>")[0]
        return [b for b in re.findall(r"<td>(\d{13})</td>", table)]

    first = page(browser, "/admin/collection/corners?class=三(2)班")
    assert len(recall(first)) == 3
    link = next_link(first)
    assert "class=" in link and "page=2" in link
    second = page(browser, "/admin/collection/corners" + link)
    assert len(recall(second)) == 1 and set(recall(first) + recall(second)) == set(box)
    printed = page(browser, "/admin/collection/corners?class=三(2)班&print=1")
    assert sorted(recall(printed)) == sorted(box) and 'rel="next"' not in printed


def get_bytes(server: WebServer, browser: Browser, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    conn.request("GET", path, headers={"Cookie": cookie})
    resp = conn.getresponse()
    assert resp.status == 200, path
    return resp.read()


def test_exports_show_roles_and_statuses_in_the_readers_language(
    site: tuple[WebServer, Browser],
) -> None:
    server, browser = site
    for lang, student, on_loan, checkout in (
        ("zh_CN", "学生", "借出中", "借书"),
        ("en", "student", "on loan", "checkout"),
    ):
        patrons = get_bytes(server, browser, f"/admin/export/patrons.csv?lang={lang}")
        got = list(csv.reader(io.StringIO(patrons.decode("utf-8-sig"))))
        assert [r[5] for r in got[1:] if r[0] == "S41"] == [student], lang
        items = get_bytes(server, browser, f"/admin/export/items.xlsx?lang={lang}")
        sheet = openpyxl.load_workbook(io.BytesIO(items)).active
        values = list(sheet.iter_rows(values_only=True))
        assert [r[6] for r in values[1:] if r[0] == FOUR[0][3]] == [on_loan], lang
        events = get_bytes(server, browser, f"/admin/export/events.csv?lang={lang}")
        lines = list(csv.reader(io.StringIO(events.decode("utf-8-sig"))))
        assert checkout in {r[2] for r in lines[1:]}, lang
    zh = get_bytes(server, browser, "/admin/export/items.csv?lang=zh_CN").decode("utf-8-sig")
    assert "on_loan" not in zh and zh.startswith("条码号,题名")


def test_kiosk_export_writes_chinese_by_default_english_or_codes(
    daemon: Daemon, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "{daemon.settings.store.path}"\n[scanner]\nsource = "none:"\n'
    )
    assert daemon.circulation.checkout("S001", "9787020002207").ok

    def export(*args: str) -> list[list[str]]:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "--config", str(config), "export", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return list(csv.reader(io.StringIO(done.stdout)))

    zh = export("items")
    assert zh[0][:2] == ["条码号", "题名"]
    assert [r[6] for r in zh if r[0] == "9787020002207"] == ["借出中"]
    en = export("items", "--lang", "en")
    assert en[0][:2] == ["barcode", "title"]
    assert [r[6] for r in en if r[0] == "9787020002207"] == ["on loan"]
    codes = export("patrons", "--codes")
    assert codes[0][5:] == ["role", "status"]
    assert [r[5:] for r in codes if r[0] == "S001"] == [["student", "active"]]
    assert "学生" in {r[5] for r in export("patrons")}


def rows_of(html: str) -> list[str]:
    """Return the barcodes of a collection list's rows, top to bottom."""
    return re.findall(r'<tr data-barcode="(\d+)">', html.split('id="list"')[1].split("</table>")[0])


def row_of(html: str, barcode: str) -> str:
    return html.split(f'<tr data-barcode="{barcode}">')[1].split("</tr>")[0]


def hidden(form_html: str) -> dict[str, str]:
    """Return a form's hidden fields as the browser sends them."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_html))


def test_recording_or_repairing_on_a_lists_second_page_comes_back_to_that_page(
    site: tuple[WebServer, Browser],
    monkeypatch: pytest.MonkeyPatch,
    daemon: Daemon,
    clock: FakeClock,
) -> None:
    from kiosk.circulation.collection import lost
    from kiosk.web import collection as collection_pages

    _, browser = site
    books = [barcode for *_, barcode in FOUR + SIX]
    for n, barcode in enumerate(books):  # four lost, four damaged, a minute apart
        clock.advance(60)
        assert lost.mark(daemon.store, "lost" if n < 4 else "damaged", barcode, "librarian:a").ok
    monkeypatch.setattr(collection_pages, "PAGE", 2)

    # Lost: a compensation recorded on page 2 of 2 comes back to page 2, the row paid.
    second = page(browser, "/admin/collection/list/lost?page=2")
    assert "page 2 of 2" in second
    shown = rows_of(second)
    assert len(shown) == 2
    barcode = shown[1]
    incident = re.search(r"/incident/([^/]+)/compensate", row_of(second, barcode))
    assert incident
    compensate = row_of(second, barcode).split("</form>")[0]
    form = {**hidden(compensate), "kind": "money", "amount": "25"}
    status, headers, _, _ = browser.request(
        "POST", f"/admin/collection/incident/{incident.group(1)}/compensate", form=form
    )
    assert status == 302
    back = headers["Location"]
    assert back.endswith("/admin/collection/list/lost?page=2")
    again = page(browser, back)
    assert "page 2 of 2" in again and rows_of(again) == shown
    assert '<p class="flash message" role="status">Compensation recorded.</p>' in again
    assert "paid 25" in row_of(again, barcode) and "compensate" not in row_of(again, barcode)
    kept = daemon.store.query(
        "SELECT compensation, amount FROM incidents WHERE id = ?", [incident.group(1)]
    )
    assert kept == [{"compensation": "money", "amount": "25"}]

    # Damaged: sent to repair from page 2, back on page 2 with the line saying so; the book
    # leaves the repair queue for the list of books in repair.
    second = page(browser, "/admin/collection/list/damaged?page=2")
    shown = rows_of(second)
    assert "page 2 of 2" in second and len(shown) == 2
    sent = re.search(r"/incident/([^/]+)/repair", row_of(second, shown[0]))
    assert sent
    form = hidden(row_of(second, shown[0]))
    assert form["step"] == "started" and form["page"] == "2"
    status, headers, _, _ = browser.request(
        "POST", f"/admin/collection/incident/{sent.group(1)}/repair", form=form
    )
    assert status == 302 and headers["Location"].endswith("/admin/collection/list/damaged?page=2")
    # Three left: page 2 of 2 still, the book sent away no longer in the queue.
    again = page(browser, headers["Location"])
    assert "page 2 of 2" in again and shown[0] not in rows_of(again)
    assert '<p class="flash message" role="status">Sent to repair.</p>' in again
    assert shown[0] in rows_of(page(browser, "/admin/collection/list/in_repair"))

    # A page number that is no number goes back to the list's first page, not elsewhere.
    form = {**form, "page": "2x", "step": "done"}
    status, headers, _, _ = browser.request(
        "POST", f"/admin/collection/incident/{sent.group(1)}/repair", form=form
    )
    assert status == 302 and headers["Location"].endswith("/admin/collection/list/damaged")
