"""Every print view of the dashboard on the demo school, printed to PDF by Chromium with the
page's own @page size, is A4; the new print views and CSVs list what their pages list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from web.librarian import A4, Demo, demo_school, log_in, page_sizes, pdf_of

R, C = "/admin/reports", "/admin/collection"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("prints"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def _prints(demo: Demo) -> list[str]:
    student = demo.query("SELECT id FROM patrons WHERE role = 'student' ORDER BY id LIMIT 1")[0][0]
    return [
        f"{R}/print?period=term",
        f"{R}/rankings/print?period=term",
        f"{R}/new-books/print?period=term",
        f"{R}/non-borrowers/print?period=month",
        f"{R}/overdue/print?level=1",
        f"{R}/overdue/staff",
        f"{R}/notices?level=3",
        f"{R}/student/{student}/print",
        f"{R}/class/print?class=三(2)班",
        f"{C}/list/lost?print=1",
        f"{C}/list/damaged?print=1",
        f"{C}/list/withdrawn?print=1",
        f"{C}/holds?print=1",
        f"{C}/surplus?print=1",
        f"{C}/year?print=1",
        f"{C}/corners?print=1",
        "/admin/labels/print?kind=spine&since=2000-01-01",
    ]


def test_every_print_view_is_a4(page: Any, demo: Demo) -> None:
    # A stocktake of the library, so that its report has a print view too.
    page.goto(demo.url + C + "/")
    page.fill("#start-stocktake input[name=location]", "图书馆")
    page.click("#start-stocktake button[type=submit]")
    page.wait_for_selector(".flash")
    stocktake, where = demo.query(
        "SELECT id, location FROM stocktakes ORDER BY started_at DESC LIMIT 1"
    )[0]
    assert where == "library"  # the word typed is the library's code in the store
    page.click("form[action$='/stocktake/finished'] button[type=submit]")
    wrong = {}
    for path in [*_prints(demo), f"{C}/stocktake/{stocktake}?print=1"]:
        response = page.goto(demo.url + path)
        assert response.status == 200, path
        sizes = page_sizes(pdf_of(page))
        if sizes != {A4}:
            wrong[path] = sizes
    assert not wrong, f"not A4: {wrong}"


def test_the_new_print_views_show_their_lists(page: Any, demo: Demo) -> None:
    page.goto(demo.url + C + "/holds")
    assert page.locator("#print-view").count() == 1
    page.goto(demo.url + C + "/year?print=1")
    rows = page.locator("table.list tbody tr").count()
    page.goto(demo.url + C + "/year")
    total = int(page.inner_text("#term-recall h2 small"))
    assert rows == max(total, 1)
    page.goto(demo.url + C + "/surplus?print=1")
    printed = page.locator("table.list tbody tr").count()
    headers = page.locator("table.list thead th").all_inner_texts()
    text = page.request.get(demo.url + C + "/surplus?format=csv").text().lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == headers and len(table) - 1 == printed > 0
    page.goto(demo.url + R + "/non-borrowers/print?period=month&class=三(2)班")
    assert page.locator("section.page").count() == 1
    assert "三(2)班" in page.inner_text("section.page h1")


def test_spine_labels_for_a_year_of_books_print_in_parts(page: Any, demo: Demo) -> None:
    books = demo.query("SELECT count(*) FROM items")[0][0]
    page.goto(demo.url + "/admin/labels/print?kind=spine&since=2000-01-01")
    shown = page.locator("section.sheet").count()
    assert shown == 20 and "共" in page.inner_text("#parts")
    assert len(pdf_of(page).pages) == shown  # one sheet a page, 20 at a time
    page.click("#parts a[rel=next]")
    page.wait_for_url("**part=2**")
    assert page.locator("section.sheet").count() == 20
    labels = page.locator("section.sheet .label.spine").count()
    assert 0 < labels < books
