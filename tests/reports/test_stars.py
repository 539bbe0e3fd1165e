"""Reading stars and the festival report on a school with known answers (stars_school.py): the
librarian saves a festival with star rules, sees the stars per class, the festival's figures
beside the two weeks before, downloads them; bad input says why, keeps what was typed, and
records nothing."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskClient
from web.helpers import LOOPBACK, set_up_and_login, text, token

from kiosk.circulation.reading.stars import StarForm, decide_save, kept_overnight
from kiosk.circulation.store import Store
from kiosk.web import create_app
from reports.stars_school import build

PAGE = "/admin/reports/stars/"
FESTIVAL = {"name": "2026年读书节", "first": "2026-04-20", "last": "2026-05-03"}


@pytest.fixture
def school(tmp_path: Path) -> Iterator[tuple[Store, FlaskClient]]:
    store, settings = build(tmp_path)
    app = create_app(store=store, settings=settings, networks=LOOPBACK)
    client = app.test_client()
    set_up_and_login(client)
    yield store, client
    store.close()


def save(client: FlaskClient, **form: str) -> str:
    r = client.post(PAGE, data={"csrf_token": token(client, PAGE), **form})
    assert r.status_code == 302, text(r)
    found = re.search(r"/admin/reports/stars/([0-9a-f]+)$", r.headers["Location"])
    assert found, r.headers["Location"]
    return found.group(1)


def stars_on(html: str) -> dict[str, list[tuple[str, int, int]]]:
    """Return each class's stars as the page shows them: name, books read, list titles."""
    shown = {}
    for block in html.split('id="stars"')[1].split("</section>")[0].split("<h2>")[1:]:
        name = block.split(" <small>")[0]
        rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", block)
        shown[name] = [(n, int(b), int(t)) for n, b, t in rows]
    return shown


def figures_on(html: str, table: str) -> list[list[str]]:
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(<td>.*?)</tr>", body)
    return [re.findall(r"<td>([^<]*)</td>", r) for r in rows]


def test_the_stars_per_class_by_books_read(school: tuple[Store, FlaskClient]) -> None:
    store, client = school
    menu = text(client.get("/admin/reports/?lang=zh_CN"))
    assert '<a href="/admin/reports/stars/">阅读之星和读书节</a>' in menu  # in the reports' menu
    rules = save(client, **FESTIVAL, min_books="2", min_list="0", top="0")
    html = text(client.get(PAGE + rules))
    # Books read (kept overnight): 王小明 3 (not the same-day 童年故事), 李雨涵 3, 陈思博 2,
    # 黄子涵 3, 赵天乐 2; 张子轩, 杨佳怡 and 吴可心 fewer; 周离校 left, 陈老师 is a teacher.
    # A tie is in pinyin order: 李 before 王.
    assert stars_on(html) == {
        "三(1)班": [("李雨涵", 3, 2), ("王小明", 3, 2)],
        "三(2)班": [("陈思博", 2, 0)],
        "四(1)班": [("黄子涵", 3, 2), ("赵天乐", 2, 1)],
    }
    assert "2 位阅读之星" in html and "2026-04-20 – 2026-05-03" in html
    saved = store.query("SELECT data FROM events WHERE type = 'star_rules_saved'")
    assert [json.loads(r["data"]) for r in saved] == [
        {**FESTIVAL, "rules": rules, "min_books": 2, "min_list": 0, "top": 0}
    ]


def test_list_titles_and_the_best_of_each_class(school: tuple[Store, FlaskClient]) -> None:
    _, client = school
    rules = save(client, **FESTIVAL, min_books="1", min_list="1", top="1")
    # At least one list title: 王小明 (3, 2), 李雨涵 (3, 2), 黄子涵 (3, 2), 赵天乐 (2, 1). The best
    # one of each class: 三(1)班's two are tied, so both; 三(2)班 has nobody.
    assert stars_on(text(client.get(PAGE + rules))) == {
        "三(1)班": [("李雨涵", 3, 2), ("王小明", 3, 2)],
        "四(1)班": [("黄子涵", 3, 2)],
    }
    english = text(client.get(PAGE + rules + "?lang=en"))
    assert "2 stars" in english and "1 star<" in english


