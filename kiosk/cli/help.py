"""Show the command-line help in the terminal's language.

The help of a command is its docstring (and each option's `help=`), as click takes it; those
English texts are the message ids. They are translated when a command is looked up, so only the
command being run or listed pays for it, and nothing at all when the terminal speaks English.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from kiosk.i18n import cli_language, translate

_DONE = "_kiosk_help_language"


def localize(cmd: click.Command, lang: str | None = None, *, subcommands: bool = True) -> None:
    """Translate a command's help and its options' help in place (once)."""
    lang = lang or cli_language()
    if lang == "en" or getattr(cmd, _DONE, None) == lang:
        return
    setattr(cmd, _DONE, lang)
    if cmd.help:
        cmd.help = translate(cmd.help, lang)
    if cmd.short_help:
        cmd.short_help = translate(cmd.short_help, lang)
    elif cmd.help:
        cmd.short_help = short_help(cmd.help)
    for param in cmd.params:
        if isinstance(param, click.Option) and param.help:
            param.help = translate(param.help, lang)
    if subcommands and isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            localize(sub, lang)


SHORT = 60  # characters of a command's line in `kiosk --help` (click allows 80 less the names)


def short_help(text: str) -> str:
    """Return the first sentence, cut at SHORT characters: a Chinese one has no spaces.

    click shortens at spaces, so a Chinese sentence longer than its limit became only "...".
    """
    first = text.partition("\n\n")[0].split("。")[0].strip()
    first = " ".join(first.split())
    if len(first) <= SHORT:
        return first + ("。" if "。" in text.partition("\n\n")[0] else "")
    return first[: SHORT - 1] + "…"


def help_texts(cmd: click.Command) -> Iterator[str]:
    """Yield every help text of a command and its subcommands, for the catalogs."""
    for text in (cmd.help, cmd.short_help):
        if text:
            yield text
    for param in cmd.params:
        if isinstance(param, click.Option) and param.help:
            yield param.help
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            yield from help_texts(sub)
