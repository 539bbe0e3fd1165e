"""A hub process starts cleanly: its log says where it serves, with no traceback."""

from __future__ import annotations

from pathlib import Path

from .conftest import Hub, add_school, wait_until


def test_the_hub_logs_where_it_serves_and_no_logging_error(hub: Hub) -> None:
    log = hub.folder / "hub.log"
    serving = f"hub serving on http://127.0.0.1:{hub.port} with 8 threads"
    wait_until(lambda: serving in log.read_text(encoding="utf-8"), 10, "the hub's start line")
    text = log.read_text(encoding="utf-8")
    assert "Logging error" not in text and "Traceback" not in text, text


def _threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def test_the_hub_serves_with_the_threads_web_threads_sets(tmp_path: Path) -> None:
    """`[web] threads` sizes the hub's pool as it does the kiosk's (it was always 4)."""
    counts = {}
    for n in (3, 9):
        h = Hub(tmp_path / f"hub{n}", web=f"threads = {n}")
        h.folder.mkdir()
        s = h.store()
        add_school(s)
        s.close()
        h.start()
        try:
            serving = f"hub serving on http://127.0.0.1:{h.port} with {n} threads"
            log = h.folder / "hub.log"
            wait_until(lambda s=serving, f=log: s in f.read_text("utf-8"), 10, "the start line")
            assert h.proc is not None
            counts[n] = _threads(h.proc.pid)
        finally:
            h.stop()
    # Everything else the process runs is the same in both: the difference is the pool.
    assert counts[9] - counts[3] == 6, counts
