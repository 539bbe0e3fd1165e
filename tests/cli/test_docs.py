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


def rows_of(name: str) -> list[str]:
    """Return the README's lines of the commands table that document `kiosk NAME`."""
    *group, last = name.split()
    pattern = r"`kiosk( --config \S+)? " + "".join(f"{g} " for g in group)
    pattern += rf"([\w|\\]*\|)?{last}\b"
    table = [line for line in README.splitlines() if line.startswith("| `kiosk")]
    return [line for line in table if re.search(pattern, line)]


def test_every_option_is_in_its_commands_row_of_the_readme() -> None:
    ctx = click.Context(main)
    missing = []
    for name in commands():
        *group, last = name.split()
        cmd = main.get_command(ctx, group[0] if group else last)
        if group:
            assert isinstance(cmd, click.Group)
            cmd = cmd.commands[last]
        assert cmd is not None
        text = "\n".join(rows_of(name))
        for param in cmd.params:
            if isinstance(param, click.Option) and not any(o in text for o in param.opts):
                missing.append(f"kiosk {name} {param.opts[0]}")
    assert missing == []
