"""`kiosk doctor` on good and broken set-ups: each problem named with its fix, exit code 1."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from kiosk.circulation.store import Store
from kiosk.cli import main
from kiosk.ops.doctor import Account, check_clock
from kiosk.sync import hubstore

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real hub process on loopback, and a token it accepts."""
    folder = tmp_path_factory.mktemp("hub")
    port = free_port()
    (folder / "hub.toml").write_text(
        f'[store]\npath = "hub.db"\n[web]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8"
    )
    store = hubstore.open_hub_store(folder / "hub.db")
    token = hubstore.register_kiosk(store, "kiosk-1")
    store.close()
    log = (folder / "hub.log").open("ab")
    proc = subprocess.Popen([KIOSK, "--config", str(folder / "hub.toml"), "hub"], stderr=log)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 15
    while True:
        try:
            requests.get(url, timeout=0.5)
            break
        except requests.ConnectionError:
            assert time.monotonic() < end and proc.poll() is None, (folder / "hub.log").read_text()
            time.sleep(0.05)
    yield url, token
    proc.terminate()
    proc.wait(10)


def write_config(folder: Path, **sections: dict[str, str]) -> Path:
    base = {
        "store": {"path": "kiosk.db"},
        "scanner": {"source": "none:"},
        "indicator": {"kind": "none"},
    }
    base.update(sections)
    text = "".join(
        f"[{name}]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items())
        for name, keys in base.items()
    )
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def doctor(cfg: Path, user: str = "root") -> tuple[int, list[str]]:
    result = CliRunner().invoke(
        main,
        ["--config", str(cfg), "doctor", "--user", user, "--timeout", "3"],
        env={"KIOSK_LANG": "en"},
    )
    return result.exit_code, result.output.splitlines()


def finding(lines: list[str], check: str) -> list[str]:
    """Return the lines of one check (with their fix lines)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if line[13:].startswith(f"{check}: "):
            out.append(line)
            if i + 1 < len(lines) and lines[i + 1].startswith(" " * 13 + "fix: "):
                out.append(lines[i + 1])
    return out


@pytest.fixture
def folder(tmp_path: Path, store: Store) -> Path:
    """A folder with the small school's store in it, closed."""
    store.close()
    return tmp_path


def test_a_healthy_kiosk_has_only_ok_lines(folder: Path) -> None:
    code, lines = doctor(write_config(folder))
    assert finding(lines, "config") == [f"ok           config: {folder / 'config.toml'}"]
    assert finding(lines, "store")[0].startswith(
        f"ok           store: {folder / 'kiosk.db'}: integrity ok, schema m0"
    )
    assert finding(lines, "store")[0].endswith("; daemon not running")
    assert finding(lines, "scanner") == ["ok           scanner: none: (no device to check)"]
    assert finding(lines, "card reader") == ["ok           card reader: none configured"]
    assert finding(lines, "hub") == ["ok           hub: none configured: this kiosk runs alone"]
    problems = [line for line in lines if line.startswith("PROBLEM")]
    # The clock is the machine's own: synchronised, not, or (in a container) cannot tell.
    assert problems in ([], [line for line in finding(lines, "clock") if "PROBLEM" in line])
    assert code == (1 if problems else 0)
    assert lines[-1] == ("1 problem(s) found" if problems else "no problems found")


def test_missing_devices_are_named_with_their_fix(folder: Path) -> None:
    cfg = write_config(
        folder,
        scanner={"source": f"evdev:{folder / 'no-scanner'}"},
        card_reader={"port": str(folder / "no-card")},
    )
    code, lines = doctor(cfg)
    assert code == 1
    assert finding(lines, "scanner") == [
        f"PROBLEM      scanner: evdev:{folder / 'no-scanner'}: the scanner is not plugged in",
        "             fix: plug the scanner in; if it is, find its id with lsusb, then: "
        "sudo systemd/install.sh --scanner-usb VID:PID",
    ]
    assert finding(lines, "card reader") == [
        f"PROBLEM      card reader: {folder / 'no-card'}: the card reader is not plugged in",
        "             fix: plug the card reader in; if it is, find its id with lsusb, then: "
        "sudo systemd/install.sh --card-usb VID:PID",
    ]


