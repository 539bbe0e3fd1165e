"""The README documents every command, as `config.example.toml` documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

import click

from kiosk.cli import KioskGroup, main

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    ctx = click.Context(main)
    names = []
    for name in KioskGroup.list_commands(main, ctx):
        cmd = main.get_command(ctx, name)
        names.append(name)
        if isinstance(cmd, click.Group):
            names += [f"{name} {sub}" for sub in cmd.commands]
    return names


def test_every_command_is_in_the_readme() -> None:
    missing = []
    for name in commands():
        *group, last = name.split()
        # `kiosk hub register|revoke KIOSK_ID` documents both; `--config PATH` may stand between.
        pattern = r"`kiosk( --config \S+)? " + "".join(f"{g} " for g in group)
        pattern += rf"([\w|\\]*\|)?{last}\b"
        if not re.search(pattern, README):
            missing.append(name)
    assert missing == []
