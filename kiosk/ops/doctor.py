"""`kiosk doctor`: check a kiosk's set-up and print each problem with the command that fixes it.

Checks the config, the store (read-only: integrity and schema), free disk, each configured device
(there, readable by the service's user, that user in the right group), the GPIO pin factory, the
hub (name, TLS, token) and the clock. The devices are checked from the config and the file system
alone, without opening them, so the doctor can run beside a running daemon.
"""

from __future__ import annotations

import grp
import importlib.metadata
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kiosk import config as cfg
from kiosk.i18n import N_, _, cli_language
from kiosk.ops.backups import backups_in, daemon_running, inspect

OK, WARNING, PROBLEM, UNKNOWN = "ok", "warning", "problem", "unknown"
LABELS = {OK: N_("ok"), WARNING: N_("warning"), PROBLEM: N_("PROBLEM"), UNKNOWN: N_("cannot tell")}
# Below this much free space the store or its backups may fail to write.
MIN_FREE_MB, LOW_FREE_MB = 200, 1024
SYS_INPUT = Path("/sys/class/input")
HUB_PROBE = "/api/v1/sync/kiosks"  # read-only and behind the token check
PIN_FACTORIES = ("lgpio", "rpigpio", "pigpio", "native")  # gpiozero's own order of preference


@dataclass(frozen=True)
class Finding:
    """One line of the report: which check, how it went, what was seen, and the fix."""

    check: str
    level: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Account:
    """The user the service runs as, with every group it is in."""

    name: str
    uid: int
    groups: frozenset[str]

    @classmethod
    def named(cls, name: str) -> Account:
        """Look an account up; raise KeyError if there is none."""
        pw = pwd.getpwnam(name)
        gids = os.getgrouplist(name, pw.pw_gid)
        names = set()
        for gid in gids:
            try:
                names.add(grp.getgrgid(gid).gr_name)
            except KeyError:
                continue
        return cls(name, pw.pw_uid, frozenset(names))

    def can(self, path: Path, want: int) -> bool:
        """Return whether this account may read (4) and/or write (2) `path`, from its mode bits."""
        if self.uid == 0:
            return True
        st = path.stat()
        try:
            group = grp.getgrgid(st.st_gid).gr_name
        except KeyError:
            group = ""
        if st.st_uid == self.uid:
            bits = (st.st_mode >> 6) & 7
        elif group in self.groups:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        return bits & want == want


def default_user() -> str:
    """Return the service's account: `kiosk` where the installer made it, else whoever runs this."""
    try:
        pwd.getpwnam("kiosk")
        return "kiosk"
    except KeyError:
        return pwd.getpwuid(os.geteuid()).pw_name


def check_config(path: Path) -> tuple[Finding, cfg.Settings | None]:
    """Load the config; a problem names the key."""
    try:
        settings = cfg.load(path)
    except cfg.ConfigError as e:
        if path.exists():
            fix = _("edit {path} (see config.example.toml for every key)", path=path)
        else:
            fix = _(
                "make it from the example: cp /opt/kiosk/config.example.toml {path}; "
                "or name another with --config PATH",
                path=path,
            )
        return Finding(N_("config"), PROBLEM, e.said(cli_language()), fix), None
    return Finding(N_("config"), OK, str(path)), settings


STORE_IS_FOLDER = N_(
    "{path} is a folder: [store] path in {config} names the database file in it, like "
    "/var/lib/kiosk/kiosk.db"
)


