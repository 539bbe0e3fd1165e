"""Donated books on the dashboard: a donation by a child (by name or card), a class, a parent or
an organisation, of copies already catalogued and new books catalogued on the spot; each copy
shows its donor on its page and in the catalogue's search; bad input says why, keeps the form
and records nothing; the donations list pages; a librarian lets a book drift and brings it back.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, text, token

PAGE = "/admin/donations/"


def donate(client: FlaskClient, **form: Any) -> Any:
    data = {"kind": "child", "day": "2026-11-02", "barcodes": "", **form}
    return client.post(PAGE, data={"csrf_token": token(client, PAGE), **data})


def events(daemon: Daemon) -> list[str]:
    rows = daemon.store.query(
        "SELECT type FROM events WHERE type IN ('donation_recorded', 'item_catalogued') "
        "ORDER BY seq"
    )
    return [r["type"] for r in rows]


def test_a_child_gives_two_catalogued_books_and_a_new_one(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    r = donate(
        client,
        child="0F00A1B2C3",  # 王小明's card, scanned into the name field
        barcodes="9787020002207\n9787535449450",
        new_barcode=["D0001", ""],
        new_title=["夏洛的网", ""],
        new_isbn=["9787532731077", ""],
        new_author=["E. B. 怀特", ""],
    )
    assert r.status_code == 302
    page = text(client.get(PAGE))
    assert "已记录捐赠：王小明 捐赠图书 3 本。" in page
    row = page.split('id="donations"')[1].split("</table>")[0]
    assert "王小明" in row and "三(2)班" in row and '<td class="num">3</td>' in row
    assert events(daemon) == ["item_catalogued", "donation_recorded"]
    donors = daemon.store.query(
        "SELECT barcode, donor FROM items WHERE donor != '' ORDER BY barcode"
    )
    assert donors == [
        {"barcode": "9787020002207", "donor": "王小明"},
        {"barcode": "9787535449450", "donor": "王小明"},
        {"barcode": "D0001", "donor": "王小明"},
    ]
    # The book's page and the catalogue's search say who gave it, in both languages.
    assert "捐赠：王小明" in text(client.get("/admin/items/D0001"))
    assert "Donated by 王小明" in text(client.get("/admin/items/D0001?lang=en"))
    found = text(client.get("/admin/items?q=夏洛&lang=zh_CN"))
    assert "夏洛的网" in found and "捐赠：王小明" in found
    assert "D0001" in text(client.get("/admin/items?q=王小明"))  # the donor's name finds it
    # Its certificate, with no school name in the config: 我校, "our school".
    certificate = text(client.get("/admin/donations/certificates?size=A5"))
    assert "王小明向我校图书馆捐赠图书 3 本：" in certificate
    assert "王小明 gave 3 books to the library of our school:" in certificate
    assert certificate.count('<section class="page certificate">') == 1
    assert "certificate_a5.css" in certificate
    # A class, a parent and an organisation give too.
    assert (
        donate(client, kind="class", class_name="五(1)班", barcodes="9787530215982").status_code
        == 302
    )
    assert donate(client, kind="parent", name="王爸爸", barcodes="9787020024759").status_code == 302
    assert (
        donate(
            client,
            kind="organisation",
            name="新华书店",
            new_barcode=["D0002"],
            new_title=["城南旧事"],
            new_isbn=[""],
            new_author=["林海音"],
        ).status_code
        == 302
    )
    kinds = daemon.store.query("SELECT donor_kind, donor_name, class_name FROM donations")
    assert sorted((k["donor_kind"], k["donor_name"], k["class_name"]) for k in kinds) == [
        ("child", "王小明", "三(2)班"),
        ("class", "五(1)班", "五(1)班"),
        ("organisation", "新华书店", ""),
        ("parent", "王爸爸", ""),
    ]


def test_bad_input_says_why_keeps_the_form_and_records_nothing(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    assert donate(client, child="S002", barcodes="9787020002207").status_code == 302
    before = events(daemon), daemon.store.query("SELECT barcode, donor FROM items ORDER BY 1")
    cases = [
        ({"child": "nobody", "barcodes": "9787535449450"}, "请从名单中选出这个孩子"),
        (
            {"kind": "class", "class_name": "九(9)班", "barcodes": "9787535449450"},
            "请从本校班级列表中选择班级",
        ),
        ({"kind": "parent", "name": " ", "barcodes": "9787535449450"}, "请填写捐赠人的姓名"),
        (
            {"child": "S001", "day": "2026-13-01", "barcodes": "9787535449450"},
            "2026-13-01 不是日期",
        ),
        ({"child": "S001", "day": "2027-01-01", "barcodes": "9787535449450"}, "还没到"),
        ({"child": "S001"}, "请至少扫描一本书"),
        ({"child": "S001", "barcodes": "NOPE"}, "馆藏里没有条码为 NOPE 的图书"),
        ({"child": "S001", "barcodes": "9787535449450 9787535449450"}, "出现了两次"),
        ({"child": "S001", "barcodes": "9787020002207"}, "已记录为 李雨涵 捐赠"),
        (
            {
                "child": "S001",
                "barcodes": "9787535449450",
                "new_barcode": ["9787530215982"],
                "new_title": ["新书"],
            },
            "条码 9787530215982 已经贴在《",
        ),
        (
            {"child": "S001", "new_barcode": ["D0009"], "new_title": [""], "new_isbn": ["97875"]},
            "请输入书名",
        ),
    ]
    for form, message in cases:
        r = donate(client, **form)
        assert r.status_code == 400, form
        page = text(r)
        assert message in page, (message, form)
        # The form keeps what was typed (a class not of the school is not one of the choices).
        kept = [
            v for k, v in form.items() if isinstance(v, str) and v.strip() and k != "class_name"
        ]
        for value in kept:
            assert value in page, (value, "kept in the form")
    assert (
        events(daemon),
        daemon.store.query("SELECT barcode, donor FROM items ORDER BY 1"),
    ) == before


def test_the_donations_list_pages(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    for n in range(32):
        r = donate(
            client,
            kind="organisation",
            name=f"书店{n:02d}",
            new_barcode=[f"N{n:03d}"],
            new_title=[f"书{n}"],
        )
        assert r.status_code == 302
    first = text(client.get(PAGE))
    assert "第 1 / 2 页" in first and first.split('id="donations"')[1].count("书店") == 30
    second = text(client.get(PAGE + "?page=2"))
    assert second.split('id="donations"')[1].count("书店") == 2


def test_a_librarian_lets_a_book_drift_and_brings_it_back(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    book = "/admin/items/9787535449450"

    def drift(on: str) -> str:
        r = client.post(
            "/admin/donations/drifting",
            data={
                "csrf_token": token(client, book),
                "barcode": "9787535449450",
                "drifting": on,
                "next": book,
            },
            follow_redirects=True,
        )
        return text(r)

    page = drift("1")
    assert "这本书开始漂流了" in page and "书架：漂流中" in page
    assert "漂流中" in text(client.get("/admin/items?q=小王子"))
    c = Circulation(daemon.store)
    assert c.checkout("S001", "9787535449450").ok  # taken, not lent
    assert c.loans_of("S001") == []
    page = text(client.get(book))
    assert re.search(r"现在在 王小明（三\(2\)班）手中", page) and "已经过 1 人之手" in page
    assert "有孩子正拿着这本漂流书" in drift("0")  # not while a child has it
    assert c.checkin("9787535449450").ok
    page = drift("0")
    assert "这本书回到了书架上" in page and "书架：漂流中" not in page
    assert daemon.store.query("SELECT drifting FROM items WHERE barcode = '9787535449450'") == [
        {"drifting": 0}
    ]
    # A book on loan does not start drifting.
    assert c.checkout("S001", "9787020002207").ok
    r = client.post(
        "/admin/donations/drifting",
        data={"csrf_token": token(client, book), "barcode": "9787020002207", "drifting": "1"},
        follow_redirects=True,
    )
    assert "这本书不能借" in text(r)
