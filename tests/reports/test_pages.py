"""The report pages, downloads and the idle screen's board, through the Flask app."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from flask.testing import FlaskClient
from web.helpers import text, token

from reports.school import School

NOVEMBER = "period=month&month=2026-11"


def test_reading_figures_page(client: FlaskClient) -> None:
    html = text(client.get(f"/admin/reports/?{NOVEMBER}"))
    assert "阅读统计" in html and "2026-11-01 – 2026-11-30" in html
    rows = re.findall(r"<tr><td><a [^>]*>([^<]+)</a></td><td>(\d+)</td><td>(\d+)</td>", html)
    assert rows == [("三(1)班", "4", "4"), ("三(2)班", "2", "3"), ("四(1)班", "3", "1")]
    english = text(client.get(f"/admin/reports/?{NOVEMBER}&lang=en"))
    assert "Reading figures" in english and "Whole school" in english
    books = text(client.get(f"/admin/reports/books?{NOVEMBER}&lang=en"))
    assert "Literature" in books and books.index("小王子") < books.index("上下五千年")


def test_a_period_that_ends_before_it_starts_is_refused(client: FlaskClient) -> None:
    html = text(client.get("/admin/reports/?period=range&from=2026-11-30&to=2026-11-01"))
    assert "结束日期（2026-11-01）早于开始日期（2026-11-30）" in html


def test_rankings_poster_and_board(client: FlaskClient, school: School) -> None:
    html = text(client.get(f"/admin/reports/rankings/print?{NOVEMBER}"))
    assert html.index("三(2)班") < html.index("三(1)班") < html.index("四(1)班")
    assert "小王子" in html
    board = client.get("/board.json").get_json()
    assert board["classes"] == [
        {"rank": 1, "name": "三(2)班", "per_student": 1.5},
        {"rank": 2, "name": "三(1)班", "per_student": 1.0},
        {"rank": 3, "name": "四(1)班", "per_student": 0.33},
    ]
    assert board["books"][0] == {"title": "小王子", "author": "圣埃克苏佩里"}
    assert "王小明" not in str(board)  # never a child on the public screen


def test_downloads_in_both_languages(client: FlaskClient) -> None:
    r = client.get(f"/admin/reports/export/classes.csv?{NOVEMBER}")
    assert r.status_code == 200 and r.data.startswith("\ufeff班级,学生数".encode())
    r = client.get(f"/admin/reports/export/classes.csv?{NOVEMBER}&lang=en")
    assert r.data.startswith("\ufeffClass,Students".encode())
    r = client.get(f"/admin/reports/export/top-books.xlsx?{NOVEMBER}")
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        assert "小王子" in z.read("xl/sharedStrings.xml").decode()
    assert client.get("/admin/reports/export/student.csv?card=nobody").status_code == 400
    assert client.get("/admin/reports/export/nothing.csv").status_code == 404


def test_notices_are_recorded_when_printed(client: FlaskClient, school: School) -> None:
    school.clock.advance(days=37)
    html = text(client.get("/admin/reports/notices?level=3"))
    assert html.count('class="page notice"') == 5 and "尊敬的王小明同学家长" in html
    r = client.post(
        "/admin/reports/notices",
        data={"csrf_token": token(client, "/admin/reports/notices"), "level": "3", "class": ""},
    )
    assert r.status_code == 302 and "print=1" in r.headers["Location"]
    html = text(client.get("/admin/reports/overdue"))
    assert html.count("<td>librarian</td>") == 5
    assert school.store.value("SELECT count(*) FROM notices") == 5


def test_notice_text_form_keeps_what_was_typed(client: FlaskClient, school: School) -> None:
    t = token(client, "/admin/reports/notice-text")
    r = client.post("/admin/reports/notice-text", data={"csrf_token": t, "body": "请{nam}家长"})
    assert r.status_code == 400
    html = text(r)
    assert "请{nam}家长</textarea>" in html and "{nam}" in html and "field-error" in html
    r = client.post("/admin/reports/notice-text", data={"csrf_token": t, "body": "{name}家长好"})
    assert r.status_code == 302
    assert "{name}家长好</textarea>" in text(client.get("/admin/reports/notice-text"))


def test_student_record_and_class_summary(client: FlaskClient) -> None:
    html = text(client.get("/admin/reports/student/S11"))
    assert "王小明" in html and html.count("<tr><td>") == 3
    assert client.get("/admin/reports/student/NOPE").status_code == 404
    html = text(client.get("/admin/reports/class?class=三(2)班"))
    assert "陈思博" in html and "杨佳怡" in html
    for path in ("/admin/reports/new-books?period=term", "/admin/reports/non-borrowers",
                 "/admin/reports/overdue", "/admin/reports/rankings", "/admin/reports/print",
                 "/admin/reports/new-books/print", "/admin/reports/class/print",
                 "/admin/reports/student/S11/print", "/admin/reports/overdue/print"):  # fmt: skip
        assert client.get(path).status_code == 200, path


def test_event_log_says_who_by_name_in_local_time(client: FlaskClient) -> None:
    html = text(client.get("/admin/events?patron_id=S11"))
    assert '<td class="nowrap">借书</td>' in html and '<td class="nowrap">还书</td>' in html
    assert 'title="S11">王小明</td>' in html  # the actor, by name
    assert ">小王子</a>" in html and ">王小明</a>" in html
    assert "应还时间: 2026-11-16 23:59" in html and "T15:59" not in html
    english = text(client.get("/admin/events?patron_id=S11&lang=en"))
    assert "due: 2026-11-16 23:59" in english
    html = text(client.get("/admin/patrons?q=S11&lang=zh_CN"))
    assert "<td>学生</td><td>三(1)班</td><td>正常</td>" in html


def test_record_exports_have_chinese_titles_and_import_back(
    client: FlaskClient, school: School, tmp_path: Path
) -> None:
    from kiosk.circulation.importers import import_csv

    for kind in ("patrons", "items"):
        r = client.get(f"/admin/export/{kind}.csv?lang=zh_CN")
        body = r.get_data().decode("utf-8-sig")
        first = body.splitlines()[0]
        assert first == ("学号,卡号,姓名,班级,年级,身份,状态" if kind == "patrons" else
                         "条码号,题名,责任者,ISBN,索书号,馆藏地点,状态")  # fmt: skip
        path = tmp_path / f"{kind}.csv"
        path.write_text(body, encoding="utf-8")
        report = import_csv(school.store, kind, path, dry_run=True)
        assert report.ignored_columns == ["状态"]
        # Every column is read back; only 杨佳怡, who has no card, is refused (as in English).
        assert [(e.row, e.column) for e in report.errors] == (
            [(7, "卡号")] if kind == "patrons" else []
        )
    english = client.get("/admin/export/loans.csv?lang=en").get_data().decode("utf-8-sig")
    assert english.startswith("item_barcode,title,patron_id,card_id,name,class,checked_out_at")


def test_idle_screen_ranks_classes_by_loans_per_student(client: FlaskClient) -> None:
    from kiosk.web.screen import idle_view

    assert idle_view(client.application.extensions["kiosk"])["ranking"] == [
        {"class": "三(2)班", "loans": 1.5},
        {"class": "三(1)班", "loans": 1.0},
        {"class": "四(1)班", "loans": 0.33},
    ]


def test_escalation_levels_are_set_by_the_librarian(client: FlaskClient, school: School) -> None:
    school.clock.advance(days=17)  # 11-20: students' books 3 and 4 days over, all level 1
    t = token(client, "/admin/reports/notice-text")
    r = client.post("/admin/reports/levels", data={"csrf_token": t, "teacher": "5", "parents": "3"})
    html = text(r)
    assert r.status_code == 400 and 'name="parents" value="3"' in html
    assert 'id="parents-error" role="alert">家长要在班主任之后通知：多于 5 天。</span>' in html
    r = client.post("/admin/reports/levels", data={"csrf_token": t, "teacher": "x", "parents": ""})
    assert 'id="teacher-error" role="alert">请写 2 到 365 之间的数。</span>' in text(r)
    assert "<td>告知班主任</td>" not in text(client.get("/admin/reports/overdue"))
    r = client.post("/admin/reports/levels", data={"csrf_token": t, "teacher": "2", "parents": "4"})
    assert r.status_code == 302
    html = text(client.get("/admin/reports/overdue"))
    assert html.count("<td>通知家长</td>") == 6 and html.count("<td>告知班主任</td>") == 1
    assert school.store.value("SELECT count(*) FROM events WHERE type = 'notice_levels_set'") == 1


def test_books_found_by_pinyin_initials_and_part_of_a_barcode(client: FlaskClient) -> None:
    html = text(client.get("/admin/items?q=xwz"))
    assert html.count(">小王子</td>") == 2 and "第 1–2 条，共 2 条" in html
    html = text(client.get("/admin/items?q=B"))
    assert "第 1–8 条，共 8 条" in html
