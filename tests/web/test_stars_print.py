"""Reading stars in Chromium on a running daemon: the librarian saves the festival's rules in
the form, prints a certificate per child (A4 and A5: one child a page, the right names, the
school, the period, no buttons) and the stars of each class (A4, a class a page), and the
festival report on one A4 page; axe finds nothing on the new pages."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pypdf
import pytest
from reports.stars_school import build

from kiosk.daemon.app import Daemon
from web.axe import assert_accessible
from web.chromium import ARTIFACTS
from web.helpers import fifo_settings, running
from web.test_collection_e2e import login

# With at least 2 books read (stars_school.py's table): the stars in class order, best first.
STARS = [
    ("李雨涵", "三(1)班"),
    ("王小明", "三(1)班"),
    ("陈思博", "三(2)班"),
    ("黄子涵", "四(1)班"),
    ("赵天乐", "四(1)班"),
]
SIZES = {"A4": (595, 842), "A5": (420, 595)}  # in points


@pytest.fixture(scope="module")
def festival(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The school of stars_school.py on a running daemon, its festival saved through the form."""
    folder = tmp_path_factory.mktemp("stars")
    store, _ = build(folder)
    store.close()
    settings, _fifo = fifo_settings(folder, kiosk={"school": "实验小学"})
    with running(Daemon(settings)) as daemon:
        url = daemon.web.url
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        login(page, url)
        page.goto(url + "/admin/reports/stars/?lang=zh_CN")
        assert_accessible(page)
        page.fill("#new-stars input[name=name]", "2026年读书节")
        page.fill("#new-stars input[name=first]", "2026-04-20")
        page.fill("#new-stars input[name=last]", "2026-05-03")
        page.fill("#new-stars input[name=min_books]", "2")
        page.click("#new-stars button[type=submit]")
        page.wait_for_selector(".flash")
        yield {"url": url, "page": page, "show": page.url}
        page.close()


def pdf_of(page: Any, address: str, name: str) -> pypdf.PdfReader:
    page.goto(address)
    page.wait_for_function("document.fonts.status === 'loaded'")
    printed = page.pdf(prefer_css_page_size=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(printed)
    return pypdf.PdfReader(io.BytesIO(printed))


def flat(text: str) -> str:
    return text.replace("\n", "").replace(" ", "")


def test_the_stars_page_shows_them_and_has_no_axe_violation(festival: dict[str, Any]) -> None:
    page = festival["page"]
    page.goto(festival["show"])
    shown = page.inner_text("#stars")
    at = [shown.find(name) for name, _ in STARS]
    assert -1 not in at and at == sorted(at)
    assert "张子轩" not in shown and "周离校" not in shown
    assert_accessible(page)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_a_certificate_per_child_one_a_page(festival: dict[str, Any], size: str) -> None:
    page = festival["page"]
    page.goto(festival["show"])
    page.select_option("#certificates select[name=size]", size)
    with page.context.expect_page() as opened:
        page.click("#certificates button[type=submit]")
    sheet = opened.value
    sheet.wait_for_load_state()
    assert f"size={size}" in sheet.url
    pdf = pdf_of(sheet, sheet.url, f"stars-certificates-{size}.pdf")
    sheet.close()
    assert len(pdf.pages) == len(STARS)
    for p, (name, class_name) in zip(pdf.pages, STARS, strict=True):
        box = p.mediabox
        assert (round(float(box.width)), round(float(box.height))) == SIZES[size]
        text = flat(p.extract_text())
        for words in ("实验小学", "荣誉证书", "阅读之星", name, class_name, "2026年读书节"):
            assert words in text, (words, text)
        assert "2026-04-20至2026-05-03" in text
        others = [n for n, _ in STARS if n != name]
        assert not any(n in text for n in others)
        assert "打印" not in text  # the button is not printed


def test_one_class_only_and_in_english(festival: dict[str, Any]) -> None:
    page = festival["page"]
    rules = festival["show"].rsplit("/", 1)[1].split("?")[0]
    address = f"{festival['url']}/admin/reports/stars/{rules}/certificates"
    pdf = pdf_of(page, address + "?size=A5&words=en&class=四(1)班", "stars-certificates-en.pdf")
    texts = [flat(p.extract_text()) for p in pdf.pages]
    assert len(texts) == 2
    assert "黄子涵" in texts[0] and "赵天乐" in texts[1]
    assert all("Readingstar" in t and "Print" not in t for t in texts)
    assert "read3books" in texts[0] and "read2books" in texts[1]


def test_the_class_lists_and_the_festival_report_print_on_a4(festival: dict[str, Any]) -> None:
    page = festival["page"]
    base = festival["show"].split("?")[0]
    pdf = pdf_of(page, base + "/print?lang=zh_CN", "stars-class-lists.pdf")
    texts = [flat(p.extract_text()) for p in pdf.pages]
    assert len(texts) == 3  # a class a page
    for text, class_name in zip(texts, ["三(1)班", "三(2)班", "四(1)班"], strict=True):
        names = [n for n, c in STARS if c == class_name]
        assert class_name in text and all(n in text for n in names)
        assert not any(n in text for n, c in STARS if c != class_name)
        assert "打印" not in text
    for p in pdf.pages:
        assert (round(float(p.mediabox.width)), round(float(p.mediabox.height))) == SIZES["A4"]
    assert_accessible(page)
    page.goto(base + "/festival")
    assert_accessible(page)
    report = pdf_of(page, base + "/festival/print", "stars-festival.pdf")
    assert len(report.pages) == 1
    box = report.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == SIZES["A4"]
    text = flat(report.pages[0].extract_text())
    assert "对比此前的2周：2026-04-06–2026-04-19" in text and "全校" in text
    assert_accessible(page)