def check_store(settings: cfg.Settings, config_path: Path, user: Account) -> Iterator[Finding]:
    """Check the store read-only: there, whole, a schema this version knows, writable."""
    path = settings.resolve(settings.store.path)
    kiosk = f"kiosk --config {config_path}"
    found = inspect(path)
    if path.is_dir():  # not "missing": `kiosk init` cannot make a store where a folder is
        said = _(STORE_IS_FOLDER, path=path, config=config_path)
        fix = _("point [store] path in {config} at the kiosk's database", config=config_path)
        yield Finding(N_("store"), PROBLEM, said, fix)
    elif found.kind == "missing":
        yield Finding(N_("store"), PROBLEM, found.problem or "", f"{kiosk} init")
    elif found.kind == "corrupt":
        saved = backups_in(path.parent / "backups")
        if saved:
            fix = f"sudo systemctl stop kiosk && sudo -u {user.name} {kiosk} restore {saved[-1]}"
        else:
            fix = _(
                "no backup found; save what is left: sqlite3 {path} .recover | sqlite3 {out}",
                path=path,
                out=f"{path}.recovered",
            )
        yield Finding(N_("store"), PROBLEM, found.problem or "", fix)
    elif found.kind == "newer":
        fix = _("install the newer kiosk again: sudo systemd/install.sh (from its source)")
        yield Finding(N_("store"), PROBLEM, found.problem or "", fix)
    elif found.kind == "not_kiosk":
        fix = _("point [store] path in {config} at the kiosk's database", config=config_path)
        yield Finding(N_("store"), PROBLEM, found.problem or "", fix)
    else:
        running = _("in use by the daemon") if daemon_running(path) else _("daemon not running")
        if found.kind == "pending":
            note = _("older schema, upgraded when the kiosk starts")
        else:
            note = _("integrity ok, schema {schema}", schema=found.schema[-1])
        yield Finding(N_("store"), OK, f"{path}: {note}; {running}")
    folder = path.parent
    if folder.is_dir() and not user.can(folder, 2 | 1):
        fix = f"sudo chown -R {user.name}: {folder}"
        message = _("{user} cannot write in {folder}", user=user.name, folder=folder)
        yield Finding(N_("store"), PROBLEM, message, fix)


