"""A command area that cannot be imported is an error, not a command that quietly vanishes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kiosk import cli


def test_an_area_that_fails_to_import_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.AREA_COMMANDS, "broken", "kiosk.no_such_area:command")
    result = CliRunner().invoke(cli.main, ["--help"])
    assert isinstance(result.exception, ModuleNotFoundError)
    assert "kiosk.no_such_area" in str(result.exception)


def test_every_area_is_listed() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    for name in cli.AREA_COMMANDS:
        assert f"  {name} " in result.output
