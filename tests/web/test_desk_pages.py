"""The desk's own pages beside the keypad (a new book, stocktake and holds) on the kiosk's own
screen at 800x480, in Chromium on the running kiosk, the way a helper meets them: their card
tapped, the desk opened from the touchscreen, every button reached by touch (scrolling with the
wheel, never by a script), a refusal shown as one and the form keeping what was typed.
"""

from __future__ import annotations

from typing import Any

from web import test_desk_scenes
from web.chromium import ARTIFACTS

# The helper's desk of test_desk_scenes: its books, and the kiosk's screen with the desk open.
desk, screen = test_desk_scenes.desk, test_desk_scenes.screen

ISBN = "9787020042494"


def in_view(page: Any, selector: str) -> bool:
    """Say whether the element is wholly inside the window now (what a finger can touch)."""
    return bool(
        page.eval_on_selector(
            selector,
            "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0"
            " && r.bottom <= innerHeight && r.right <= innerWidth; }",
        )
    )


def touch(page: Any, selector: str) -> None:
    """Scroll with the wheel until the element is in the window, then tap its middle."""
    for _ in range(20):
        if in_view(page, selector):
            break
        page.mouse.move(400, 300)
        page.mouse.wheel(0, 200)
        page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert in_view(page, selector), f"{selector} cannot be reached on the screen"
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_helper_catalogues_a_new_book_on_the_kiosks_own_screen(
    screen: Any, desk: dict[str, Any]
) -> None:
    page = screen
    touch(page, "header a[href$='new-book']")
    page.wait_for_selector("input[name=isbn]")
    page.fill("input[name=isbn]", ISBN)
    page.press("input[name=isbn]", "Enter")
    page.wait_for_selector("input[name=title]")
    page.fill("input[name=title]", "骆驼祥子")
    page.fill("input[name=author]", "老舍")
    page.fill("input[name=barcode]", "NEW-0001")
    page.screenshot(path=str(ARTIFACTS / "desk-new-book-800x480.png"))
    touch(page, "form.new-book button.enter")
    page.wait_for_selector(".flash:not(.error)")
    assert page.inner_text(".flash") == "已上架：骆驼祥子（NEW-0001）。"
    row = desk["store"].query("SELECT title, author, isbn FROM items WHERE barcode = 'NEW-0001'")
    assert [dict(r) for r in row] == [{"title": "骆驼祥子", "author": "老舍", "isbn": ISBN}]
    assert page.errors == []


def test_stocktake_and_holds_keep_what_the_helper_typed_after_a_refusal(
    screen: Any, desk: dict[str, Any]
) -> None:
    page, store = screen, desk["store"]
    touch(page, "header a[href$='/collection/']")
    page.wait_for_selector("#hold-form")
    page.wait_for_load_state()  # its style sheet too: the styles are read below
    # No stocktake runs: the heading names the chore, it does not say one is under way.
    assert page.inner_text("#stocktake h2") == "图书盘点"
    assert "盘点中" not in page.inner_text("main")
    # The place names are drawn in the page's own font (a system font may have no Chinese).
    fonts = page.eval_on_selector_all(
        "main input, main select, main button", "es => es.map(e => getComputedStyle(e).fontFamily)"
    )
    assert fonts and all(f.startswith('"Kiosk Sans"') for f in fonts), fonts
    holds_before = store.value("SELECT count(*) FROM holds")
    # A hold for a student number mistyped: said as an error, both fields as typed.
    page.fill("#hold-form input[name=barcode]", "9787530215982")
    page.fill("#hold-form input[name=patron_id]", "S00")
    touch(page, "#hold-form button[type=submit]")
    page.wait_for_selector(".flash.error")
    page.wait_for_load_state()  # the answer's style sheet applied before its colour is read
    assert page.inner_text(".flash.error") == "没有这个学生。"
    assert page.eval_on_selector(".flash.error", "e => getComputedStyle(e).borderColor") == (
        "rgb(179, 38, 30)"
    )
    assert page.input_value("#hold-form input[name=barcode]") == "9787530215982"
    assert page.input_value("#hold-form input[name=patron_id]") == "S00"
    assert store.value("SELECT count(*) FROM holds") == holds_before
    # A damaged book's barcode mistyped: its note is not typed twice.
    page.fill("#damaged-form input[name=barcode]", "97875302159")
    page.fill("#damaged-form input[name=note]", "封面撕破了，第12页掉了")
    touch(page, "#damaged-form button[type=submit]")
    page.wait_for_selector(".flash.error:has-text('97875302159')")
    assert page.input_value("#damaged-form input[name=barcode]") == "97875302159"
    assert page.input_value("#damaged-form input[name=note]") == "封面撕破了，第12页掉了"
    assert page.input_value("#hold-form input[name=patron_id]") == ""  # the other form is clean
    page.screenshot(path=str(ARTIFACTS / "desk-collection-refused-800x480.png"))
    # Corrected, it is done, and the form is empty again for the next book.
    page.fill("#damaged-form input[name=barcode]", "9787020024759")
    touch(page, "#damaged-form button[type=submit]")
    page.wait_for_selector(".flash:not(.error)")
    assert page.input_value("#damaged-form input[name=note]") == ""
    status = store.value("SELECT status FROM items WHERE barcode = '9787020024759'")
    assert status == "damaged"
    # A refused form is answered 400 (the browser logs that); nothing else went wrong.
    assert [e for e in page.errors if "status of 400 (BAD REQUEST)" not in e] == []


def test_a_stocktake_started_at_the_desk_names_its_place_in_the_helpers_words(
    screen: Any, desk: dict[str, Any]
) -> None:
    page, store = screen, desk["store"]
    touch(page, "header a[href$='/collection/']")
    page.wait_for_selector("#stocktake select")
    page.select_option("#stocktake select", "library")
    assert page.inner_text("#stocktake select option:checked") == "图书馆"
    touch(page, "#stocktake button")
    page.wait_for_selector("#stocktake button[value=paused]")
    assert page.inner_text("#stocktake p b") == "图书馆"  # never the stored key, `library`
    assert store.value("SELECT location FROM stocktakes WHERE status = 'open'") == "library"
    page.goto(desk["url"] + "/desk/collection/?lang=en")
    assert page.inner_text("#stocktake p b") == "Library"
    page.screenshot(path=str(ARTIFACTS / "desk-collection-stocktake-800x480.png"))
    touch(page, "#stocktake button[value=paused]")
    page.wait_for_selector("#stocktake button[value=open]")
    assert store.value("SELECT status FROM stocktakes") == "paused"
