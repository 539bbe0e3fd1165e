"""Every module of kiosk/ is in a layer of the import-linter contract (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kiosk"


def layers() -> list[list[str]]:
    """Return the layers contract's layers, top first, each a list of module names."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = conf["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def modules() -> dict[str, Path]:
    """Return every module of the kiosk package by its dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def within(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def kiosk_imports(path: Path) -> set[str]:
    """Return the kiosk modules a file imports (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if within(m, "kiosk")}


def test_every_module_is_in_a_layer() -> None:
    named = [m for layer in layers() for m in layer]
    everything = modules()
    assert [m for m in named if m not in everything] == []
    outside = {
        name: path
        for name, path in everything.items()
        if not any(within(name, layer) for layer in named)
    }
    # Only a package whose modules sit in different layers may stay out (kiosk.daemon,
    # kiosk.i18n), and its __init__ then imports nothing but its own modules, so loading the
    # package loads no layer the linter cannot see.
    assert {
        name: sorted(m for m in kiosk_imports(path) if not within(m, name))
        for name, path in outside.items()
        if path.name != "__init__.py" or not all(within(m, name) for m in kiosk_imports(path))
    } == {}
    assert sorted(outside) == ["kiosk", "kiosk.daemon", "kiosk.i18n", "kiosk.ops"]


def test_serving_pages_loads_no_daemon() -> None:
    """`kiosk.web` and the hub serve through `kiosk.daemon.httpserver`, not the daemon's wiring."""
    code = (
        "import sys, kiosk.web.server, kiosk.sync.hub; "
        "print(sorted(m for m in sys.modules if m.startswith('kiosk.daemon')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "['kiosk.daemon', 'kiosk.daemon.httpserver']"
