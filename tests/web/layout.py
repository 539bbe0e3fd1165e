"""Layout checks of a page as shown now, for the touchscreen's size tests.

`problems(page)` returns what a child would meet: text drawn over other text, the page
scrolling, a title cut to an ellipsis under `MIN_CHARS` characters, a message, button or heading
cut off by the screen or its box, and not exactly one visible h1. Each problem is one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIN_CHARS = 8

# One script, run with page.evaluate (the pages' CSP forbids eval in the page itself).
CHECK = (Path(__file__).parent / "layout.js").read_text(encoding="utf-8")


def problems(page: Any) -> list[str]:
    """Return the layout problems of the page as shown now, one line each."""
    return list(page.evaluate(CHECK, MIN_CHARS))
