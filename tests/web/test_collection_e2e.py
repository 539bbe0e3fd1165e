"""The collection in a real Chromium: a stocktake started on the dashboard, scanned at the kiosk
(FIFO), its report fixed with one click, the missing book marked lost, compensated, found again.

The browser and the running kiosk (its school of four and five books) are fixtures of conftest.py.
"""

from __future__ import annotations

from typing import Any

from web.chromium import ARTIFACTS, wait_js, watch_errors
from web.helpers import PASSWORD, scan

RED, PRINCE, WEB = "9787020002207", "9787535449450", "9787544270878"
GRASS, HELPER, JOURNEY = "9787530215982", "0F00AAAA01", "9787020024759"


def login(page: Any, url: str) -> None:
    page.goto(url + "/admin/")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=again]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=user]", "librarian")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/")


def test_a_stocktake_from_the_dashboard_to_the_lost_list(
    browser: Any, kiosk: dict[str, Any]
) -> None:
    url = kiosk["url"]
    admin = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = watch_errors(admin)
    login(admin, url)
    admin.click("nav.top >> text=馆藏管理")
    admin.fill("#start-stocktake input[name=location]", "library")
    admin.click("#start-stocktake button[type=submit]")
    assert "清点进行中" in admin.inner_text(".flash")

    screen = browser.new_page(viewport={"width": 1024, "height": 600})
    screen.goto(url + "/")
    wait_js(screen, "window.kioskEvents && window.kioskEvents.length > 0")
    # A helper counts at the kiosk: their card opens the desk, whose screen shows each result.
    scan(kiosk, HELPER, WEB)  # on loan to Tom, yet on the shelf
    screen.wait_for_selector("#last.warning", timeout=5000)
    assert "这本书记录为借出" in screen.inner_text("#last-message")
    scan(kiosk, RED)
    screen.wait_for_selector("#last.ok", timeout=5000)
    assert screen.inner_text("#last-message") == "已清点：红楼梦。"
    assert kiosk["daemon"].circulation.open_loan(WEB) is not None  # counted, not returned

    admin.reload()
    admin.click("#stocktake >> text=报告")
    assert admin.inner_text("#counts a[data-status=missing]") == "缺失 2"
    assert admin.inner_text("#counts a[data-status=on_loan_found]") == "借出却在架 1"
    admin.screenshot(path=str(ARTIFACTS / "collection-report-1280x800.png"), full_page=True)
    admin.click(f"tr[data-barcode='{WEB}'] >> text=办理还书")
    assert "已还书：Charlotte's Web。" in admin.inner_text(".flash")
    assert kiosk["daemon"].circulation.open_loan(WEB) is None
    admin.click("text=把缺失的书登记为丢失")
    assert admin.inner_text("#missing").splitlines() == [
        f"{JOURNEY}\t西游记\t",
        f"{PRINCE}\t小王子\t",
    ]
    admin.click("#confirm")
    assert "已登记为丢失的书：2 本。" in admin.inner_text(".flash")
    row = admin.locator(f"#list tr[data-barcode='{PRINCE}']")
    row.locator("select[name=kind]").select_option("money")
    row.locator("input[name=amount]").fill("20")
    row.locator("form.compensate button[type=submit]").click()
    assert "已登记赔偿。" in admin.inner_text(".flash")
    assert admin.inner_text(f"#list tr[data-barcode='{PRINCE}'] .comp") == "已赔款 20"
    admin.goto(url + "/admin/collection/")
    admin.click("#stocktake >> text=结束")
    assert "清点已结束。" in admin.inner_text(".flash")
    # The end of the stocktake leaves the helper's desk open, out of counting: its scans
    # return books again.
    screen.wait_for_selector("body:not(.is-counting) #open-desk:not([hidden])", timeout=5000)

    scan(kiosk, PRINCE)  # the lost book turns up at the helper's desk
    screen.wait_for_selector("#last.ok", timeout=5000)
    wait_js(screen, "document.getElementById('last-title').textContent === '小王子'")
    assert "这本丢失的书找到了" in screen.inner_text("#last-message")
    admin.goto(url + "/admin/collection/list/lost")
    assert PRINCE not in admin.inner_text("#list") and JOURNEY in admin.inner_text("#list")

    # 王小明 asks for 草房子, out with 李雨涵; its return says "hold shelf", then he is told.
    admin.goto(url + "/admin/collection/holds")
    admin.fill("#hold-form input[name=barcode]", GRASS)
    admin.fill("#hold-form input[name=patron_id]", "S001")
    admin.click("#hold-form button[type=submit]")
    assert "预约成功。" in admin.inner_text(".flash")
    scan(kiosk, GRASS)
    screen.wait_for_selector("#last.warning", timeout=5000)
    assert "请把这本书放到预约书架上，留给王小明（三(2)班）" in screen.inner_text("#last-message")
    screen.click("#done")
    screen.wait_for_selector("#idle:not([hidden])", timeout=3000)
    scan(kiosk, "0F00A1B2C3")
    screen.wait_for_selector("#session:not([hidden])", timeout=5000)
    assert (
        screen.inner_text("#last-message") == "小明你好！你预约的《草房子》已经在预约书架上等你了。"
    )
    screen.screenshot(path=str(ARTIFACTS / "collection-hold-waiting-1024x600.png"))
    screen.click("#done")

    # Tom lost his card: replaced in one step; the old card is refused on the screen.
    admin.goto(url + "/admin/collection/year")
    admin.fill("#card-form input[name=patron_id]", "S003")
    admin.fill("#card-form input[name=old]", "0F00A1B2C5")
    admin.fill("#card-form input[name=new]", "0F00A1B2D9")
    admin.click("#card-form button[type=submit]")
    assert "已补办新卡：旧卡从现在起不能再用。" in admin.inner_text(".flash")
    scan(kiosk, "0F00A1B2D9")
    wait_js(screen, "document.getElementById('patron-name').textContent === 'Tom'")
    screen.click("#done")
    # The new school year from the page: the dry run, then the promotion.
    assert "三(2)班 → 四(2)班" in admin.inner_text("#promotion")
    admin.screenshot(path=str(ARTIFACTS / "collection-year-1280x800.png"), full_page=True)
    admin.click("#promote")
    assert "将把 4 名学生升一年级，0 名毕业生离校。" in admin.inner_text("#promote-summary")
    admin.click("#confirm")
    assert "新学年已开始：各班已升级。" in admin.inner_text(".flash")
    assert kiosk["daemon"].circulation.patron("S001").class_name == "四(2)班"  # type: ignore[union-attr]
    assert errors == []
    admin.close()
    screen.close()
