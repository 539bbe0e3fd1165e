"""`kiosk run` and `kiosk demo` as an installer first meets them: refusals that say what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # `kiosk run` processes

KIOSK = [sys.executable, "-m", "kiosk"]
ENV = {**os.environ, "KIOSK_LANG": "en"}


def test_run_refuses_a_store_that_does_not_exist_and_creates_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[store]\npath = "data/kiosk.db"\n[scanner]\nsource = "none:"\n', "utf-8")
    result = subprocess.run(
        [*KIOSK, "--config", str(cfg), "run"], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert result.returncode == 1
    store = tmp_path / "data" / "kiosk.db"
    assert result.stderr == f"error: {store}: no store here yet; run `kiosk init` first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_demo_refuses_a_port_that_is_taken_and_says_how_to_choose_another(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*KIOSK, "demo", "--dir", str(tmp_path / "demo"), "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot show the pages on 127.0.0.1:{port}: ")
    assert result.stderr.endswith(
        "choose another port with --listen, like --listen 127.0.0.1:8081\n"
    )
    assert not (tmp_path / "demo").exists()  # refused before anything was made


def test_demo_introduces_the_page_address_and_serves_it_there(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*KIOSK, "demo", "--dir", str(tmp_path / "demo"), "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "http://" in line:
                break
        assert lines[-1] == (
            f"The touchscreen page: http://127.0.0.1:{port}/ (desk: /desk/, librarian: /admin/)"
        )
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the demo's pages did not come up"
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(15)


def test_demo_rejects_a_listen_address_without_a_port(tmp_path: Path) -> None:
    result = subprocess.run(
        [*KIOSK, "demo", "--dir", str(tmp_path / "demo"), "--listen", "localhost"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == ("error: --listen localhost: must be HOST:PORT, like 127.0.0.1:8080\n")
