"""axe-core in the page tests: the accessibility rules run on a page as it is shown now.

axe-core comes from the axe-playwright-python package (its axe.min.js ships in the wheel, so
nothing is fetched); the page's CSP does not stop it, since Playwright evaluates through the
browser's debugging protocol.
"""

from __future__ import annotations

from typing import Any


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Return axe-core's violations on the page now (rule id, impact, help, the nodes' targets)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v.get("help"),
            "targets": [n.get("target") for n in v.get("nodes", [])],
        }
        for v in results.response["violations"]
    ]
