"""The librarian's pages: first-run password, login limits, CSRF, networks, every page."""

from __future__ import annotations

import json
import re
import time

from flask import Flask
from flask.testing import FlaskClient

from kiosk.circulation.clock import FakeClock
from kiosk.daemon.app import Daemon
from kiosk.web import create_app
from web.helpers import LOOPBACK, PASSWORD, set_up_and_login, text, token

CARD, BOOK = "0F00A1B2C3", "9787020002207"


def events_of(daemon: Daemon, type: str) -> list[dict]:
    return daemon.store.query("SELECT * FROM events WHERE type = ? ORDER BY seq", [type])


def test_first_visit_asks_for_a_password_and_there_is_no_default(client: FlaskClient) -> None:
    r = client.get("/admin/")
    assert r.status_code == 302 and r.location.endswith("/admin/setup")
    r = client.get("/admin/login")
    assert r.status_code == 302 and r.location.endswith("/admin/setup")
    assert "设置图书管理员密码" in text(client.get("/admin/setup"))


def test_setup_refuses_short_or_different_passwords(client: FlaskClient) -> None:
    t = token(client, "/admin/setup")
    form = {"csrf_token": t, "user": "librarian", "password": "short", "again": "short"}
    r = client.post("/admin/setup", data=form)
    assert r.status_code == 400 and "密码至少需要 8 个字符" in text(r)
    form.update(password=PASSWORD, again=PASSWORD + "x")
    r = client.post("/admin/setup", data=form)
    assert r.status_code == 400 and "两次输入的密码不一样" in text(r)
    assert client.get("/admin/").location.endswith("/admin/setup")


