"""Book drifting (图书漂流) at the kiosk, in Chromium on a running daemon fed by its FIFO: child A
takes a drifting book (the screen says pass it on, no due date), child B takes it over (two hands
on the book's page), a scan with no card hands it in; the screen keeps to 800x480 and axe finds
nothing. And a donation recorded on the dashboard prints its thank-you certificate to PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pypdf

from kiosk.circulation.records import put_item, put_patron
from kiosk.circulation.service import Circulation
from kiosk.daemon.app import Daemon, open_store
from web.axe import assert_accessible
from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.helpers import fifo_settings, running, scan
from web.layout import problems
from web.test_collection_e2e import login

MING, YU = "0F00A1B2C3", "0F00A1B2C4"
SCHOOL = [
    ("S001", "王小明", 3, "三(2)班", MING),
    ("S002", "李雨涵", 3, "三(1)班", YU),
]
DRIFTER = ("D0001", "夏洛的网", "I712.85/3")
OTHERS = [
    ("9787020002207", "红楼梦", "I242.4/1"),
    ("9787535449450", "小王子", "I565.88/2"),
    ("9787530215982", "草房子", "I287.45/4"),
    ("9787020024759", "西游记", "I242.4/5"),
]


@contextmanager
def school(folder: Path) -> Iterator[dict[str, Any]]:
    """Run a daemon whose library has a drifting book; the screen's session waits a minute."""
    settings, fifo = fifo_settings(
        folder,
        kiosk={"session_timeout_s": 60.0, "session_after_result_s": 60.0, "school": "实验小学"},
    )
    store = open_store(settings)
    with store.write() as db:
        for pid, name, grade, cls, card in SCHOOL:
            row = {"id": pid, "name": name, "role": "student", "grade": grade, "class_name": cls}
            put_patron(db, row, [card], store.now())
        for barcode, title, call in [DRIFTER, *OTHERS]:
            put_item(db, {"barcode": barcode, "title": title, "call_number": call}, store.now())
    c = Circulation(store)
    assert c.set_drifting(DRIFTER[0], True, "librarian:admin").ok
    # 小明 has as many books as a student may borrow: a drifting book is taken all the same.
    assert c.checkout("S001", OTHERS[0][0]).ok and c.checkout("S001", OTHERS[1][0]).ok
    assert c.checkout("S001", OTHERS[2][0]).reason == "limit_reached"
    store.close()
    with running(Daemon(settings)) as daemon, open(fifo, "w") as fifo_out:
        yield {"url": daemon.web.url, "fifo": fifo_out, "daemon": daemon}


