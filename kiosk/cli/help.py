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
_ENGLISH = "_kiosk_help_english"  # the texts as written: the message ids


def localize(cmd: click.Command, lang: str | None = None, *, subcommands: bool = True) -> None:
    """Translate a command's help and its options' help in place (once per language)."""
    lang = lang or cli_language()
    if getattr(cmd, _DONE, "en") == lang:
        return
    setattr(cmd, _DONE, lang)
    # Kept on first use: one process may ask in two languages (tests), and the catalogs read them.
    english = english_texts(cmd)
    text, short, options = english
    cmd.help = translate(text, lang) if text else text
    if short:
        cmd.short_help = translate(short, lang)
    else:
        cmd.short_help = short_help(cmd.help) if cmd.help and lang != "en" else None
    for param in cmd.params:
        if isinstance(param, click.Option) and param.name in options:
            param.help = translate(options[param.name], lang)
    if subcommands and isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            localize(sub, lang)


def english_texts(cmd: click.Command) -> tuple[str | None, str | None, dict[str, str]]:
    """Return a command's help, short help and options' help as written (the message ids)."""
    if not hasattr(cmd, _ENGLISH):
        options = {
            p.name: p.help
            for p in cmd.params
            if isinstance(p, click.Option) and p.help and p.name is not None
        }
        setattr(cmd, _ENGLISH, (cmd.help, cmd.short_help, options))
    texts: tuple[str | None, str | None, dict[str, str]] = getattr(cmd, _ENGLISH)
    return texts


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
    text, short, options = english_texts(cmd)  # never what an earlier localize() left
    for said in (text, short, *options.values()):
        if said:
            yield said
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            yield from help_texts(sub)
