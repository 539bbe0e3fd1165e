"""A hub process starts cleanly: its log says where it serves, with no traceback."""

from __future__ import annotations

from .conftest import Hub, wait_until


def test_the_hub_logs_where_it_serves_and_no_logging_error(hub: Hub) -> None:
    log = hub.folder / "hub.log"
    serving = f"hub serving on http://127.0.0.1:{hub.port}"
    wait_until(lambda: serving in log.read_text(encoding="utf-8"), 10, "the hub's start line")
    text = log.read_text(encoding="utf-8")
    assert "Logging error" not in text and "Traceback" not in text, text
