"""The dashboard on a librarian's screens (1280x800 and 1024x768), in Chinese and English, in
Chromium on the demo school: no page of the menu scrolls sideways or puts anything past the
screen's right edge, and a donation's form (its new-books rows, its donor choices) fits and works.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from web.librarian import Demo, demo_school, log_in

SIZES = [(1280, 800), (1024, 768)]

# What sticks out to the right: the page's own width, and any box of the page past the screen.
SIDEWAYS = """() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth) out.push(`the page is ${doc.scrollWidth}px wide`);
  for (const el of document.querySelectorAll("main *")) {
    const r = el.getBoundingClientRect();
    const fixed = getComputedStyle(el).position === "fixed";
    if (!r.width || r.right <= innerWidth + 1 || fixed) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
    out.push(`${name} ends at ${Math.round(r.right)}px`);
  }
  return out.slice(0, 5);
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("sizes"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_page_of_the_menu_runs_past_the_screen(
    page: Any, demo: Demo, lang: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{demo.url}/admin/?lang={lang}")
    # The menu's pages; the desk is the helpers' own page, made for its own screen.
    links = page.eval_on_selector_all(
        "nav.top a[href^='/admin']", "links => links.map(a => a.getAttribute('href'))"
    )
    links = [h for h in links if not h.startswith("/admin/desk")]
    assert len(links) >= 12, links
    found = {}
    for href in links:
        page.goto(demo.url + href)
        problems = page.evaluate(SIDEWAYS)
        if problems:
            found[href] = problems
    assert found == {}, f"{lang} at {width}x{height}: {found}"
    page.goto(f"{demo.url}/admin/?lang=zh_CN")


def test_a_donation_of_new_books_fits_a_small_screen_and_is_recorded(page: Any, demo: Demo) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(demo.url + "/admin/donations/")
    # Each donor choice is a round button beside its word, not above it.
    for label in page.locator("#donation-form fieldset label.inline").all():
        beside = label.evaluate(
            """l => { const r = l.querySelector('input').getBoundingClientRect();
                      const range = document.createRange(); range.selectNodeContents(l.lastChild);
                      const t = range.getBoundingClientRect();
                      return r.right <= t.left && r.bottom > t.top && r.top < t.bottom; }"""
        )
        assert beside, label.inner_text()
    # The new books' last column (the author) ends inside the form's card.
    card = page.locator("#donation-form").bounding_box()
    author = page.locator("input[name=new_author]").first.bounding_box()
    assert author["x"] + author["width"] <= card["x"] + card["width"], (author, card)
    page.check("input[name=kind][value=parent]")
    page.fill("input[name=name]", "李雨涵的妈妈")
    page.fill("input[name=new_barcode] >> nth=0", "D9001")
    page.fill("input[name=new_title] >> nth=0", "夏洛的网")
    page.fill("input[name=new_author] >> nth=0", "E. B. 怀特")
    page.click("#donation-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "李雨涵的妈妈" in page.inner_text(".flash")
    book = demo.query("SELECT title, author, donor FROM items WHERE barcode = 'D9001'")
    assert [dict(r) for r in book] == [
        {"title": "夏洛的网", "author": "E. B. 怀特", "donor": "李雨涵的妈妈"}
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
