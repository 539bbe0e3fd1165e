"""What every command of the `kiosk` command line shares: the config, the store, failing.

Its own module, so that the command areas (kiosk.ops, kiosk.sync, kiosk.devices, kiosk.web) use
it without importing kiosk.cli, which sits above them all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kiosk import config as cfg
from kiosk.circulation.store import Store, StoreError
from kiosk.i18n import N_, _, cli_language


class Context:
    """What every command shares: the config path and, once loaded, the settings."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = cfg.default_path(config_path)
        self._settings: cfg.Settings | None = None

    def hub_pages(self, store: Store) -> object:
        """Return the librarian's pages on the hub's store, for `kiosk hub` (kiosk.daemon.app)."""
        from kiosk.daemon.app import hub_pages

        return hub_pages(store, self.settings)

    @property
    def settings(self) -> cfg.Settings:
        """Load the config once; exit with its problem on stderr if it cannot be used."""
        if self._settings is None:
            try:
                self._settings = cfg.load(self.config_path)
            except cfg.ConfigError as e:
                fail(e.said(cli_language()), code=2)
        assert self._settings is not None
        return self._settings

    def store_path(self) -> Path:
        """Return the configured store's path; exit saying so when it names a folder."""
        s = self.settings
        path = s.resolve(s.store.path)
        if path.is_dir():
            # SQLite would say only "unable to open database file".
            from kiosk.ops.doctor import STORE_IS_FOLDER

            fail(_(STORE_IS_FOLDER, path=path, config=self.config_path))
        return path

    def store(self, create: bool = False) -> Store:
        """Open the configured store, or exit with a clear message."""
        from kiosk.daemon.app import open_store

        s = self.settings
        path = self.store_path()
        if not create and not path.exists():
            fail(_("{path}: no store here yet; run `kiosk init` first", path=path))
        try:
            return open_store(s)
        except StoreError as e:
            fail(str(e))
        raise AssertionError


def fail(message: str, code: int = 1) -> None:
    """Print an error for the person at the terminal and exit non-zero."""
    click.echo(_("error: {message}", message=message), err=True)
    sys.exit(code)


pass_ctx = click.make_pass_decorator(Context)


def table_language(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --lang zh|en (Chinese by default, as the dashboard's downloads) and --codes."""
    command = click.option(
        "--codes",
        is_flag=True,
        help="English column names and the stored codes as they are, for scripts.",
    )(command)
    return click.option(
        "--lang",
        type=click.Choice(("zh", "en")),
        default="zh",
        show_default=True,
        help="Column titles, roles, statuses and event types in this language.",
    )(command)


def shown_language(lang: str, codes: bool) -> str | None:
    """Return the catalog language a table is written in, or None for column names and codes."""
    return None if codes else ("zh_CN" if lang == "zh" else "en")


class NewFile(click.Path):
    """A file a command writes: checked before the command changes anything.

    A folder that does not exist would otherwise be found only at the end, after cards were
    issued or good rows imported, with a traceback instead of a message.
    """

    def __init__(self) -> None:
        super().__init__(path_type=Path, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the path, or fail saying which folder is missing or not writable."""
        path = super().convert(value, param, ctx)
        folder = Path(os.fsdecode(path)).absolute().parent
        if not folder.is_dir():
            self.fail(_(NO_FOLDER, folder=folder), param, ctx)
        if not os.access(folder, os.W_OK | os.X_OK):
            self.fail(_(CANNOT_WRITE, folder=folder), param, ctx)
        return path


NO_FOLDER = N_("there is no folder {folder}; make it first (mkdir -p {folder}) or name another")
CANNOT_WRITE = N_("cannot write in the folder {folder}; run as its owner or name another")
