"""axe-core in the page tests: run it on an open Playwright page and say what it found.

axe-core comes from the `axe-playwright-python` package (dev extra), which ships `axe.min.js`
in the wheel: nothing is fetched at test time, and it runs in Debian's chromium like every other
page test. The script goes in through `page.evaluate` (the DevTools protocol), which the pages'
CSP does not block. Use `assert_accessible(page, "what state")` after the page shows the state.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()


def violations(page: Any, context: Any = None) -> list[dict[str, Any]]:
    """Return axe-core's violations on the page as shown now (hidden parts are not checked)."""
    result = _AXE.run(page, context=context)
    return list(result.response["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    """Say each violation in a line: its rule, its impact and the elements it names."""
    lines = []
    for v in found:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "", context: Any = None) -> None:
    """Fail with axe-core's findings unless the page, as shown now, has none."""
    found = violations(page, context)
    assert not found, f"axe-core on {where or page.url}:\n{describe(found)}"