def test_the_festival_report_beside_the_two_weeks_before(
    school: tuple[Store, FlaskClient],
) -> None:
    _, client = school
    rules = save(client, **FESTIVAL, min_books="2", min_list="0", top="0")
    html = text(client.get(f"{PAGE}{rules}/festival"))
    assert "对比此前的 2 周：2026-04-06 – 2026-04-19。" in html
    # students, loans, before, readers, before, list titles, before, stars. Loans count every
    # loan (the same-day ones too); list titles once per child, kept overnight.
    assert figures_on(html, "classes") == [
        ["三(1)班", "4", "8", "2", "3", "1", "4", "0", "2"],
        ["三(2)班", "2", "3", "1", "2", "1", "0", "1", "1"],
        ["四(1)班", "3", "6", "1", "3", "1", "3", "0", "2"],
    ]
    assert figures_on(html, "grades") == [
        ["3年级", "6", "11", "3", "5", "2", "4", "1", "3"],
        ["4年级", "3", "6", "1", "3", "1", "3", "0", "2"],
    ]
    assert figures_on(html, "school") == [["全校", "9", "17", "4", "8", "3", "7", "1", "5"]]
    english = text(client.get(f"{PAGE}{rules}/festival?lang=en"))
    assert "Compared with the 2 weeks just before: 2026-04-06 – 2026-04-19." in english
    printed = text(client.get(f"{PAGE}{rules}/festival/print?lang=zh_CN"))
    assert figures_on(printed, "school") == figures_on(html, "school")
    r = client.get(f"{PAGE}{rules}/festival.xlsx?lang=zh_CN")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == [
        "班级", "学生数", "借阅册次", "此前借阅册次", "借阅人数", "此前借阅人数", "读了推荐书目",
        "此前读了推荐书目", "阅读之星",
    ]  # fmt: skip
    assert values[1:] == [
        ["三(1)班", 4, 8, 2, 3, 1, 4, 0, 2],
        ["三(2)班", 2, 3, 1, 2, 1, 0, 1, 1],
        ["四(1)班", 3, 6, 1, 3, 1, 3, 0, 2],
        ["3年级", 6, 11, 3, 5, 2, 4, 1, 3],
        ["4年级", 3, 6, 1, 3, 1, 3, 0, 2],
        ["全校", 9, 17, 4, 8, 3, 7, 1, 5],
    ]


def test_a_month_compared_with_the_days_before(school: tuple[Store, FlaskClient]) -> None:
    _, client = school
    rules = save(client, month="2026-04", min_books="1")
    html = text(client.get(f"{PAGE}{rules}/festival?lang=en"))
    # April has 30 days: not whole weeks, so the 30 days before it.
    assert "Compared with the 30 days just before: 2026-03-02 – 2026-03-31." in html
    assert "2026-04" in text(client.get(PAGE))  # the month names the period


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"first": "2026-05-03", "last": "2026-04-20"}, "结束日期（2026-04-20）早于开始日期"),
        ({"first": "2026-04-31", "last": "2026-05-03"}, "2026-04-31 不是日期"),
        ({"month": "四月"}, "四月 不是月份"),
        ({"month": "2026-04", "first": "2026-04-20"}, "不要两个都填"),
        ({}, "请选一个月份"),
        ({"month": "2026-04", "min_books": "三"}, "读书本数要填 0 到 500"),
        ({"month": "2026-04", "min_books": "0", "min_list": "0"}, "请至少设一条规则"),
        ({"month": "2026-04", "top": "-1"}, "每班前几名要填 0 到 100"),
    ],
)  # fmt: skip
def test_bad_input_says_why_keeps_what_was_typed_and_records_nothing(
    school: tuple[Store, FlaskClient], form: dict[str, str], message: str
) -> None:
    store, client = school
    typed = {"name": "读书节（草稿）", "min_books": "3", **form}
    r = client.post(PAGE, data={"csrf_token": token(client, PAGE), **typed})
    html = text(r)
    assert r.status_code == 400 and message in html
    for field, value in typed.items():
        assert f'name="{field}"' in html and f'value="{value}"' in html
    assert store.query("SELECT count(*) AS n FROM star_rules") == [{"n": 0}]
    assert store.query("SELECT count(*) AS n FROM events WHERE type = 'star_rules_saved'") == [
        {"n": 0}
    ]


def test_changing_the_rules_keeps_the_period_and_refuses_a_bad_change(
    school: tuple[Store, FlaskClient],
) -> None:
    store, client = school
    rules = save(client, **FESTIVAL, min_books="2")
    page = PAGE + rules
    bad = {**FESTIVAL, "min_books": "2", "top": "abc"}
    r = client.post(page, data={"csrf_token": token(client, page), **bad})
    assert r.status_code == 400 and 'value="abc"' in text(r)
    good = {**FESTIVAL, "min_books": "3", "top": "0"}
    r = client.post(page, data={"csrf_token": token(client, page), **good}, follow_redirects=True)
    assert "阅读之星评选已保存" in text(r)
    assert stars_on(text(r)) == {
        "三(1)班": [("李雨涵", 3, 2), ("王小明", 3, 2)],
        "四(1)班": [("黄子涵", 3, 2)],
    }
    assert store.query("SELECT min_books FROM star_rules") == [{"min_books": 3}]


def test_the_decision_and_the_rule_of_a_book_read() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    # Lent at 12:10 and back at 12:05 the next day (04:05 UTC): a night at home, it counts.
    assert kept_overnight("2026-04-20T04:10:00.000Z", "2026-04-21T04:05:00.000Z", tz)
    assert not kept_overnight("2026-04-20T04:10:00.000Z", "2026-04-20T04:15:00.000Z", tz)
    assert kept_overnight("2026-04-20T04:10:00.000Z", None, tz)
    drafts = decide_save("r1", StarForm(month="2026-02", min_list="2"))
    assert not hasattr(drafts, "reason")
    assert [d.data for d in drafts] == [  # type: ignore[union-attr]
        {
            "rules": "r1",
            "name": "2026-02",
            "first": "2026-02-01",
            "last": "2026-02-28",
            "min_books": 0,
            "min_list": 2,
            "top": 0,
        }
    ]
