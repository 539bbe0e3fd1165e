"""In a real headless Chromium, over HTTP on loopback: a school of 728 patrons paged and searched,
and the print views printed to A4 PDF (one page per class, one per student, nothing cut).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pypdf
import pytest
from web.chromium import chromium
from web.helpers import LOOPBACK

from kiosk import config
from kiosk.circulation.clock import FakeClock
from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.circulation.store import Store
from kiosk.daemon.app import open_store
from kiosk.web import create_app
from kiosk.web.server import WebServer

pytestmark = pytest.mark.slow  # Chromium

PASSWORD = "correct horse battery"
SURNAMES = "李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "子涵浩宇欣怡雨思博文佳嘉晨一诺铭睿泽萱彤琪瑶婷杰俊豪天乐可心"
CLASSES = [f"{g}({n})班" for g in "一二三四五六" for n in (1, 2, 3)]


def school(store: Store) -> None:
    """728 students in 18 classes (三(1)班 has 40), and one overdue book for each of those 40."""
    with store.write() as db:
        n = 0
        for c, cls in enumerate(CLASSES):
            size = 40 if c < 10 else 41
            for i in range(size):
                n += 1
                name = (
                    "王小明"
                    if n == 300
                    else SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)] + GIVEN[i % len(GIVEN)]
                )
                row = {"id": f"S{n:04d}", "name": name, "role": "student",
                       "grade": c // 3 + 1, "class_name": cls}  # fmt: skip
                put_patron(db, row, [f"0F{n:08X}"], store.now())
        for i in range(60):
            # Long titles: a printed row that wraps must still keep the class on one page.
            title = f"第{i}本书：写给八到十二岁孩子的长篇儿童文学"
            put_item(db, {"barcode": f"B{i:03d}", "title": title}, store.now())
    assert n == 728, n
    c = Circulation(store, "Asia/Shanghai")
    students = store.query("SELECT id FROM patrons WHERE class_name = '三(1)班' ORDER BY id")
    for i, s in enumerate(students):
        assert c.checkout(s["id"], f"B{i:03d}").ok
    assert c.checkout("S0001", "B050").ok and c.checkout("S0700", "B051").ok


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("reports-browser")
    settings = config.from_dict(
        {
            "store": {"path": "kiosk.db"},
            "scanner": {"source": "none:"},
            "indicator": {"kind": "none"},
            "web": {"listen": "127.0.0.1:0"},
            "rules": {"max_loans_by_grade": {}, "block_when_overdue": False},
        },
        base_dir=folder,
    )
    ago = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 40 * 86400))
    store = open_store(settings, FakeClock(ago))
    school(store)
    store.close()
    store = open_store(settings)
    assert Circulation(store, "Asia/Shanghai").checkout("S0002", "B052").ok  # this month
    server = WebServer(create_app(store=store, settings=settings, networks=LOOPBACK), "127.0.0.1:0")
    server.start()
    yield server.url
    server.stop()
    store.close()


@pytest.fixture(scope="module")
def page(site: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = context.new_page()
        pg.goto(site + "/admin/")
        pg.fill("input[name=user]", "librarian")
        pg.fill("input[name=password]", PASSWORD)
        pg.fill("input[name=again]", PASSWORD)
        pg.click("main button[type=submit]")
        pg.fill("input[name=user]", "librarian")
        pg.fill("input[name=password]", PASSWORD)
        pg.click("main button[type=submit]")
        pg.wait_for_url("**/admin/")
        yield pg


def test_pages_through_728_patrons_and_finds_by_pinyin(page: Any, site: str) -> None:
    page.goto(site + "/admin/patrons")
    seen: set[str] = set()
    pages = 0
    while True:
        pages += 1
        ids = page.locator("table.rows td:first-child a").all_inner_texts()
        assert len(ids) == (50 if pages < 15 else 28)
        seen.update(ids)
        counts = page.locator("p.pager span").first.inner_text()
        assert counts == f"第 {(pages - 1) * 50 + 1}–{(pages - 1) * 50 + len(ids)} 条，共 728 条"
        nxt = page.locator("p.pager a[rel=next]").first
        if not nxt.count():
            break
        nxt.click()
        page.wait_for_load_state()
    assert pages == 15 and len(seen) == 728
    for q in ("wxm", "小明"):
        page.fill("input[name=q]", q)
        page.press("input[name=q]", "Enter")
        page.wait_for_load_state()
        names = page.locator("table.rows td:nth-child(2)").all_inner_texts()
        assert "王小明" in names, (q, names)
        assert page.locator("table.rows td:nth-child(3)").first.inner_text() == "学生"


def pdf_pages(pdf: bytes) -> list[str]:
    """Return the text of each page of a PDF that Chromium printed."""
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_overdue_lists_print_one_a4_page_per_class(page: Any, site: str) -> None:
    page.goto(site + "/admin/reports/overdue/print")
    sections = page.locator("section.page")
    assert sections.count() == 3  # 一(1)班, 三(1)班, 六(3)班
    big = sections.nth(1)
    assert "三(1)班" in big.locator("h1").inner_text()
    assert big.locator("tbody tr").count() == 40
    names = big.locator("tbody td:first-child").all_inner_texts()
    printed = pdf_pages(page.pdf(format="A4", prefer_css_page_size=True))
    assert len(printed) == 3
    # Nothing cut: every student of the big class is on its page, with the class's heading.
    assert "三(1)班" in printed[1] and all(n in printed[1].replace("\n", "") for n in names)


def test_parents_notices_print_one_page_per_student(page: Any, site: str) -> None:
    page.goto(site + "/admin/reports/notices?level=1&class=三(1)班")
    assert page.locator("section.notice").count() == 40
    printed = pdf_pages(page.pdf(format="A4", prefer_css_page_size=True))
    assert len(printed) == 40
    assert all("三(1)班" in p and "尊敬的" in p and "家长签名" in p for p in printed)


def test_idle_screen_shows_this_months_most_borrowed(page: Any, site: str) -> None:
    page.goto(site + "/")
    page.wait_for_selector("#board:not([hidden])")
    assert page.locator("#board-books li").all_inner_texts() == [
        "第52本书：写给八到十二岁孩子的长篇儿童文学"
    ]
    assert "本月借阅最多" in page.inner_text("#board")


def test_a_long_list_of_non_borrowers_is_counted_per_class(page: Any, site: str) -> None:
    page.goto(site + "/admin/reports/non-borrowers")
    assert "共 727 名学生没有借书" in page.inner_text("main")  # 728 less one this month
    page.click("text=三(1)班")
    names = page.locator("section.card p a").all_inner_texts()
    assert len(names) == 40 and "三(1)班" in page.inner_text("section.card h2")