def open_screen(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(url + "/")
    wait_js(page, "window.kioskEvents && window.kioskEvents.length > 0")
    return page


def said(page: Any, words: str) -> None:
    wait_js(page, f"document.getElementById('last-message').textContent.includes({words!r})")


def hands(daemon: Daemon) -> list[tuple[str, bool]]:
    rows = daemon.store.query(
        "SELECT patron_id, ended_at FROM drift_hands WHERE item_barcode = ? "
        "ORDER BY taken_at, rowid",
        [DRIFTER[0]],
    )
    return [(r["patron_id"], r["ended_at"] is None) for r in rows]


def test_a_drifting_book_passes_from_hand_to_hand(browser: Any, tmp_path: Path) -> None:
    with school(tmp_path) as kiosk:
        daemon = kiosk["daemon"]
        screen = open_screen(browser, kiosk["url"])
        errors = watch_errors(screen)
        # Child A takes it: the screen says pass it on, and shows no due date.
        scan(kiosk, MING)
        wait_js(screen, "document.getElementById('patron-name').textContent === '小明'")
        scan(kiosk, DRIFTER[0])
        said(screen, "漂流书，看完传给同学吧！")
        last = screen.inner_text("#last")
        assert "夏洛的网" in last and "应还" not in last and "2026-" not in last
        # Not a loan: his list shows it beside the two books he borrowed, as 漂流书, no due date.
        wait_js(screen, "document.querySelectorAll('#loans li.drifting').length === 1")
        assert screen.locator("#loans li").count() == 3
        drifting = screen.inner_text("#loans li.drifting")
        assert "夏洛的网" in drifting and "漂流书" in drifting and "前还" not in drifting
        assert screen.locator("#loans li.drifting button.renew").count() == 0
        assert problems(screen) == []  # the answer fits the 800x480 screen
        screen.screenshot(path=str(ARTIFACTS / "drifting-taken-800x480.png"))
        assert_accessible(screen, "a drifting book taken")
        screen.click("#lang")
        said(screen, "A drifting book: pass it on when you've read it.")
        assert "Drifting book" in screen.inner_text("#loans li.drifting")
        assert problems(screen) == []
        screen.click("#lang")
        assert hands(daemon) == [("S001", True)]
        assert daemon.store.query(
            "SELECT count(*) AS n FROM loans WHERE item_barcode = ?", [DRIFTER[0]]
        ) == [{"n": 0}]
        # Child B takes it over from A: a second hand, A's ends.
        scan(kiosk, YU)
        wait_js(screen, "document.getElementById('patron-name').textContent === '雨涵'")
        scan(kiosk, DRIFTER[0])
        said(screen, "漂流书传到你手里了，看完传给同学吧！")
        # Now in 雨涵's list (her own session), and in nobody else's.
        wait_js(screen, "document.querySelectorAll('#loans li.drifting').length === 1")
        assert "夏洛的网" in screen.inner_text("#loans li.drifting")
        assert "应还" not in screen.inner_text("#last")
        assert hands(daemon) == [("S001", False), ("S002", True)]
        # The book's page: who has it now, how many hands, and no shelf.
        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        login(admin, kiosk["url"])
        admin.goto(f"{kiosk['url']}/admin/items/{DRIFTER[0]}")
        drift = admin.inner_text("#item-drift")
        assert "现在在 李雨涵（三(1)班）手中" in drift and "已经过 2 人之手" in drift
        assert "书架：漂流中" in admin.inner_text("#item-donor")
        assert_accessible(admin, "a drifting book's page")
        # Handed in with no card (at the kiosk, as at the desk): nobody has it, it drifts on.
        screen.click("#done")
        screen.wait_for_selector("#idle:not([hidden])", timeout=5000)
        scan(kiosk, DRIFTER[0])
        wait_js(
            screen,
            "document.getElementById('answer-message').textContent.includes('漂流书已交回，谢谢！')",
        )
        assert hands(daemon) == [("S001", False), ("S002", False)]
        admin.reload()
        drift = admin.inner_text("#item-drift")
        assert "现在没有人拿着它" in drift and "已经过 2 人之手" in drift
        assert errors == []
        admin.close()
        screen.close()


def test_a_donation_on_the_dashboard_prints_its_certificate(browser: Any, tmp_path: Path) -> None:
    with school(tmp_path) as kiosk:
        url = kiosk["url"]
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        login(page, url)
        page.goto(url + "/admin/donations/")
        page.check("#donation-form input[name=kind][value=child]")
        page.fill("#donation-form input[name=child]", "wxm")  # pinyin initials, then pick
        wait_js(page, "document.querySelectorAll('#child-names option').length > 0")
        picked = page.eval_on_selector("#child-names option", "o => o.value")
        assert picked.startswith("王小明")
        page.fill("#donation-form input[name=child]", picked)
        page.fill("#donation-form textarea[name=barcodes]", "9787020002207\n9787535449450")
        page.locator("#donation-form input[name=new_barcode]").first.fill("D0100")
        page.locator("#donation-form input[name=new_title]").first.fill("城南旧事")
        page.click("#donation-form button[type=submit]")
        page.wait_for_selector(".flash")
        assert "已记录捐赠：王小明 捐赠图书 3 本。" in page.inner_text(".flash")
        # A second donor, a parent, the same day: their own certificate page.
        page.check("#donation-form input[name=kind][value=parent]")
        page.fill("#donation-form input[name=name]", "李妈妈")
        page.fill("#donation-form textarea[name=barcodes]", "9787530215982")
        page.click("#donation-form button[type=submit]")
        page.wait_for_selector(".flash >> text=李妈妈")
        assert page.locator("#donations tr").count() == 3  # the header and two donations
        assert_accessible(page, "the donations page")
        page.goto(f"{url}/admin/items/D0100")
        assert "捐赠：王小明" in page.inner_text("#item-donor")
        assert_accessible(page, "a donated book's page")
        page.goto(f"{url}/admin/reports/?period=year")
        assert page.inner_text("#donated-books") == "4"
        assert_accessible(page, "the year's reading figures with donations")
        for size, points in (("A4", (595, 842)), ("A5", (420, 595))):
            page.goto(f"{url}/admin/donations/certificates?size={size}")
            printed = page.pdf(prefer_css_page_size=True)
            (ARTIFACTS / f"donation-certificates-{size}.pdf").write_bytes(printed)
            pdf = pypdf.PdfReader(io.BytesIO(printed))
            assert len(pdf.pages) == 2, size  # one donor a page
            sizes = {
                (round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pdf.pages
            }
            assert sizes == {points}, size
            pages = [p.extract_text().replace(" ", "").replace("\n", "") for p in pdf.pages]
            ming = next(t for t in pages if "王小明" in t)
            assert "王小明向实验小学图书馆捐赠图书3本" in ming
            assert all(t in ming for t in ("《红楼梦》", "《小王子》", "《城南旧事》"))
            assert ming.index("感谢信") < ming.index("Thankyou")  # Chinese first
            assert "王小明gave3bookstothelibraryof实验小学" in ming
            mum = next(t for t in pages if "李妈妈" in t)
            assert "李妈妈向实验小学图书馆捐赠图书1本" in mum and "《草房子》" in mum
            assert "王小明" not in mum
            assert "打印" not in "".join(pages) and "Print" not in "".join(pages)  # no buttons
            assert_accessible(page, f"the certificates on {size}")
        page.close()


def test_find_a_book_shows_a_drifting_copy_on_no_shelf(browser: Any, tmp_path: Path) -> None:
    with school(tmp_path) as kiosk:
        screen = open_screen(browser, kiosk["url"])
        errors = watch_errors(screen)
        # Its one copy drifts: 漂流中, not on the shelf, no shelf to walk to.
        screen.click("#find-open")
        screen.wait_for_selector("#find:not([hidden])")
        for letter in "xldw":  # 夏洛的网 in pinyin initials
            screen.click(f'#keyboard button[data-key="{letter}"]')
        wait_js(screen, "document.querySelectorAll('#find-results li').length === 1")
        row = screen.locator("#find-results li").first
        where = row.locator(".where").inner_text()
        assert "漂流中：1 本" in where and "书架上有" not in where
        assert row.locator(".shelf").count() == 0 and "I712.85/3" not in row.inner_text()
        assert row.locator("button.want").count() == 0
        assert problems(screen) == []
        assert_accessible(screen, "find: a drifting book")
        screen.click("#find-close")
        # A second copy on its shelf: one on the shelf, one drifting, and the shelf shown.
        daemon = kiosk["daemon"]
        with daemon.store.write() as db:
            row_ = {"barcode": "D0002", "title": DRIFTER[1], "call_number": DRIFTER[2]}
            put_item(db, row_, daemon.store.now())
        screen.click("#find-open")
        for letter in "xldw":
            screen.click(f'#keyboard button[data-key="{letter}"]')
        wait_js(
            screen,
            "[...document.querySelectorAll('#find-results li .where')]"
            ".some((w) => w.innerText.includes('书架上有：1 本'))",
        )
        where = screen.locator("#find-results li .where").first.inner_text()
        assert "书架上有：1 本" in where and "漂流中：1 本" in where
        assert "I712.85/3" in screen.locator("#find-results li .shelf").first.inner_text()
        # The read-only catalogue page says the same.
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        c = Circulation(daemon.store)
        assert c.set_drifting("D0002", True, "librarian:admin").ok
        page.goto(kiosk["url"] + "/catalogue?q=xldw")
        body = page.inner_text("main")
        assert "漂流中：2 本" in body and "书架上有" not in body and "I712.85/3" not in body
        assert_accessible(page, "the catalogue with a drifting book")
        assert errors == []
        page.close()
        screen.close()
