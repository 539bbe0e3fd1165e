"""The librarian's recommended reading lists on the dashboard: make a grade's list, add titles by
a copy's barcode, an ISBN or a title search, see copies and books on the shelf, download Excel;
bad input gets a clear message and changes nothing."""

from __future__ import annotations

import io
import re

import openpyxl
from flask.testing import FlaskClient

from kiosk.circulation.records import put_item
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token


def make_list(client: FlaskClient, **form: str) -> str:
    data = {"name": "三年级推荐书目", "grade": "3", "term": "2026-2027-1", "target": "4"} | form
    r = client.post(
        "/admin/reading/", data={"csrf_token": token(client, "/admin/reading/"), **data}
    )
    assert r.status_code == 302
    found = re.search(r"/admin/reading/([0-9a-f]+)$", r.headers["Location"])
    assert found, r.headers["Location"]
    return found.group(1)


def add(client: FlaskClient, list_id: str, code: str) -> str:
    page = f"/admin/reading/{list_id}"
    r = client.post(
        page + "/add", data={"csrf_token": token(client, page), "code": code}, follow_redirects=True
    )
    return text(r)


def events(daemon: Daemon) -> list[str]:
    rows = daemon.store.query(
        "SELECT type FROM events WHERE type LIKE 'reading_list%' ORDER BY seq"
    )
    return [r["type"] for r in rows]


def test_a_grade_list_by_barcode_isbn_and_search_with_copies_on_the_shelf(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    store = daemon.store
    with store.write() as db:  # a second copy of 小王子, and an edition known by its ISBN
        put_item(
            db, {"barcode": "B0002", "title": "小王子", "call_number": "I565.88/2"}, store.now()
        )
        put_item(
            db,
            {
                "barcode": "B0100",
                "title": "昆虫记",
                "isbn": "9787020090006",
                "call_number": "Q96/1",
            },
            store.now(),
        )
    assert Circulation(store).checkout("S003", "9787535449450").ok  # one 小王子 is out
    list_id = make_list(client)
    assert "小王子" in add(client, list_id, "9787535449450")  # a copy's barcode
    assert "昆虫记" in add(client, list_id, "978-7-02-009000-6")  # an ISBN, written with hyphens
    found = text(client.get(f"/admin/reading/{list_id}?q=西游"))  # search, then add the match
    barcode = re.search(r'name="code" value="([^"]+)"', found.split('id="matches"')[1])
    assert barcode and barcode.group(1) == "9787020024759"
    page = add(client, list_id, barcode.group(1))
    rows = {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(
            r"<tr><td>([^<]+) <small>[^<]*</small></td><td>[^<]*</td><td>[^<]*</td>"
            r'<td class="num">(\d+)</td><td class="num">(\d+)</td>',
            page.split('id="titles"')[1].split("</table>")[0],
        )
    }
    assert rows == {"小王子": (2, 1), "昆虫记": (1, 1), "西游记": (1, 1)}
    assert events(daemon) == ["reading_list_saved", *["reading_list_title_added"] * 3]

    # The list changed: an ad-hoc list now, with another target.
    r = client.post(
        f"/admin/reading/{list_id}",
        data={
            "csrf_token": token(client, f"/admin/reading/{list_id}"),
            "name": "读书节书目",
            "grade": "",
            "term": "2026-2027-1",
            "target": "2",
        },
        follow_redirects=True,
    )
    assert "书目已保存" in text(r) and "读书节书目" in text(r)
    assert daemon.store.query("SELECT grade, target FROM reading_lists") == [
        {"grade": None, "target": 2}
    ]
    client.post(
        f"/admin/reading/{list_id}",
        data={
            "csrf_token": token(client, f"/admin/reading/{list_id}"),
            "name": "三年级推荐书目",
            "grade": "3",
            "term": "2026-2027-1",
            "target": "4",
        },
    )
    # The index lists it with its grade, term, target and number of titles.
    index = text(client.get("/admin/reading/"))
    assert "三年级推荐书目" in index and "3年级" in index and "2026-2027-1" in index
    # Excel: the same titles, copies and books on the shelf, headers in the reader's language.
    r = client.get(f"/admin/reading/{list_id}.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["书名", "作者", "ISBN", "索书号", "复本数", "在架册数"]
    assert [(v[0], v[4], v[5]) for v in values[1:]] == [
        ("小王子", 2, 1),
        ("昆虫记", 1, 1),
        ("西游记", 1, 1),
    ]
    # Taken off: gone from the list, an event in the log.
    page_url = f"/admin/reading/{list_id}"
    r = client.post(
        page_url + "/remove",
        data={"csrf_token": token(client, page_url), "key": "9787020090006"},
        follow_redirects=True,
    )
    assert "已从书目中移出" in text(r)
    assert "昆虫记" not in text(r).split('id="titles"')[1].split("</table>")[0]
    assert events(daemon)[-1] == "reading_list_title_removed"


def test_bad_input_says_why_and_changes_nothing(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    list_id = make_list(client)
    before = events(daemon)
    assert "馆藏里没有条码、ISBN 或书名为 9999 的图书" in add(client, list_id, "9999")
    add(client, list_id, "红楼梦")  # an exact title
    assert "《红楼梦》已经在这个书目里了" in add(client, list_id, "9787020002207")
    assert events(daemon) == [*before, "reading_list_title_added"]
    t = token(client, "/admin/reading/")
    for form, message in [
        ({"name": " ", "grade": "3"}, "请给书目起个名字"),
        ({"name": "x", "grade": "9"}, "本校没有 9 年级"),
        ({"name": "x", "target": "many"}, "目标是 0 到 500 之间的本数"),
    ]:
        r = client.post("/admin/reading/", data={"csrf_token": t, **form}, follow_redirects=True)
        assert message in text(r)
    assert events(daemon) == [*before, "reading_list_title_added"]
    assert client.get("/admin/reading/nosuchlist").status_code == 404
