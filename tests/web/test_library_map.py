"""The library map: the librarian draws the shelves once on a grid of named boxes in the
dashboard, and a search (the kiosk's screen at 800x480, /catalogue, the desk) shows on which
shelf a title stands and where that shelf is. A box that makes no sense is said, the typed
boxes stay to be put right, and the store keeps the map it had.
"""

from __future__ import annotations

from typing import Any

from web.axe import assert_accessible
from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.layout import problems
from web.test_covers import librarian, school  # noqa: F401  (the running school, logged in)
from web.test_screen_states import set_language


def drawn(kiosk: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    rows = kiosk["daemon"].store.query("SELECT * FROM shelf_boxes ORDER BY row, col")
    return [(r["name"], r["row"], r["col"], r["classes"]) for r in rows]


def map_events(kiosk: dict[str, Any]) -> int:
    store = kiosk["daemon"].store
    return int(store.value("SELECT count(*) FROM events WHERE type = 'library_map_set'"))


def test_a_box_that_makes_no_sense_is_said_and_nothing_changes(
    librarian: Any,  # noqa: F811
    school: dict[str, Any],  # noqa: F811
) -> None:
    page = librarian
    page.goto(school["url"] + "/admin/map?lang=en")
    assert page.inner_text("h1") == "Library map"
    page.fill("input[name=name-0-1]", "Stories")
    page.fill("input[name=classes-0-1]", "I, W")
    page.click("#library-map button[type=submit]")
    assert page.inner_text(".flash") == "W is not a 中图法 class: use letters like I, Q or Z."
    assert page.input_value("input[name=name-0-1]") == "Stories"  # kept, to be put right
    page.fill("input[name=classes-0-1]", "I")
    page.fill("input[name=classes-2-0]", "Q")
    page.click("#library-map button[type=submit]")
    said = "The box in row 3, column 1 has classes but no name."
    assert page.inner_text(".flash") == said
    assert drawn(school) == [] and map_events(school) == 0
    assert_accessible(page, "library map, refused (en)")


def test_the_librarian_draws_the_shelves_and_a_search_shows_the_place(
    browser: Any,
    librarian: Any,  # noqa: F811
    school: dict[str, Any],  # noqa: F811
) -> None:
    page = librarian
    page.goto(school["url"] + "/admin/map?lang=zh_CN")
    page.fill("input[name=name-0-1]", "故事书架")
    page.fill("input[name=classes-0-1]", "i j")
    page.fill("input[name=name-2-0]", "科学角")
    page.fill("input[name=classes-2-0]", "N，Q")
    page.fill("input[name=name-3-5]", "百科")
    page.fill("input[name=classes-3-5]", "Z")
    page.click("#library-map button[type=submit]")
    assert page.inner_text(".flash") == "图书馆地图已保存。"
    assert drawn(school) == [("故事书架", 0, 1, "IJ"), ("科学角", 2, 0, "NQ"), ("百科", 3, 5, "Z")]
    assert map_events(school) == 1
    assert page.input_value("input[name=name-2-0]") == "科学角"
    assert_accessible(page, "library map, saved (zh)")
    page.screenshot(path=str(ARTIFACTS / "map-drawn.png"))

    screen = browser.new_page(viewport={"width": 800, "height": 480})
    errors = watch_errors(screen)
    screen.goto(school["url"] + "/")
    wait_js(screen, "window.kioskEvents && window.kioskEvents.length > 0")
    screen.click("#find-open")
    screen.wait_for_selector("#find:not([hidden])")
    for letter in "kl":
        screen.click(f'#keyboard button[data-key="{letter}"]')
    wait_js(screen, "document.querySelectorAll('#find-results li .place').length === 1")
    row = screen.locator("#find-results li", has=screen.locator(".place"))
    assert row.locator(".t").inner_text().startswith("恐龙百科全书")
    assert row.locator(".place").inner_text() == "位置：科学角"
    # The map drawn small: three boxes, the shelf's filled in at row 3, column 1.
    assert row.locator("svg.map rect").count() == 3
    here = row.locator("svg.map rect.here")
    assert (here.get_attribute("x"), here.get_attribute("y")) == ("0.1", "2.1")
    found = []
    for lang in ("zh", "en"):
        set_language(screen, lang)
        screen.screenshot(path=str(ARTIFACTS / f"map-find-{lang}.png"))
        found += [f"{lang}: {p}" for p in problems(screen)]
        assert_accessible(screen, f"search with a place ({lang})")
    assert row.locator(".place").inner_text() == "Place: 科学角"
    assert not found, "\n".join(found)
    assert errors == []
    screen.close()

    cat = browser.new_page(viewport={"width": 1024, "height": 600})
    cat.goto(school["url"] + "/catalogue?lang=en&q=lwm")
    shelf = cat.locator("table.catalogue-results tbody td").nth(3)
    assert shelf.locator(".place").inner_text() == "Place: 故事书架"
    here = shelf.locator("svg.map rect.here")
    assert (here.get_attribute("x"), here.get_attribute("y")) == ("1.1", "0.1")
    assert_accessible(cat, "/catalogue with a place (en)")
    cat.close()
    # The desk shows the same place (here the librarian's desk, logged in).
    page.goto(school["url"] + "/desk/?lang=zh_CN&q=lwm")
    assert page.inner_text("table.found.books td.shelf .place") == "位置：故事书架"
    assert_accessible(page, "desk with a place (zh)")
