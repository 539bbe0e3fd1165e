"""axe-core on every page of the librarian's dashboard, on the demo school in Chromium, in both
languages: every GET page the app serves under /admin (and the print views) has no violation.
A new page is checked as soon as it exists: the test reads the app's own routes, and fails on
one it cannot visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from web.axe import describe, violations
from web.librarian import Demo, demo_school, log_in

# Routes that are not pages a person reads: downloads, data for scripts, the live stream, the
# fragment the index reloads, old addresses that redirect, and the pages before logging in.
NOT_PAGES = {
    "admin.export",
    "admin.export_xlsx",
    "admin.patrons_found",
    "admin.import_progress",
    "admin.live",
    "admin.today",
    "admin.overdue",
    "admin.overdue_print",
    "catalogue.sheets_css",
    "reports.export",
    "auth.setup",
    "auth.login",
    "admin.import_job",  # a page of a running import: tests/web/test_catalogue_import.py
    "admin.import_rejects",  # a download of the rows an import left out
    "admin.import_map",  # needs an upload waiting: axe runs on it in test_catalogue_print.py
    "reading.export",  # the list as an Excel download
    "reading.stars.report_export",  # the festival report as an Excel download
    "reading.file_map",  # needs a sheet waiting: axe runs on it in test_reading_file.py
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from demo_school(tmp_path_factory.mktemp("axe"))


@pytest.fixture(scope="module")
def page(browser: Any, demo: Demo) -> Any:
    return log_in(browser, demo.url)


def _addresses(demo: Demo) -> list[str]:
    """Return an address for every dashboard page, filled in from the demo school."""
    student = demo.query("SELECT id FROM patrons WHERE role = 'student' ORDER BY id LIMIT 1")[0][0]
    book = demo.query("SELECT barcode FROM items ORDER BY barcode LIMIT 1")[0][0]
    stocktake = demo.query("SELECT id FROM stocktakes LIMIT 1")[0][0]
    reading_list = demo.query("SELECT id FROM reading_lists LIMIT 1")[0][0]
    star_rules = demo.query("SELECT id FROM star_rules LIMIT 1")[0][0]
    fill = {
        "rules_id": star_rules,
        "list_id": reading_list,
        "patron_id": student,
        "barcode": book,
        "stocktake_id": stocktake,
        "which": ["lost", "damaged", "in_repair", "withdrawn"],
        "key": ["magazine"],  # an item type's form
    }
    app = demo.daemon.web.app  # type: ignore[union-attr]
    found: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not rule.rule.startswith("/admin"):
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        missing = [a for a in rule.arguments if a not in fill]
        assert not missing, f"{rule.rule}: no value to visit it with"
        choices = [dict()]  # type: list[dict[str, str]]
        for a in rule.arguments:
            values = fill[a] if isinstance(fill[a], list) else [fill[a]]
            choices = [{**c, a: v} for c in choices for v in values]
        for c in choices:
            path = rule.rule
            for k, v in c.items():
                path = path.replace(f"<{k}>", v)
            found.append(path)
    return found


def book_barcodes(demo: Demo, count: int) -> str:
    """Return the barcodes of a few books of the demo school, one a line."""
    rows = demo.query("SELECT barcode FROM items ORDER BY barcode LIMIT ?", [count])
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_dashboard_page_has_no_axe_violation(page: Any, demo: Demo, lang: str) -> None:
    page.goto(f"{demo.url}/admin/?lang={lang}")  # the language stays for the pages after
    if not demo.query("SELECT 1 FROM stocktakes"):
        # A stocktake, so that its report and its question have a page.
        page.goto(demo.url + "/admin/collection/")
        page.fill("#start-stocktake input[name=location]", "library")
        page.click("#start-stocktake button[type=submit]")
        page.wait_for_selector(".flash")
    if not demo.query("SELECT 1 FROM reading_lists"):
        # A reading list, so that its page and its bulletin have a page.
        page.goto(demo.url + "/admin/reading/")
        page.fill("#new-list input[name=name]", "三年级推荐书目")
        page.select_option("#new-list select[name=grade]", index=3)
        page.click("#new-list button[type=submit]")
        page.wait_for_selector(".flash")
    if not demo.query("SELECT 1 FROM star_rules"):
        # Reading stars of this month, so that their pages, prints and report have a page.
        page.goto(demo.url + "/admin/reports/stars/")
        page.fill("#new-stars input[name=month]", "2026-11")
        page.click("#new-stars button[type=submit]")
    if not demo.query("SELECT 1 FROM donations"):
        # A donation, so that the donations list and the certificates have something to show.
        page.goto(demo.url + "/admin/donations/")
        page.check("#donation-form input[name=kind][value=parent]")
        page.fill("#donation-form input[name=name]", "王爸爸")
        page.fill("#donation-form textarea[name=barcodes]", book_barcodes(demo, 2))
        page.click("#donation-form button[type=submit]")
        page.wait_for_selector(".flash")
    addresses = _addresses(demo)
    assert len(addresses) > 40
    found = {}
    for path in addresses:
        response = page.goto(demo.url + path)
        assert response.status == 200, path
        assert page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh_CN" else "en"), path
        seen = violations(page)
        if seen:
            found[path] = describe(seen)
    assert not found, "\n".join(f"{p}:\n{v}" for p, v in found.items())