def test_setup_then_login_then_dashboard(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    r = client.get("/admin/")
    assert r.status_code == 200
    assert "本学期每天借书量" in text(r)
    (event,) = events_of(daemon, "admin_password_set")
    assert event["actor"] == "librarian:librarian"
    stored = (daemon.settings.base_dir / "web-passwords.json").read_text()
    assert PASSWORD not in stored and "librarian" in stored
    # Setting up again is refused once a password exists.
    assert client.get("/admin/setup").location.endswith("/admin/login")


def test_wrong_password_is_refused_and_repeated_failures_are_limited(
    client: FlaskClient,
) -> None:
    set_up_and_login(client)
    client.post("/admin/logout", data={"csrf_token": token(client, "/admin/")})
    t = token(client, "/admin/login")
    for _ in range(3):
        r = client.post(
            "/admin/login", data={"csrf_token": t, "user": "librarian", "password": "nope"}
        )
        assert r.status_code == 401 and "用户名或密码不对" in text(r)
    r = client.post(
        "/admin/login", data={"csrf_token": t, "user": "librarian", "password": PASSWORD}
    )
    assert r.status_code == 429 and "登录失败次数太多" in text(r)
    assert client.get("/admin/").status_code == 302


def test_login_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    r = client.get("/admin/setup")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_a_form_without_its_csrf_token_changes_nothing(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    r = client.post("/admin/patrons/S001/status", data={"status": "blocked"})
    assert r.status_code == 400 and "表单已过期" in text(r)
    r = client.post("/admin/patrons/S001/status", data={"status": "blocked", "csrf_token": "x"})
    assert r.status_code == 400
    assert daemon.store.value("SELECT status FROM patrons WHERE id = 'S001'") == "active"


def test_other_networks_are_refused(daemon: Daemon) -> None:
    app = create_app(store=daemon.store, settings=daemon.settings, daemon=daemon, networks=LOOPBACK)
    outside = app.test_client()
    outside.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    for path in ("/admin/", "/admin/setup", "/admin/login", "/desk/"):
        r = outside.get(path)
        assert r.status_code == 403, path
        assert "只能在学校网络" in text(r)
    # The touchscreen page and the health check stay readable; the status is the librarian's.
    assert outside.get("/").status_code == 200
    assert outside.get("/api/v1/status").status_code == 403
    assert outside.get("/api/v1/health").status_code in (200, 503)


def test_local_subnet_is_the_default(daemon: Daemon) -> None:
    app = create_app(store=daemon.store, settings=daemon.settings, daemon=daemon)
    assert app.test_client().get("/admin/").status_code == 302  # loopback: to set-up
    outside = app.test_client()
    outside.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    assert outside.get("/admin/").status_code == 403


def test_every_page_answers_once_logged_in(client: FlaskClient, daemon: Daemon) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    set_up_and_login(client)
    pages = {
        "/admin/": "红楼梦",
        "/admin/today": "红楼梦",
        "/admin/reports/overdue": "没有过期的书",
        "/admin/reports/overdue/print": "没有过期的书",
        "/admin/patrons?q=王": "王小明",
        "/admin/patrons/S001": "0F00A1B2C3",
        "/admin/items?q=红楼": "9787020002207",
        "/admin/items/9787020002207": "王小明",
        "/admin/import": "CSV",
        "/admin/rules": "借期",
        "/admin/events?type=checkout": "9787020002207",
    }
    for path, expected in pages.items():
        r = client.get(path)
        assert r.status_code == 200, path
        assert expected in text(r), path
    assert client.get("/admin/patrons/NOBODY").status_code == 404


def test_overdue_print_gives_one_notice_per_class(
    client: FlaskClient, daemon: Daemon, clock: FakeClock
) -> None:
    daemon.kiosk.scan(CARD)
    daemon.kiosk.scan(BOOK)
    daemon.kiosk.done()
    daemon.kiosk.scan("0F00A1B2C5")
    daemon.kiosk.scan("9787535449450")
    clock.advance(days=30)
    set_up_and_login(client)
    html = text(client.get("/admin/reports/overdue/print"))
    assert html.count('<section class="page">') == 2
    assert "三(2)班图书馆催还通知" in html and "五(1)班图书馆催还通知" in html
    one = text(client.get("/admin/reports/overdue/print?class=五(1)班"))
    assert one.count('<section class="page">') == 1 and "小王子" in one and "红楼梦" not in one


def test_the_old_overdue_pages_lead_to_the_report_for_good(client: FlaskClient) -> None:
    set_up_and_login(client)
    r = client.get("/admin/overdue")
    assert (r.status_code, r.location) == (301, "/admin/reports/overdue")
    r = client.get("/admin/overdue/print?class=五(1)班")
    assert r.status_code == 301
    assert r.location == "/admin/reports/overdue/print?class=%E4%BA%94(1)%E7%8F%AD"
    # The dashboard's own links go to the report.
    html = text(client.get("/admin/"))
    assert 'href="/admin/reports/overdue"' in html and "/admin/overdue" not in html


def test_admin_edits_are_events_with_the_librarian(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/patrons/S001")
    client.post("/admin/patrons/S001/status", data={"csrf_token": t, "status": "blocked"})
    client.post("/admin/patrons/S001/cards/lost", data={"csrf_token": t, "code": CARD})
    client.post("/admin/patrons/S001/cards", data={"csrf_token": t, "code": "0F00NEW001"})
    client.post(
        "/admin/patrons/S001",
        data={
            "csrf_token": t,
            "name": "王小明",
            "role": "student",
            "grade": "4",
            "class_name": "四(2)班",
        },
    )
    client.post(
        "/admin/items/9787020002207",
        data={"csrf_token": t, "title": "红楼梦（上）", "author": "曹雪芹"},
    )
    client.post(
        "/admin/collection/item/mark",
        data={"csrf_token": t, "barcode": "9787020002207", "kind": "damaged"},
    )
    store = daemon.store
    assert store.value("SELECT status FROM patrons WHERE id = 'S001'") == "blocked"
    assert store.value("SELECT class_name FROM patrons WHERE id = 'S001'") == "四(2)班"
    assert store.value("SELECT status FROM cards WHERE code = ?", [CARD]) == "lost"
    assert store.value("SELECT patron_id FROM cards WHERE code = '0F00NEW001'") == "S001"
    assert store.value("SELECT title FROM items WHERE barcode = ?", [BOOK]) == "红楼梦（上）"
    types = [
        (e["type"], e["actor"])
        for e in store.query("SELECT * FROM events WHERE actor LIKE 'librarian:%' ORDER BY seq")
    ]
    assert types == [
        ("admin_password_set", "librarian:librarian"),
        ("patron_status", "librarian:librarian"),
        ("card_lost", "librarian:librarian"),
        ("card_issued", "librarian:librarian"),
        ("patron_edited", "librarian:librarian"),
        ("item_edited", "librarian:librarian"),
        ("item_damaged", "librarian:librarian"),
    ]


def test_rules_form_names_a_bad_value_and_saves_a_good_one(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    t = token(client, "/admin/rules")
    form = {f"loan_days_{r}": "14" for r in ("student", "teacher", "helper", "librarian")}
    form |= {f"max_loans_{r}": "3" for r in ("student", "teacher", "helper", "librarian")}
    form |= {"csrf_token": t, "renewals": "1", "term_start": "2026-09-01", "term_end": "2027-01-22"}
    form |= {"closed_days": "2026-10-01\n2026-13-01"}
    r = client.post("/admin/rules", data=form, follow_redirects=True)
    assert "2026-13-01" in text(r) and "未保存" in text(r)
    assert daemon.store.value("SELECT count(*) FROM closed_days") == 0
    form["closed_days"] = "2026-10-01"
    r = client.post("/admin/rules", data=form, follow_redirects=True)
    assert "规则已保存" in text(r)
    assert daemon.store.value("SELECT max_loans FROM rules WHERE scope = 'role:student'") == 3
    assert events_of(daemon, "rules_set")[-1]["actor"] == "librarian:librarian"


def test_csv_import_reports_row_errors_and_imports_a_good_file(
    client: FlaskClient, daemon: Daemon
) -> None:
    import io

    set_up_and_login(client)

    def upload(content: str) -> dict:
        t = token(client, "/admin/import")
        r = client.post(
            "/admin/import",
            data={
                "csrf_token": t,
                "kind": "items",
                "file": (io.BytesIO(content.encode()), "b.csv"),
            },
            content_type="multipart/form-data",
        )
        assert r.status_code == 302
        job_url = r.location + ".json"
        for _ in range(100):
            job = client.get(job_url).json
            if job["finished"]:
                return job  # type: ignore[no-any-return]
            time.sleep(0.05)
        raise AssertionError("import did not finish")

    bad = upload("barcode,title\n9787101003048,\n")
    assert bad["ok"] is False
    assert bad["errors"][0]["row"] == 2
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode = '9787101003048'") == 0
    good = upload("barcode,title,author\n9787101003048,史记,司马迁\n")
    assert good["ok"] is True and good["errors"] == []
    assert daemon.store.value("SELECT title FROM items WHERE barcode = '9787101003048'") == "史记"
    assert events_of(daemon, "import")[-1]["actor"] == "librarian:librarian"


def test_exports_are_csv_and_recorded(client: FlaskClient, daemon: Daemon) -> None:
    set_up_and_login(client)
    r = client.get("/admin/export/items.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    body = r.get_data().decode("utf-8-sig")
    assert "9787020002207" in body and "红楼梦" in body
    assert json.loads(events_of(daemon, "export")[-1]["data"]) == {"kind": "items", "rows": 5}
    assert client.get("/admin/export/secrets.csv").status_code == 404


def test_app_works_on_a_store_without_a_daemon(daemon: Daemon) -> None:
    app: Flask = create_app(store=daemon.store, settings=daemon.settings, networks=LOOPBACK)
    c = app.test_client()
    set_up_and_login(c)
    assert c.get("/admin/").status_code == 200
    assert "这里没有运行自助借还机" in text(c.get("/"))
    assert "不可用" in text(c.get("/desk/"))
    r = c.get("/api/v1/health")
    assert (r.status_code, r.json["reasons"]) == (503, ["no kiosk daemon here"])
    assert re.search(r"<h1>", text(c.get("/admin/reports/overdue")))


def test_live_stream_tells_the_dashboard_about_each_committed_result(
    client: FlaskClient, daemon: Daemon
) -> None:
    set_up_and_login(client)
    r = client.get("/admin/live")
    assert r.mimetype == "text/event-stream"
    chunks = (c.decode() for c in r.response)
    assert next(chunks) == "retry: 2000\n\n"
    daemon.kiosk.scan(CARD)  # a session start is not a loan: no message for it
    daemon.kiosk.scan(BOOK)
    assert next(chunks) == 'data: {"kind": "ok"}\n\n'
    r.close()


def test_live_stream_needs_a_login(client: FlaskClient) -> None:
    set_up_and_login(client)
    client.post("/admin/logout", data={"csrf_token": token(client, "/admin/")})
    r = client.get("/admin/live")
    assert r.status_code == 302 and "/admin/login" in r.location


def test_an_oversized_upload_is_refused_and_changes_nothing(
    client: FlaskClient, daemon: Daemon
) -> None:
    import io

    set_up_and_login(client)
    t = token(client, "/admin/import")
    before = daemon.store.value("SELECT count(*) FROM events")
    huge = b"barcode,title\n" + b"9787101003048,x\n" * (21 * 1024 * 1024 // 16)
    r = client.post(
        "/admin/import",
        data={"csrf_token": t, "kind": "items", "file": (io.BytesIO(huge), "big.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 413
    assert "文件太大：最多 20 MB。" in r.get_data(as_text=True)
    assert daemon.store.value("SELECT count(*) FROM events") == before
    assert daemon.store.value("SELECT count(*) FROM items WHERE barcode = '9787101003048'") == 0