def make_node(path: Path, mode: int, group: str) -> None:
    """Make a character device node like the kernel's (the /dev/null numbers), or a file."""
    try:
        os.mknod(path, stat.S_IFCHR | mode, os.makedev(1, 3))
    except PermissionError:
        path.touch()  # no CAP_MKNOD here: the doctor reads only the mode bits and owner
    os.chmod(path, mode)
    shutil.chown(path, group=group)


def test_wrong_permissions_are_named_with_their_fix(folder: Path) -> None:
    scanner, card = folder / "event7", folder / "ttyUSB0"
    make_node(scanner, 0o600, "root")  # no udev rule: only root may read it
    make_node(card, 0o660, "dialout")  # the right group, but the user is not in it
    cfg = write_config(
        folder, scanner={"source": f"evdev:{scanner}"}, card_reader={"port": str(card)}
    )
    code, lines = doctor(cfg, user="nobody")
    assert code == 1
    assert finding(lines, "scanner") == [
        f"PROBLEM      scanner: nobody cannot open {scanner} (group root, mode 600)",
        f"             fix: sudo chgrp input {scanner} && sudo chmod 0660 {scanner}",
        "PROBLEM      scanner: nobody is not in the input group",
        "             fix: sudo usermod -aG input nobody && sudo systemctl restart kiosk",
    ]
    assert finding(lines, "card reader") == [
        f"PROBLEM      card reader: nobody cannot open {card} (group dialout, mode 660)",
        "             fix: sudo usermod -aG dialout nobody && sudo systemctl restart kiosk",
        "PROBLEM      card reader: nobody is not in the dialout group",
        "             fix: sudo usermod -aG dialout nobody && sudo systemctl restart kiosk",
    ]
    # The data folder is root's: the service's user could not write the store.
    assert finding(lines, "store")[1:] == [
        f"PROBLEM      store: nobody cannot write in {folder}",
        f"             fix: sudo chown -R nobody: {folder}",
    ]
    # With the rights fixed, the same devices pass.
    os.chmod(scanner, 0o604)
    os.chmod(card, 0o666)
    _code, lines = doctor(cfg, user="nobody")
    assert finding(lines, "scanner")[0] == f"ok           scanner: {scanner}"
    assert finding(lines, "card reader")[0] == f"ok           card reader: {card}"


