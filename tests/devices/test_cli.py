"""`kiosk devices` and `kiosk devices test`, run as an installer would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kiosk.cli import main
from kiosk.devices import frames


def test_devices_lists_input_devices_and_serial_ports(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "devices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == 'Input devices (for [scanner] source = "evdev:..."):'
    assert "Serial ports (for [card_reader] port):" in lines
    # This machine has no /dev/input: the list says so and how to fix permissions.
    if not os.path.isdir("/dev/input"):
        assert lines[1].startswith("  none readable")


def test_devices_test_shows_each_read_live(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[scanner]\nsource = "none:"\n[card_reader]\nport = "pty:"\n', encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(cfg), "devices", "test", "--seconds", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KIOSK_LANG": "en"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.fullmatch(r"listening: card reader rdm6300 on pty (/dev/pts/\d+)\n", first)
    assert match, first
    assert proc.stdout.readline().endswith(": connected\n")
    fd = os.open(match.group(1), os.O_WRONLY | os.O_NOCTTY)
    os.write(fd, b"\x020F00A1B2C3D0\x03" + frames.rdm6300_frame("0F00A1B2C3"))
    os.close(fd)
    lines = [proc.stdout.readline().rstrip("\n") for _ in range(2)]
    proc.send_signal(signal.SIGTERM)  # as systemd or Ctrl-C would stop it
    out, err = proc.communicate(timeout=10)
    lines += out.splitlines()
    card = [x for x in lines if re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}  card: 0F00A1B2C3", x)]
    rejected = [x for x in lines if x.endswith(": rejected: RDM6300 checksum mismatch")]
    assert (len(card), len(rejected), len(lines)) == (1, 1, 2), out
    assert proc.returncode == 0, err


def test_devices_test_without_devices_says_so(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[scanner]\nsource = "none:"\n', encoding="utf-8")
    result = CliRunner(env={"KIOSK_LANG": "en"}).invoke(
        main, ["--config", str(cfg), "devices", "test", "--seconds", "0.1"]
    )
    assert result.exit_code == 1
    assert "no scanner or card reader is configured" in result.output
