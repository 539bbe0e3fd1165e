"""The dashboard's import: .xlsx and MARC files, warnings, and names a browser should never send."""

from __future__ import annotations

import io
import time
from typing import Any

import openpyxl
from flask.testing import FlaskClient

from kiosk.daemon.app import Daemon
from web.helpers import set_up_and_login, token


def upload(client: FlaskClient, kind: str, content: bytes, name: str, **form: str) -> Any:
    t = token(client, "/admin/import")
    return client.post(
        "/admin/import",
        data={"csrf_token": t, "kind": kind, "file": (io.BytesIO(content), name), **form},
        content_type="multipart/form-data",
    )


def finished(client: FlaskClient, r: Any) -> dict:
    assert r.status_code == 302, r.get_data(as_text=True)
    for _ in range(200):
        job = client.get(r.location + ".json").json
        if job["finished"]:
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def test_odd_file_names_are_refused_with_a_4xx(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    before = daemon.store.value("SELECT count(*) FROM events")
    for name in (".", "..", "a\x00b.csv", "../..", " . "):
        r = upload(client, "items", b"barcode,title\nX1,x\n", name)
        assert r.status_code == 400, name
        assert "文件名无法使用" in r.get_data(as_text=True), name
    assert daemon.store.value("SELECT count(*) FROM events") == before
    # A path in the name is only a name: the file is imported, nothing is written elsewhere.
    job = finished(client, upload(client, "items", b"barcode,title\nX1,x\n", "../../etc/x.csv"))
    assert job["ok"] is True
    assert daemon.store.value("SELECT data FROM events WHERE type = 'import'").count('"x.csv"')


def test_xlsx_upload_with_a_bad_isbn_warns_and_imports(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "新书"
    sheet.append(["条码号", "题名", "ISBN"])
    sheet.append([40001, "城南旧事", "9787530137345"])
    sheet.append([40002, "稻草人", "9787020002208"])  # wrong check digit
    out = io.BytesIO()
    book.save(out)
    job = finished(client, upload(client, "items", out.getvalue(), "新书.xlsx"))
    assert job["ok"] is True and job["errors"] == []
    assert job["warnings"] == [
        {
            "row": 3,
            "column": "ISBN",
            "reason": "ISBN 9787020002208 无效（校验位或长度不对），已按原样导入",
        }
    ]
    assert daemon.store.value("SELECT isbn FROM items WHERE barcode = '40002'") == "9787020002208"


def test_a_marc_upload_names_the_broken_record(client: FlaskClient, daemon: Daemon) -> None:
    from importers.test_marc_xlsx_import import cnmarc

    set_up_and_login(client)
    good = cnmarc("小王子", "圣埃克苏佩里著", "9787020042494", ["W1", "W2"], gbk=True).as_marc()
    job = finished(client, upload(client, "items", good + good[:-30], "供应商.iso"))
    assert job["ok"] is False and job["records"] is True
    assert [e["row"] for e in job["errors"]] == [2]
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode LIKE 'W_'") == 0
    job = finished(client, upload(client, "items", good, "供应商.iso"))
    assert job["ok"] is True
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode LIKE 'W_'") == 2
    r = upload(client, "patrons", good, "供应商.iso")
    assert r.status_code == 302 and r.location.endswith("/admin/import")


def test_lists_export_as_xlsx_and_read_back_equal(client: FlaskClient, daemon: Daemon) -> None:
    from kiosk.circulation.export import actor_in_words, details_in_words, rows
    from kiosk.i18n import translate

    set_up_and_login(client)
    daemon.kiosk.scan("0F00A1B2C3")
    daemon.kiosk.scan("9787020002207")  # a loan, so the loans list has a row
    for kind in ("patrons", "items", "loans", "events"):
        r = client.get(f"/admin/export/{kind}.xlsx")
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
        book = openpyxl.load_workbook(io.BytesIO(r.get_data()), read_only=True)
        got = [
            ["" if v is None else v for v in row] for row in book.active.iter_rows(values_only=True)
        ]
        expected = [list(r) for r in rows(daemon.store, kind)]
        if kind == "events":  # the export itself is recorded after the file is made
            assert expected.pop()[2] == "export"
        # Roles, statuses, event types, who did it and details in words; the rest as stored.
        for column in {"patrons": [5, 6], "items": [6], "events": [2]}.get(kind, []):
            for line in expected:
                line[column] = translate(line[column], "zh_CN")
        if kind == "events":  # who did it and the details in words, as in the CSV
            zone = daemon.settings.kiosk.timezone
            for line in expected:
                line[5] = actor_in_words(line[5], "zh_CN")
                line[8] = details_in_words(line[8], "zh_CN", zone)
            assert "配置文件" in [line[5] for line in got[1:]]  # the rules of the first start
        assert got[1:] == expected, kind
    header = next(
        openpyxl.load_workbook(
            io.BytesIO(client.get("/admin/export/patrons.xlsx").get_data())
        ).active.iter_rows(values_only=True)
    )
    assert header == ("学号", "卡号", "姓名", "班级", "年级", "身份", "状态")
    assert translate("student", "zh_CN") == "学生" and translate("checkout", "zh_CN") != "checkout"
    # An exported sheet imports back as it is: nothing new, nothing changed.
    data = client.get("/admin/export/items.xlsx").get_data()
    job = finished(client, upload(client, "items", data, "books.xlsx"))
    assert job["ok"] is True and "新增 0，更新 0" in job["summary"], job["summary"]


def test_a_file_bad_on_every_row_lists_the_first_thousand(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    rows = "".join(f"B{n},\n" for n in range(1500))  # every title empty
    job = finished(client, upload(client, "items", f"barcode,title\n{rows}".encode(), "bad.csv"))
    assert job["ok"] is False and len(job["errors"]) == 1000
    assert job["errors"][0] == {"row": 2, "column": "title", "reason": "title 为空"}
    assert job["errors"][-1]["row"] == 1001
    assert "共 1500 个问题，只列出前 1000 个" in job["summary"]


def test_the_import_page_takes_an_encoding(client: FlaskClient, daemon: Daemon) -> None:
    from pathlib import Path

    set_up_and_login(client)
    data = (Path(__file__).parents[1] / "data" / "real" / "pymarc-1251.dat").read_bytes()
    # Found from the file: CP1251, said as a warning.
    job = finished(client, upload(client, "records", data, "1251.mrc"))
    assert job["ok"] is True and "MARC: CP1251" in job["summary"]
    assert [w["row"] for w in job["warnings"]] == [1]
    # Named on the form: read so, nothing to say.
    job = finished(client, upload(client, "records", data, "1251.mrc", encoding="cp1251"))
    assert job["ok"] is True and job["warnings"] == [] and "MARC: CP1251" in job["summary"]
    title = daemon.store.value("SELECT author FROM marc_records WHERE isbn = '9785930933420'")
    assert title == "Ильина, Татьяна Николаевна"
    job = finished(client, upload(client, "records", data, "1251.mrc", encoding="nonsense"))
    assert job["ok"] is False
    assert job["errors"] == [{"row": 1, "column": "", "reason": "未知的文本编码 nonsense"}]
