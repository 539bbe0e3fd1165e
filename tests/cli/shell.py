"""The command line as the IT person meets it: the small school's config, a command in English
(in this process) or on a Chinese terminal (in a process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kiosk.circulation.store import Store
from kiosk.cli import main

KIOSK = [sys.executable, "-m", "kiosk"]
ENV = {**os.environ, "KIOSK_LANG": "en"}
CONFIG = '[store]\npath = "kiosk.db"\n[scanner]\nsource = "none:"\n[indicator]\nkind = "none"\n'


@pytest.fixture
def cfg(tmp_path: Path, store: Store) -> Path:
    """A config for the small school's store (its connection closed, as at a shell)."""
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def kiosk(cfg: Path, *args: str) -> Result:
    """Run a command in English, in this process."""
    return CliRunner().invoke(main, ["--config", str(cfg), *args], env={"KIOSK_LANG": "en"})


def kiosk_zh(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command on a Chinese terminal, in a process of its own.

    Not in this process: the help is translated in place, which other tests would then read.
    """
    env = {**ENV, "KIOSK_LANG": "zh_CN"}
    run = [*KIOSK, "--config", str(cfg), *args]
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in done.stderr
    return done
