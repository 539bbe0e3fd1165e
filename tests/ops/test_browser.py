"""The touchscreen relauncher: finds chromium-browser or chromium, and starts it again on exit.

Runs the real script with the real Debian `chromium`. In this headless test machine there is no
display, so Chromium exits at once, like a crash: exactly the case the relauncher is for. Its
`sleep` is the test's: it notes the pauses, so the tests wait for restarts, not for seconds.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # Chromium

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "systemd/kiosk-browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[str]:
    """A page served on loopback, standing for the kiosk's touchscreen page."""
    (tmp_path / "index.html").write_text("<p>kiosk</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def tools(folder: Path, *browser_names: str) -> Path:
    """A PATH folder with the shell tools the script uses and the browser under these names.

    `sleep` writes each pause it is asked for into `slept` and returns at once; the second one
    lasts until the test ends the script: the test waits for restarts, not for seconds.
    """
    folder.mkdir()
    for tool in ("sh", "curl", "date", "rm"):
        found = shutil.which(tool)
        assert found, tool
        (folder / tool).symlink_to(found)
    real_sleep = shutil.which("sleep")
    assert real_sleep
    fake = folder / "sleep"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$1" >> "${0%/*}/slept"\n'
        f'[ -e "${{0%/*}}/slept-once" ] && exec {real_sleep} 600\n'
        ': > "${0%/*}/slept-once"\n'
    )
    fake.chmod(0o755)
    for name in browser_names:
        assert CHROMIUM
        (folder / name).symlink_to(CHROMIUM)
    return folder


def run_until(path_dir: Path, url: str, pauses: int, runtime: Path) -> tuple[int | None, str]:
    """Run the script until it pauses `pauses` times or exits; return its code (None: running)."""
    proc = subprocess.Popen(
        ["/bin/sh", str(SCRIPT), url],
        env={"PATH": str(path_dir), "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    slept = path_dir / "slept"
    deadline = time.monotonic() + 30  # only for failing: each restart is a Chromium start
    while proc.poll() is None and not (slept.exists() and len(slept.read_text().split()) >= pauses):
        assert time.monotonic() < deadline, f"the script did not pause {pauses} times"
        time.sleep(0.05)
    code = proc.poll()
    if code is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    assert proc.stderr is not None
    return code, proc.stderr.read()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")
@pytest.mark.parametrize(
    ("installed", "name"),
    [
        (["chromium-browser"], "chromium-browser"),  # Raspberry Pi OS
        (["chromium", "chromium-browser"], "chromium-browser"),  # both: Raspberry Pi's own build
    ],
)
def test_it_finds_the_browser_by_either_name(
    tmp_path: Path, page: str, installed: list[str], name: str
) -> None:
    path_dir = tools(tmp_path / "bin", *installed)
    code, err = run_until(path_dir, page, 1, tmp_path)
    assert code is None, err
    ours = [line for line in err.splitlines() if line.startswith("kiosk-browser: ")]
    assert ours[0].startswith(f"kiosk-browser: {path_dir / name} exited with status "), err


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")
def test_a_browser_that_exits_is_started_again_ever_more_slowly(tmp_path: Path, page: str) -> None:
    path_dir = tools(tmp_path / "bin", "chromium")  # Debian's name
    code, err = run_until(path_dir, page, 2, tmp_path)
    assert code is None, err  # still running: it never gives up
    restarts = [line for line in err.splitlines() if line.startswith("kiosk-browser: ")]
    assert len(restarts) == 2, err
    assert restarts[0].startswith(f"kiosk-browser: {path_dir / 'chromium'} exited with status ")
    # Crashing at once again and again: it waits longer each time (4 s, then 8 s, ...).
    assert restarts[0].endswith("starting it again in 4 s")
    assert restarts[1].endswith("starting it again in 8 s")
    assert (path_dir / "slept").read_text().split() == ["4", "8"]  # and it pauses that long


def test_no_browser_installed_says_what_to_install(tmp_path: Path, page: str) -> None:
    code, err = run_until(tools(tmp_path / "bin"), page, 1, tmp_path)
    assert code == 1
    assert err == (
        "kiosk-browser: neither chromium-browser nor chromium is installed; "
        "run: sudo apt-get install chromium-browser\n"
    )
