"""systemd/install.sh into a temporary prefix: files and modes, idempotence, upgrade, uninstall.

The installer runs for real (venv, pip, `kiosk init`) but under `--prefix`, which must leave the
live system alone: commands that would change it (apt-get, useradd, systemctl, udevadm, chown,
...) are replaced on PATH by sentinels that record any call, and the tests assert there was none.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk import config
from kiosk.circulation.records import put_patron
from kiosk.circulation.store import Store

pytestmark = pytest.mark.slow  # install scripts and `kiosk` processes

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_COMMANDS = [
    "apt-get",
    "apt-cache",
    "useradd",
    "usermod",
    "groupadd",
    "userdel",
    "systemctl",
    "udevadm",
    "runuser",
    "chown",
]
UNITS = ("kiosk.service", "kiosk-backup.service", "kiosk-backup.timer", "kiosk-hub.service")


@dataclass
class Setup:
    src: Path
    prefix: Path
    sentinels: Path
    first_output: str
    first_listing: dict[str, tuple[str, str]]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PATH": f"{self.sentinels}:{os.environ['PATH']}",
            "PYTHON": sys.executable,
            "KIOSK_LANG": "en",
        }
        env.pop("DESTDIR", None)
        proc = subprocess.run(
            ["sh", str(self.src / "systemd/install.sh"), "--prefix", str(self.prefix), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def system_calls(self) -> str:
        log = self.sentinels / "calls.log"
        return log.read_text() if log.exists() else ""


def snapshot_source(dest: Path) -> Path:
    """Copy the source as a release would ship it (other helpers edit the checkout meanwhile)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md", "config.example.toml"):
        shutil.copy(ROOT / name, dest / name)
    for name in ("kiosk", "systemd"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    (dest / "docs").mkdir()
    shutil.copy(ROOT / "docs/deploy.md", dest / "docs/deploy.md")
    return dest


def make_sentinels(folder: Path) -> Path:
    folder.mkdir()
    for name in SYSTEM_COMMANDS:
        path = folder / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >>"{folder}/calls.log"\nexit 1\n')
        path.chmod(0o755)
    return folder


def listing(prefix: Path) -> dict[str, tuple[str, str]]:
    """Return path -> (mode, sha256 or link target) for everything under the prefix."""
    out = {}
    for path in sorted(prefix.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(path.relative_to(prefix))] = (oct(stat.S_IMODE(st.st_mode)), what)
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    base = tmp_path_factory.mktemp("install")
    (base / "src").mkdir()
    src = snapshot_source(base / "src")
    s = Setup(src, base / "root", make_sentinels(base / "sentinels"), "", {})
    proc = s.run("--desktop-user", "pi", "--card-usb", "1a86:7523", "--hub")
    s.first_output = proc.stdout
    s.first_listing = listing(s.prefix)
    return s


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_files_land_where_they_should_with_the_right_modes(setup: Setup) -> None:
    p = setup.prefix
    expected = {
        "opt/kiosk/bin/kiosk-browser": "0o755",
        "usr/local/bin/kiosk": "0o755",
        "opt/kiosk/config.example.toml": "0o644",
        "opt/kiosk/docs/deploy.md": "0o644",
        "etc/kiosk": "0o750",
        "etc/kiosk/config.toml": "0o640",
        "etc/kiosk/usb-ids": "0o644",
        "etc/udev/rules.d/99-kiosk.rules": "0o644",
        "var/lib/kiosk": "0o750",
        "var/lib/kiosk/backups": "0o750",
        "var/lib/kiosk-hub": "0o750",
        "etc/kiosk/hub.toml": "0o640",
        **{f"etc/systemd/system/{unit}": "0o644" for unit in UNITS},
    }
    assert {name: mode(p / name) for name in expected} == expected
    assert os.access(p / "opt/kiosk/venv/bin/kiosk", os.X_OK)
    assert setup.system_calls() == ""
    assert "skipped (not the live system): systemctl enable kiosk.service kiosk-backup.timer" in (
        setup.first_output
    )

    # The units name the prefix's paths; the config keeps every written file in the data folder.
    unit = (p / "etc/systemd/system/kiosk.service").read_text()
    exec_start = f"ExecStart={p}/opt/kiosk/venv/bin/kiosk --config {p}/etc/kiosk/config.toml run"
    assert exec_start in unit.splitlines()
    assert f"ReadWritePaths={p}/var/lib/kiosk" in unit.splitlines()
    settings = config.load(p / "etc/kiosk/config.toml")
    assert settings.resolve(settings.store.path) == p / "var/lib/kiosk/kiosk.db"
    assert settings.card_reader.port == "/dev/kiosk-card"
    assert settings.scanner.source == "evdev:/dev/input/kiosk-scanner"
    assert settings.indicator.kind == "gpio"
    hub = config.load(p / "etc/kiosk/hub.toml")
    assert hub.resolve(hub.store.path) == p / "var/lib/kiosk-hub/hub.db"
    assert hub.web.listen == "0.0.0.0:8090"
    assert "skipped (not the live system): systemctl enable --now kiosk-hub.service" in (
        setup.first_output
    )

    # The store was created by the installed kiosk, and it reads it.
    status = subprocess.run(
        [p / "opt/kiosk/venv/bin/kiosk", "--config", p / "etc/kiosk/config.toml", "status"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "patrons: 0" in status.stdout
    # The short command on PATH finds the installed config by itself.
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    status = subprocess.run(
        [p / "usr/local/bin/kiosk", "status"], capture_output=True, text=True, env=env, cwd="/"
    )
    assert "patrons: 0" in status.stdout, status.stderr

    rules = (p / "etc/udev/rules.d/99-kiosk.rules").read_text().splitlines()
    assert [r for r in rules if r.startswith("SUBSYSTEM")] == [
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", '
        'SYMLINK+="kiosk-card", GROUP="dialout", MODE="0660"'
    ]
    autostart = (p / "home/pi/.config/labwc/autostart").read_text()
    assert autostart == (
        f"{p}/opt/kiosk/bin/kiosk-browser http://127.0.0.1:8080/ & # kiosk touchscreen\n"
    )


def test_a_second_run_changes_nothing(setup: Setup) -> None:
    proc = setup.run()
    assert listing(setup.prefix) == setup.first_listing
    assert "install.sh: code is up to date" in proc.stdout
    assert "wrote" not in proc.stdout
    assert setup.system_calls() == ""


def test_an_upgrade_backs_the_database_up_and_keeps_config_and_data(setup: Setup) -> None:
    p = setup.prefix
    db = p / "var/lib/kiosk/kiosk.db"
    store = Store.open(db)
    with store.write() as tx:
        put_patron(tx, {"id": "S001", "name": "王小明", "role": "student", "grade": 3}, [], "t")
    store.close()
    cfg = p / "etc/kiosk/config.toml"
    cfg.write_text(cfg.read_text() + "# the librarian's own note\n")
    # A new release: some code changed.
    init = setup.src / "kiosk/ops/__init__.py"
    init.write_text(init.read_text() + "# release 2\n")

    proc = setup.run()

    assert "upgrade: backed the database up to" in proc.stdout
    saved = list((p / "var/lib/kiosk/backups").glob("before-upgrade-*.db"))
    assert len(saved) == 1
    for path in (saved[0], db):
        s = Store.open(path, migrate=False)
        assert [r["name"] for r in s.query("SELECT name FROM patrons")] == ["王小明"]
        s.close()
    assert cfg.read_text().endswith("# the librarian's own note\n")
    # The USB id given on the first run is remembered.
    assert "1a86" in (p / "etc/udev/rules.d/99-kiosk.rules").read_text()
    installed = (p / "opt/kiosk/venv").rglob("kiosk/ops/__init__.py")
    assert any(f.read_text().endswith("# release 2\n") for f in installed)
    assert setup.system_calls() == ""


def test_uninstall_keeps_data_unless_purged(setup: Setup) -> None:
    p = setup.prefix
    proc = setup.run("--uninstall", "--desktop-user", "pi")
    assert "kept config in" in proc.stdout
    assert not (p / "opt/kiosk").exists()
    assert not any((p / "etc/systemd/system" / unit).exists() for unit in UNITS)
    assert not (p / "etc/udev/rules.d/99-kiosk.rules").exists()
    assert not (p / "usr/local/bin/kiosk").exists()
    assert (p / "home/pi/.config/labwc/autostart").read_text() == ""
    assert (p / "etc/kiosk/config.toml").exists()
    assert (p / "var/lib/kiosk/kiosk.db").exists()

    setup.run("--uninstall", "--purge")
    assert not (p / "etc/kiosk").exists()
    assert not (p / "var/lib/kiosk").exists()
    assert setup.system_calls() == ""


def test_bad_options_are_refused_before_anything_is_done(tmp_path: Path) -> None:
    script = ROOT / "systemd/install.sh"
    for args, message in [
        (["--card-usb", "CH340"], "USB id 'CH340' must be VID:PID in lower-case hex"),
        (["--purge"], "--purge goes with --uninstall"),
        (["--frobnicate"], "unknown option --frobnicate"),
    ]:
        proc = subprocess.run(
            ["sh", str(script), "--prefix", str(tmp_path / "r"), *args],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 1
        assert message in proc.stderr
        assert not (tmp_path / "r").exists()


def test_destdir_stages_the_files_with_the_real_paths_in_them(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    src = snapshot_source(tmp_path / "src")
    sentinels = make_sentinels(tmp_path / "sentinels")
    stage = tmp_path / "stage"
    env = {
        **os.environ,
        "PATH": f"{sentinels}:{os.environ['PATH']}",
        "PYTHON": sys.executable,
        "DESTDIR": str(stage),
    }
    proc = subprocess.run(
        ["sh", str(src / "systemd/install.sh")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    unit = (stage / "etc/systemd/system/kiosk.service").read_text().splitlines()
    assert "ExecStart=/opt/kiosk/venv/bin/kiosk --config /etc/kiosk/config.toml run" in unit
    assert "ReadWritePaths=/var/lib/kiosk" in unit
    cfg = config.load(stage / "etc/kiosk/config.toml")
    assert cfg.store.path == "/var/lib/kiosk/kiosk.db"
    assert (stage / "usr/local/bin/kiosk").read_text().splitlines()[-1] == (
        'exec /opt/kiosk/venv/bin/kiosk "$@"'
    )
    assert mode(stage / "var/lib/kiosk") == "0o750"
    assert not (stage / "var/lib/kiosk/kiosk.db").exists()  # the store is made on the target
    assert "skipped (DESTDIR): kiosk init" in proc.stdout
    assert (sentinels / "calls.log").exists() is False
