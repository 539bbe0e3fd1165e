"""`kiosk doctor`: check the installation and print each problem's fix (kiosk/ops/doctor.py)."""

from __future__ import annotations

import sys
import unicodedata
from typing import TYPE_CHECKING

import click

from kiosk.cli.context import Context, pass_ctx
from kiosk.i18n import N_plural, _

if TYPE_CHECKING:
    from kiosk.ops.doctor import Finding

PROBLEMS_FOUND = N_plural("{count} problem found", "{count} problems found")


def pad(text: str, width: int) -> str:
    """Pad to a width in terminal columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def render(finding: Finding) -> list[str]:
    """Return a finding as report lines: level, check and message, then the fix."""
    from kiosk.ops.doctor import LABELS

    label = _(LABELS[finding.level])
    lines = [f"{pad(label, 12)} {_(finding.check)}: {finding.message}"]
    if finding.fix:
        lines.append(" " * 13 + _("fix: {command}", command=finding.fix))
    return lines


@click.command()
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    help="Account the service runs as, whose access is checked (default: kiosk, else you).",
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the hub.")
@pass_ctx
def doctor(ctx: Context, user_name: str | None, timeout: float) -> None:
    """Check config, store, disk, devices, GPIO, hub, SIP2 and clock; print each problem's fix."""
    # Here, not at the top: the checks load what they check (metadata, backups).
    from kiosk.ops.doctor import PROBLEM, Account, default_user, diagnose

    name = user_name or default_user()
    try:
        user = Account.named(name)
    except KeyError:
        click.echo(_("error: there is no user {name}", name=name), err=True)
        sys.exit(2)
    findings = diagnose(ctx.config_path, user, timeout)
    for finding in findings:
        for line in render(finding):
            click.echo(line)
    problems = sum(1 for f in findings if f.level == PROBLEM)
    if problems:
        click.echo(_(PROBLEMS_FOUND, count=problems))
        sys.exit(1)
    click.echo(_("no problems found"))
