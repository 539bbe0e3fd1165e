"""The command line is one package: every group a module, every module a plain import."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

from kiosk import cli

PACKAGE = Path(cli.__file__).parent


def test_every_area_is_listed() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    for name in cli.AREA_COMMANDS:
        assert f"  {name} " in result.output


def test_every_module_of_the_package_is_a_plain_import_that_import_linter_sees() -> None:
    trees = [ast.parse(p.read_text("utf-8")) for p in PACKAGE.glob("*.py")]
    imported = {
        alias.name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "kiosk.cli"
        for alias in node.names
    } | {
        node.module.rsplit(".", 1)[1]
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kiosk.cli.")
    }
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert modules - imported == set()
    for path in PACKAGE.glob("*.py"):
        assert "importlib" not in path.read_text("utf-8"), f"{path.name} loads code from a string"
    assert not list(PACKAGE.parent.rglob("*_cli.py")), "a command module outside kiosk/cli/"