def check_disk(settings: cfg.Settings) -> Finding:
    """Check the free space where the store lives."""
    folder = settings.resolve(settings.store.path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    message = _("{mb} MB free in {folder}", mb=free_mb, folder=folder)
    fix = _(
        "make room: delete old backups in {folder}, or old logs: "
        "sudo journalctl --vacuum-size=100M",
        folder=folder / "backups",
    )
    if free_mb < MIN_FREE_MB:
        return Finding(N_("disk"), PROBLEM, message, fix)
    if free_mb < LOW_FREE_MB:
        return Finding(N_("disk"), WARNING, message, fix)
    return Finding(N_("disk"), OK, message)


def check_group(check: str, user: Account, group: str) -> Iterator[Finding]:
    """Report a missing group membership, with the usermod that adds it."""
    if user.uid == 0 or group in user.groups:
        return
    message = _("{user} is not in the {group} group", user=user.name, group=group)
    fix = f"sudo usermod -aG {group} {user.name} && sudo systemctl restart kiosk"
    try:
        grp.getgrnam(group)
    except KeyError:
        fix = f"sudo groupadd --system {group} && {fix}"
    yield Finding(check, PROBLEM, message, fix)


def check_device(check: str, path: Path, user: Account, group: str, want: int) -> Finding:
    """Check that a device node is there and that the service's user may use it."""
    st = path.stat()
    try:
        owner_group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        owner_group = str(st.st_gid)
    if user.can(path, want):
        return Finding(check, OK, str(path))
    message = _(
        "{user} cannot open {path} (group {group}, mode {mode})",
        user=user.name,
        path=path,
        group=owner_group,
        mode=oct(stat.S_IMODE(st.st_mode))[2:],
    )
    if owner_group == group and group not in user.groups:
        fix = f"sudo usermod -aG {group} {user.name} && sudo systemctl restart kiosk"
    else:
        # Until it is unplugged; the udev rules (install.sh --scanner-usb/--card-usb) make it last.
        fix = f"sudo chgrp {group} {path} && sudo chmod 0660 {path}"
    return Finding(check, PROBLEM, message, fix)


def input_devices(match: Callable[[Path], bool]) -> list[Path]:
    """Return the /dev/input/event* nodes whose sysfs entry `match`es."""
    if not SYS_INPUT.is_dir():
        return []
    return [
        Path("/dev/input") / entry.name
        for entry in sorted(SYS_INPUT.glob("event*"))
        if match(entry / "device")
    ]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def find_input(spec: str) -> list[Path]:
    """Return the input nodes an `evdev:` spec names: a path, usb=VID:PID or name=REGEX."""
    key, sep, wanted = spec.partition("=")
    if sep and key == "usb":
        vid, _, pid = wanted.lower().partition(":")
        return input_devices(
            lambda d: (_read(d / "id/vendor"), _read(d / "id/product")) == (vid, pid)
        )
    if sep and key == "name":
        return input_devices(lambda d: re.search(wanted, _read(d / "name")) is not None)
    return [Path(spec)] if Path(spec).exists() else []


def check_scanner(settings: cfg.Settings, user: Account) -> Iterator[Finding]:
    """Check the barcode scanner `[scanner] source` names."""
    source = settings.scanner.source
    scheme, _sep, rest = source.partition(":")
    if scheme != "evdev":
        yield Finding(N_("scanner"), OK, _("{source} (no device to check)", source=source))
        return
    missing = _("{source}: the scanner is not plugged in", source=source)
    fix = _(
        "plug the scanner in; if it is, find its id with lsusb, then: "
        "sudo systemd/install.sh --scanner-usb VID:PID"
    )
    yield from check_input(N_("scanner"), rest, user, missing, fix)


def check_input(check: str, spec: str, user: Account, missing: str, fix: str) -> Iterator[Finding]:
    """Check an input device an `evdev:` spec names: plugged in, readable, the user's group."""
    found = find_input(spec)
    if not found:
        yield Finding(check, PROBLEM, missing, fix)
    else:
        yield check_device(check, found[0], user, "input", 4)
    yield from check_group(check, user, "input")


def check_card_reader(settings: cfg.Settings, user: Account) -> Iterator[Finding]:
    """Check the serial card reader `[card_reader] port` names."""
    port = settings.card_reader.port
    if not port:
        yield Finding(N_("card reader"), OK, _("none configured"))
        return
    if port.startswith("evdev:"):
        # A reader that types card numbers like a keyboard: an input device, as a scanner is.
        missing = _("{port}: the card reader is not plugged in", port=port)
        fix = _("plug the card reader in; `kiosk devices` lists input devices and their ids")
        yield from check_input(N_("card reader"), port.removeprefix("evdev:"), user, missing, fix)
        return
    path: Path | None = None
    if port.startswith("/"):
        path = Path(port)
    elif port.startswith("hwgrep://"):
        from serial.tools import list_ports

        hits = sorted(p.device for p in list_ports.grep(port.removeprefix("hwgrep://")))
        path = Path(hits[0]) if hits else None
    else:
        yield Finding(N_("card reader"), OK, _("{port} (not a local device)", port=port))
        return
    if path is None or not path.exists():
        message = _("{port}: the card reader is not plugged in", port=port)
        fix = _(
            "plug the card reader in; if it is, find its id with lsusb, then: "
            "sudo systemd/install.sh --card-usb VID:PID"
        )
        yield Finding(N_("card reader"), PROBLEM, message, fix)
    else:
        yield check_device(N_("card reader"), path, user, "dialout", 4 | 2)
    yield from check_group(N_("card reader"), user, "dialout")


def which_pin_factory(wanted: str) -> tuple[str | None, list[str]]:
    """Return the gpiozero pin factory that would load (or None) and why the others did not."""
    names = [wanted] if wanted else list(PIN_FACTORIES)
    entry_points = {
        ep.name: ep for ep in importlib.metadata.entry_points(group="gpiozero_pin_factories")
    }
    errors = []
    for name in names:
        ep = entry_points.get(name)
        if ep is None:
            errors.append(f"{name}: not installed")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                factory = ep.load()()
        except Exception as e:  # each factory fails in its own way off a Pi
            errors.append(f"{name}: {e}")
            continue
        factory.close()
        return name, errors
    return None, errors


def check_indicator(settings: cfg.Settings, user: Account) -> Iterator[Finding]:
    """Check the GPIO lights and buzzer: a pin factory that loads, and the gpio group."""
    ind = settings.indicator
    if ind.kind != "gpio":
        yield Finding(N_("indicator"), OK, ind.kind)
        return
    name, errors = which_pin_factory(getattr(ind, "pin_factory", ""))
    if name is None:
        message = _("no GPIO pin factory loads: {errors}", errors="; ".join(errors))
        fix = _("on a Raspberry Pi: sudo apt-get install python3-lgpio")
        yield Finding(N_("GPIO"), PROBLEM, message, fix)
    elif name in ("native", "mock"):
        message = _("pin factory {name}: the lights work, the buzzer's tones may not", name=name)
        fix = _("sudo apt-get install python3-lgpio")
        yield Finding(N_("GPIO"), WARNING, message, fix)
    else:
        yield Finding(N_("GPIO"), OK, _("pin factory {name}", name=name))
    yield from check_group(N_("GPIO"), user, "gpio")


def check_hub(settings: cfg.Settings, config_path: Path, timeout: float) -> Iterator[Finding]:
    """Check the hub: its name resolves, TLS is trusted, the token is accepted."""
    hub = settings.hub
    if not hub.url:
        yield Finding(N_("hub"), OK, _("none configured: this kiosk runs alone"))
        return
    from kiosk.sync.protocol import check_hub_url  # the sync client's own rule

    parts = urlsplit(hub.url)
    edit = _("edit [hub] url in {config}", config=config_path)
    try:
        check_hub_url(hub.url, hub.allow_http)
    except ValueError as e:
        yield Finding(N_("hub"), PROBLEM, str(e), edit)
        return
    assert parts.hostname is not None
    host = parts.hostname
    try:
        socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as e:
        message = _("cannot find {host}: {error}", host=host, error=e)
        fix = _("check the network and the name: ping -c 1 {host}; or {edit}", host=host, edit=edit)
        yield Finding(N_("hub"), PROBLEM, message, fix)
        return
    # Verify TLS as the sync client does: with [hub] ca_file, else requests' own CA bundle.
    verify: str | bool = str(settings.resolve(hub.ca_file)) if hub.ca_file else True
    yield from _probe_hub(hub.url, hub.token, verify, config_path, timeout)


def _probe_hub(
    url: str, token: str, verify: str | bool, config_path: Path, timeout: float
) -> Iterator[Finding]:
    import requests

    probe = url.rstrip("/") + HUB_PROBE
    try:
        resp = requests.get(
            probe, headers={"Authorization": f"Bearer {token}"}, timeout=timeout, verify=verify
        )
    except requests.exceptions.SSLError as e:
        message = _("the hub's certificate is not trusted: {error}", error=e)
        fix = _(
            "check the clock first (timedatectl); for a hub with its own CA, "
            "set [hub] ca_file in {config} to its certificate",
            config=config_path,
        )
        yield Finding(N_("hub"), PROBLEM, message, fix)
        return
    except requests.RequestException as e:
        message = _("cannot reach the hub at {url}: {error}", url=url, error=type(e).__name__)
        fix = _("check the network and that the hub runs: sudo systemctl status kiosk-hub (on it)")
        yield Finding(N_("hub"), PROBLEM, message, fix)
        return
    if resp.status_code in (401, 403):
        try:
            why = str(resp.json().get("message", ""))
        except ValueError:
            why = ""
        message = _("the hub refuses this kiosk's token: {why}", why=why or resp.status_code)
        fix = _(
            "on the hub: kiosk hub register KIOSK_ID; put the token in [hub] token in {config}",
            config=config_path,
        )
        yield Finding(N_("hub"), PROBLEM, message, fix)
    elif resp.status_code >= 400:
        message = _("the hub answered {status} at {url}", status=resp.status_code, url=probe)
        fix = _(
            "check [hub] url in {config} and the hub's log: journalctl -u kiosk-hub",
            config=config_path,
        )
        yield Finding(N_("hub"), PROBLEM, message, fix)
    else:
        yield Finding(N_("hub"), OK, _("{url}: reachable, token accepted", url=url))


def check_sip2(settings: cfg.Settings, config_path: Path) -> Iterator[Finding]:
    """Log in to the library system's SIP2 server, run 99, and explain what fails."""
    from kiosk.sip2.diagnose import check
    from kiosk.sip2.wiring import resolved

    for level, message, fix in check(resolved(settings), str(config_path)):
        yield Finding(N_("SIP2"), OK if level == "ok" else PROBLEM, message, fix)


def check_clock(timedatectl: str = "timedatectl") -> Finding:
    """Check that the clock is NTP-synchronised: a Pi has no battery clock."""
    try:
        out = subprocess.run(
            [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return Finding(
            N_("clock"), UNKNOWN, _("cannot tell if the clock is synchronised: {error}", error=e)
        )
    answer = out.stdout.strip()
    if out.returncode != 0 or answer not in ("yes", "no"):
        why = (out.stderr or out.stdout).strip().splitlines()[:1] or [str(out.returncode)]
        message = _("cannot tell if the clock is synchronised: {error}", error=why[0])
        return Finding(N_("clock"), UNKNOWN, message)
    if answer == "no":
        message = _("the clock is not synchronised (due dates and sync need the right time)")
        fix = _("sudo timedatectl set-ntp true, and check the network; then: timedatectl")
        return Finding(N_("clock"), PROBLEM, message, fix)
    return Finding(N_("clock"), OK, _("synchronised"))


def diagnose(config_path: Path, user: Account, timeout: float = 5.0) -> list[Finding]:
    """Run every check and return the findings in report order."""
    first, settings = check_config(config_path)
    findings = [first]
    if settings is not None:
        findings += check_store(settings, config_path, user)
        findings.append(check_disk(settings))
        findings += check_scanner(settings, user)
        findings += check_card_reader(settings, user)
        findings += check_indicator(settings, user)
        findings += check_hub(settings, config_path, timeout)
        findings += check_sip2(settings, config_path)
    findings.append(check_clock())
    return findings
