"""The demo school on a running daemon, and a librarian logged in to it in headless Chromium.

Shared by the librarian's page tests (tests/web/test_librarian_*.py): one demo school a module,
made for today so that its overdue loans are overdue now, with its pages on a free loopback port.
"""

from __future__ import annotations

import dataclasses
import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf

from kiosk.circulation.demo import make_demo
from kiosk.daemon.app import Daemon
from web.helpers import PASSWORD, running

A4 = (595, 842)  # points, as Chromium writes an A4 page (210 x 297 mm)


@dataclasses.dataclass
class Demo:
    """The running demo school: its pages' address and its database (read here, never written)."""

    url: str
    db: Path
    daemon: Daemon

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Read the store as it is now (a connection of its own, read-only)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()


def demo_school(folder: Path) -> Iterator[Demo]:
    """Make the demo school in `folder` and run a daemon on it (FIFO scans, pages on loopback)."""
    settings, _ = make_demo(folder / "demo")
    fifo = folder / "scans"
    os.mkfifo(fifo)
    settings = dataclasses.replace(
        settings,
        scanner=dataclasses.replace(settings.scanner, source=f"fifo:{fifo}"),
        indicator=dataclasses.replace(settings.indicator, kind="none"),
        web=dataclasses.replace(settings.web, enabled=True, listen="127.0.0.1:0"),
    )
    with running(Daemon(settings)) as daemon, open(fifo, "w"):
        yield Demo(daemon.web.url, Path(settings.resolve(settings.store.path)), daemon)


def log_in(browser: Any, url: str) -> Any:
    """Set the librarian's first password and log in; return the page (window.print recorded)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    # A print dialog is the printer's edge: the page's call is counted, nothing is printed.
    page.add_init_script("window.__prints = 0; window.print = () => { window.__prints += 1; };")
    page.goto(url + "/admin/")
    page.fill("input[name=user]", "librarian")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=again]", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("input[name=user]", "librarian")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def pdf_of(page: Any) -> pypdf.PdfReader:
    """Print the page as Chromium prints it (its own @page size) and read the PDF back."""
    return pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))


def page_sizes(reader: pypdf.PdfReader) -> set[tuple[int, int]]:
    """Return the sizes of a PDF's pages, in whole points."""
    return {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages}