def test_an_unreachable_hub_is_named_with_its_fix(folder: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, lines = doctor(write_config(folder, hub={"url": url, "token": "t"}))
    assert code == 1
    assert finding(lines, "hub") == [
        f"PROBLEM      hub: cannot reach the hub at {url}: ConnectionError",
        "             fix: check the network and that the hub runs: "
        "sudo systemctl status kiosk-hub (on it)",
    ]


def test_a_hub_name_that_does_not_resolve(folder: Path) -> None:
    cfg = write_config(folder, hub={"url": "https://hub.example.invalid", "token": "t"})
    code, lines = doctor(cfg)
    assert code == 1
    got = finding(lines, "hub")
    assert got[0].startswith("PROBLEM      hub: cannot find hub.example.invalid: ")
    assert got[1] == (
        "             fix: check the network and the name: ping -c 1 hub.example.invalid; "
        f"or edit [hub] url in {cfg}"
    )


def test_the_hub_token_is_checked_against_a_real_hub(folder: Path, hub: tuple[str, str]) -> None:
    url, token = hub
    code, lines = doctor(write_config(folder, hub={"url": url, "token": token}))
    assert finding(lines, "hub") == [f"ok           hub: {url}: reachable, token accepted"]
    cfg = write_config(folder, hub={"url": url, "token": "not-the-token"})
    code, lines = doctor(cfg)
    assert code == 1
    assert finding(lines, "hub") == [
        "PROBLEM      hub: the hub refuses this kiosk's token: unknown token; check [hub] "
        "token (kiosk hub register prints one)",
        "             fix: on the hub: kiosk hub register KIOSK_ID; put the token in [hub] "
        f"token in {cfg}",
    ]


def test_a_corrupt_store_points_at_the_newest_backup(folder: Path) -> None:
    cfg = write_config(folder)
    backups = folder / "backups"
    backups.mkdir()
    for name in ("kiosk-2026-11-01T023000.db", "kiosk-2026-11-02T023000.db"):
        shutil.copyfile(folder / "kiosk.db", backups / name)
    data = bytearray((folder / "kiosk.db").read_bytes())
    data[0:16] = b"garbage garbage!"  # the header is gone: not a database any more
    (folder / "kiosk.db").write_bytes(bytes(data))

    code, lines = doctor(cfg)

    assert code == 1
    got = finding(lines, "store")
    assert got[0].startswith(f"PROBLEM      store: {folder / 'kiosk.db'} is damaged: ")
    assert got[1] == (
        f"             fix: sudo systemctl stop kiosk && sudo -u root kiosk --config {cfg} "
        f"restore {backups / 'kiosk-2026-11-02T023000.db'}"
    )


def test_a_missing_store_and_a_bad_config(folder: Path) -> None:
    (folder / "kiosk.db").unlink()
    cfg = write_config(folder)
    code, lines = doctor(cfg)
    assert code == 1
    assert finding(lines, "store") == [
        f"PROBLEM      store: {folder / 'kiosk.db'} does not exist",
        f"             fix: kiosk --config {cfg} init",
    ]
    cfg.write_text('[scanner]\nsource = "usb"\n', encoding="utf-8")
    code, lines = doctor(cfg)
    assert code == 1
    assert finding(lines, "config") == [
        f"PROBLEM      config: {cfg}: [scanner] source: must be stdin:, fifo:/path, evdev:... "
        "or none:",
        f"             fix: edit {cfg} (see config.example.toml for every key)",
    ]
    cfg.unlink()
    code, lines = doctor(cfg)
    assert code == 1
    assert finding(lines, "config") == [
        f"PROBLEM      config: {cfg}: config file not found",
        f"             fix: make it from the example: cp /opt/kiosk/config.example.toml {cfg}; "
        "or name another with --config PATH",
    ]


def test_the_clock_says_when_it_cannot_tell() -> None:
    got = check_clock("/nonexistent/timedatectl")
    assert (got.check, got.level) == ("clock", "unknown")
    assert got.message.startswith("cannot tell if the clock is synchronised: ")


def test_access_follows_owner_group_and_other_bits(tmp_path: Path) -> None:
    nobody = Account.named("nobody")
    f = tmp_path / "dev"
    f.touch()
    for mode, want, ok in [
        (0o600, 4, False),
        (0o604, 4, True),
        (0o606, 6, True),
        (0o604, 6, False),
    ]:
        os.chmod(f, mode)
        assert nobody.can(f, want) is ok, oct(mode)
    assert Account.named("root").can(f, 6)


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """The real hub app behind real TLS with a self-signed certificate; its URL, token, cert."""
    from werkzeug.serving import make_server

    from kiosk.sync.hub import create_hub_app

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "hub.crt", folder / "hub.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    store = hubstore.open_hub_store(folder / "hub.db")
    token = hubstore.register_kiosk(store, "kiosk-1")
    server = make_server(
        "127.0.0.1", 0, create_hub_app(store), threaded=True, ssl_context=(str(cert), str(key))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}", token, cert
    server.shutdown()
    store.close()


def test_an_untrusted_hub_certificate_and_its_fix(
    folder: Path, tls_hub: tuple[str, str, Path]
) -> None:
    url, token, cert = tls_hub
    cfg = write_config(folder, hub={"url": url, "token": token})
    code, lines = doctor(cfg)
    assert code == 1
    got = finding(lines, "hub")
    assert got[0].startswith("PROBLEM      hub: the hub's certificate is not trusted: ")
    assert "CERTIFICATE_VERIFY_FAILED" in got[0]
    assert got[1] == (
        "             fix: check the clock first (timedatectl); for a hub with its own CA, "
        f"set [hub] ca_file in {cfg} to its certificate"
    )
    # The fix works: with the hub's certificate as [hub] ca_file, TLS and the token pass.
    cfg = write_config(folder, hub={"url": url, "token": token, "ca_file": str(cert)})
    _code, lines = doctor(cfg)
    assert finding(lines, "hub") == [f"ok           hub: {url}: reachable, token accepted"]


def test_plain_http_to_another_machine_is_refused_as_the_sync_client_would(folder: Path) -> None:
    cfg = write_config(folder, hub={"url": "http://192.0.2.10:8090", "token": "t"})
    code, lines = doctor(cfg)
    assert code == 1
    got = finding(lines, "hub")
    assert got[0].startswith("PROBLEM      hub: [hub] url: 'http://192.0.2.10:8090' is plain HTTP")
    assert got[1] == f"             fix: edit [hub] url in {cfg}"


def test_gpio_pin_factory_that_loads_and_one_that_does_not(folder: Path) -> None:
    cfg = write_config(folder, indicator={"kind": "gpio", "pin_factory": "mock"})
    _code, lines = doctor(cfg)
    assert finding(lines, "GPIO") == [
        "warning      GPIO: pin factory mock: the lights work, the buzzer's tones may not",
        "             fix: sudo apt-get install python3-lgpio",
    ]
    # lgpio is the Raspberry Pi's library; on a build machine it is missing or finds no chip.
    if importlib.util.find_spec("lgpio") is not None and Path("/dev/gpiochip0").exists():
        pytest.skip("this machine has working GPIO: the no-factory case cannot be made here")
    cfg = write_config(folder, indicator={"kind": "gpio", "pin_factory": "lgpio"})
    code, lines = doctor(cfg, user="nobody")
    assert code == 1
    got = finding(lines, "GPIO")
    assert got[0].startswith("PROBLEM      GPIO: no GPIO pin factory loads: lgpio: ")
    assert got[1] == "             fix: on a Raspberry Pi: sudo apt-get install python3-lgpio"
    assert got[2] == "PROBLEM      GPIO: nobody is not in the gpio group"
    assert got[3].startswith("             fix: ") and got[3].endswith(
        "sudo usermod -aG gpio nobody && sudo systemctl restart kiosk"
    )


def test_a_keyboard_card_reader_is_checked_as_an_input_device(folder: Path) -> None:
    node = folder / "event9"
    make_node(node, 0o660, "input")
    cfg = write_config(folder, card_reader={"port": f"evdev:{node}"})
    code, lines = doctor(cfg, user="nobody")
    assert code == 1
    assert finding(lines, "card reader") == [
        f"PROBLEM      card reader: nobody cannot open {node} (group input, mode 660)",
        "             fix: sudo usermod -aG input nobody && sudo systemctl restart kiosk",
        "PROBLEM      card reader: nobody is not in the input group",
        "             fix: sudo usermod -aG input nobody && sudo systemctl restart kiosk",
    ]
    cfg = write_config(folder, card_reader={"port": "evdev:usb=ffff:0001"})
    _code, lines = doctor(cfg)
    assert finding(lines, "card reader") == [
        "PROBLEM      card reader: evdev:usb=ffff:0001: the card reader is not plugged in",
        "             fix: plug the card reader in; `kiosk devices` lists input devices and "
        "their ids",
    ]
