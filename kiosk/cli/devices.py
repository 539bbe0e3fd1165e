"""`kiosk devices`: what is plugged in, and a live test of the configured scanner and reader."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

from kiosk.devices.base import PATTERNS, Scan, ScanSource
from kiosk.i18n import _

BY_ID = Path("/dev/input/by-id")


def input_devices() -> list[dict[str, Any]]:
    """Return every readable input device: path, name, USB ids, by-id links, can it type codes."""
    from kiosk.devices.scanner import readable_devices, types_codes

    links: dict[str, list[str]] = {}
    if BY_ID.is_dir():
        for link in sorted(BY_ID.iterdir()):
            links.setdefault(os.path.realpath(link), []).append(str(link))
    return [
        {
            "path": str(dev.path),
            "name": dev.name,
            "usb": f"{dev.info.vendor:04x}:{dev.info.product:04x}",
            "by_id": links.get(os.path.realpath(str(dev.path)), []),
            "types_codes": types_codes(dev),
        }
        for dev in readable_devices()
    ]


def serial_ports() -> list[dict[str, Any]]:
    """Return the serial ports pyserial sees, with USB ids where they are USB adapters."""
    from serial.tools import list_ports

    ports = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None and p.pid is not None else ""
        ports.append({"path": p.device, "name": p.description, "usb": usb})
    if os.path.exists("/dev/serial0") and all(p["path"] != "/dev/serial0" for p in ports):
        ports.append({"path": "/dev/serial0", "name": "Raspberry Pi UART (GPIO 14/15)", "usb": ""})
    return ports


@click.group(invoke_without_command=True)
@click.pass_context
def devices(ctx: click.Context) -> None:
    """List input devices and serial ports with their names and USB ids."""
    if ctx.invoked_subcommand is not None:
        return
    inputs = input_devices()
    click.echo(_('Input devices (for [scanner] source = "evdev:..."):'))
    if not inputs:
        click.echo(_("  none readable (no /dev/input, or run as root or a member of 'input')"))
    for d in inputs:
        kind = _("can type codes") if d["types_codes"] else _("no Enter key")
        click.echo(f"  {d['path']}  usb={d['usb']}  {d['name']!r}  ({kind})")
        for link in d["by_id"]:
            click.echo(f"      {link}")
    ports = serial_ports()
    click.echo(_("Serial ports (for [card_reader] port):"))
    if not ports:
        click.echo(_("  none found"))
    for p in ports:
        usb = f"  usb={p['usb']}" if p["usb"] else ""
        click.echo(f"  {p['path']}{usb}  {p['name']}")


@devices.command()
@click.option("--seconds", type=float, help="Stop after this many seconds (default: Ctrl-C).")
@click.option("--indicator", is_flag=True, help="Also play every light pattern, then one per read.")
@click.pass_context
def test(ctx: click.Context, seconds: float | None, indicator: bool) -> None:
    """Show each read of the configured scanner and card reader live, to check the wiring."""
    from kiosk.devices import build

    settings = ctx.find_root().obj.settings
    sources: list[ScanSource] = []
    for make in (
        lambda: build.scanner_source(settings, settings.scanner.source),
        lambda: build.card_reader(settings),
    ):
        try:
            src = make()
        except (ValueError, OSError) as e:
            raise click.ClickException(str(e)) from None
        if src is not None:
            sources.append(src)
    if not sources:
        raise click.ClickException(_("no scanner or card reader is configured"))
    lights = build.indicator(settings.indicator) if indicator else None
    stop = threading.Event()
    lock = threading.Lock()

    def show(scan: Scan) -> None:
        with lock:
            stamp = dt.datetime.now().strftime("%H:%M:%S.%f")[:-3]
            line = _("{time}  {source}: {code}", time=stamp, source=scan.source, code=scan.code)
            click.echo(line)
        if lights is not None:
            lights.show("ok", scan.code)

    if lights is not None:
        for pattern in PATTERNS:
            click.echo(_("pattern: {pattern}", pattern=pattern))
            lights.show(pattern)
            time.sleep(2.2)
        lights.show("online")
    with contextlib.suppress(ValueError):  # not the main thread (tests): Ctrl-C still works
        signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    for src in sources:
        click.echo(_("listening: {name}", name=src.health.name))
        src.start(show)
    deadline = time.monotonic() + seconds if seconds else None
    seen: dict[str, dict[str, object]] = {}
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            for src in sources:
                report_change(src, seen, lock)
            stop.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for src in sources:
            src.stop()
        if lights is not None:
            lights.close()


def report_change(
    src: ScanSource, seen: dict[str, dict[str, object]], lock: threading.Lock
) -> None:
    """Print what changed in a device's health: connected, lost, a rejected read."""
    now, before = src.health.as_dict(), seen.get(src.health.name, {})
    seen[src.health.name] = now
    name = src.health.name
    with lock:
        if now["connected"] and not before.get("connected"):
            click.echo(_("{name}: connected", name=name))
        elif not now["connected"] and now["last_error"] != before.get("last_error"):
            click.echo(_("{name}: not connected: {error}", name=name, error=now["last_error"]))
        if now["rejected_reads"] != before.get("rejected_reads", 0):
            click.echo(_("{name}: rejected: {reason}", name=name, reason=now["last_rejection"]))
