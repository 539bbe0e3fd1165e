"""The web's layout is what docs/web.md says: one package and one blueprint per area, at its prefix.

The table under "Areas" in docs/web.md is read here and compared with the app: every area a
package of `kiosk/web/` whose `bp` is registered under the area's name, every URL of an area under
its prefix, every nested blueprint named in its area's row with its URL, every module of an area
named in its row, and nothing else in `kiosk/web/` but the shared modules. A nested page (the
desk's collection chores, the reading stars) keeps its area's check: refused from outside.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import kiosk.web
from kiosk.web import create_app

ROOT = Path(__file__).resolve().parents[2]
WEB = Path(kiosk.web.__file__).parent
SHARED = {"__init__.py", "live.py", "security.py", "server.py"}  # the root's, for every area
ROW = re.compile(r"^\| `(\w+)/` \| `(\w+)`, (none|`(/[\w/]*)`)")
NESTED = re.compile(r"nested (?:blueprint )?`([\w.]+)` at `(/[\w/]*)`")


def areas() -> dict[str, dict[str, Any]]:
    """Return each area of docs/web.md's table: its blueprint, prefix, row text."""
    page = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    section = page.split("## Areas", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            found[m[1]] = {"bp": m[2], "prefix": m[4] or "", "row": line}
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from kiosk.config import from_dict
    from kiosk.daemon.app import open_store

    folder = tmp_path_factory.mktemp("areas")
    settings = from_dict({"store": {"path": "kiosk.db"}}, base_dir=folder)
    return create_app(store=open_store(settings), settings=settings, hub=True)


def test_the_table_names_every_area_and_its_blueprint(app: Flask) -> None:
    table = areas()
    assert len(table) >= 10, "docs/web.md's table of areas was not found"
    assert {name for name in app.blueprints if "." not in name} == set(table)  # not nested
    for area, said in table.items():
        assert said["bp"] == area
        package = importlib.import_module(f"kiosk.web.{area}")
        assert Path(str(package.__file__)).name == "__init__.py", f"{area} is not a package"
        assert app.blueprints[area] is package.bp


def test_every_url_lies_under_its_area_and_nested_blueprints_are_documented(app: Flask) -> None:
    table = areas()
    nested: dict[str, str] = {}
    for area, said in table.items():
        for name, prefix in NESTED.findall(said["row"]):
            assert name.split(".")[0] == area, f"{name} is documented in the row of {area}"
            nested[name] = prefix
    seen = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        *blueprints, _view = rule.endpoint.split(".")
        area = blueprints[0]
        assert rule.rule.startswith(table[area]["prefix"]), (rule.rule, area)
        if len(blueprints) > 1:
            name = ".".join(blueprints)
            assert name in nested, f"{name} ({rule.rule}) is missing from docs/web.md's table"
            assert rule.rule.startswith(nested[name]), (rule.rule, name, nested[name])
            seen.add(name)
    assert seen == set(nested)


def test_every_module_belongs_to_an_area_or_is_shared() -> None:
    table = areas()
    assert {p.name for p in WEB.glob("*.py")} == SHARED
    packages = {p.parent.name for p in WEB.glob("*/__init__.py")}
    assert packages == set(table)
    for area in table:
        for module in (WEB / area).glob("*.py"):
            if module.name != "__init__.py":
                assert f"`{module.name}`" in table[area]["row"], f"{area}/{module.name}"


@pytest.mark.parametrize(
    "path", ["/desk/collection/", "/desk/new-book", "/admin/reports/stars/", "/admin/donations/"]
)
def test_a_page_that_joins_or_nests_in_an_area_keeps_its_check(app: Flask, path: str) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # not the school's network
    assert client.get(path).status_code == 403
