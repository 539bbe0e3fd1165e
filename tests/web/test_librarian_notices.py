"""Overdue chasing on the demo school in Chromium: parents' notices go to the children's parents
only, the teachers get a reminder of their own, the notices' PDF prints only the notices, and
recording the same notices a second time asks first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from web.librarian import A4, Demo, demo_school, log_in, page_sizes, pdf_of

REPORTS = "/admin/reports"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("notices"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def _overdue_staff(demo: Demo) -> set[str]:
    rows = demo.query(
        "SELECT DISTINCT p.name FROM loans l JOIN patrons p ON p.id = l.patron_id "
        "WHERE l.returned_at IS NULL AND l.due_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
        "AND p.role IN ('teacher', 'librarian')"
    )
    return {r["name"] for r in rows}


def test_parents_notices_are_for_students_and_the_teachers_get_a_reminder(
    page: Any, demo: Demo
) -> None:
    staff = _overdue_staff(demo)
    assert staff, "the demo school should have a teacher with a book overdue"
    page.goto(demo.url + REPORTS + "/notices?level=1")
    names = set(page.locator("section.notice .who b").all_inner_texts())
    assert names and not names & staff
    body = page.inner_text("body")
    assert "老师同学家长" not in body and "您的孩子（）" not in body
    page.goto(demo.url + REPORTS + "/overdue/staff")
    assert set(page.locator("section.notice .who b").all_inner_texts()) == staff
    assert "同学家长" not in page.inner_text("body")
    assert "请尽快归还" in page.inner_text("section.notice .text")


def test_the_overdue_lists_have_no_class_named_dash_and_staff_last(page: Any, demo: Demo) -> None:
    page.goto(demo.url + REPORTS + "/overdue?level=1")
    headings = [h.split(" ")[0] for h in page.locator("section.card h2").all_inner_texts()]
    assert "-" not in headings
    assert headings[-2] == "教职工", headings  # the list of notices printed comes after
    page.goto(demo.url + REPORTS + "/overdue/print?level=1")
    titles = page.locator("section.page h1").all_inner_texts()
    assert titles and all("-" not in t for t in titles)
    assert not set(page.locator("section.page td:first-child").all_inner_texts()) & _overdue_staff(
        demo
    )


def test_the_notices_pdf_prints_the_notices_only_on_a4(page: Any, demo: Demo) -> None:
    page.goto(demo.url + REPORTS + "/notices?level=3")
    count = page.locator("section.notice").count()
    assert count > 0 and page.locator("button", has_text="记为已发出并打印").is_visible()
    reader = pdf_of(page)
    first = reader.pages[0].extract_text()
    assert "记为已发出并打印" not in first and "份通知" not in first and "打印" not in first
    assert len(reader.pages) == count
    assert page_sizes(reader) == {A4}


def test_recording_the_notices_a_second_time_asks_first(page: Any, demo: Demo) -> None:
    before = demo.query("SELECT count(*) AS n FROM notices")[0]["n"]
    page.goto(demo.url + REPORTS + "/notices?level=3")
    students = page.locator("section.notice").count()
    page.click("button:has-text('记为已发出并打印')")
    page.wait_for_url("**print=1**")
    assert f"已记录打印 {students} 份通知。" in page.inner_text("body")
    assert page.evaluate("window.__prints") == 1
    after_first = demo.query("SELECT count(*) AS n FROM notices")[0]["n"]
    assert after_first == before + students

    page.goto(demo.url + REPORTS + "/notices?level=3")
    page.click("button:has-text('记为已发出并打印')")
    page.wait_for_selector("#again-count")
    assert f"这 {students} 名学生中" in page.inner_text("#again-count")
    assert page.locator("#again tr").count() == students + 1
    assert demo.query("SELECT count(*) AS n FROM notices")[0]["n"] == after_first
    page.click("#print-only")
    page.wait_for_url("**print=1**")
    assert demo.query("SELECT count(*) AS n FROM notices")[0]["n"] == after_first

    page.goto(demo.url + REPORTS + "/notices?level=3")
    page.click("button:has-text('记为已发出并打印')")
    page.click("#record-again")
    page.wait_for_url("**print=1**")
    assert demo.query("SELECT count(*) AS n FROM notices")[0]["n"] == after_first + students
