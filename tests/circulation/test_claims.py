"""The claims docs/architecture.md makes ("What a test checks"), each checked by reading the code.

Each test reads the source as syntax (ast), not as text, and names every offender it finds: the
module and line, and what the claim says should have been there instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from kiosk.circulation import projector

ROOT = Path(__file__).resolve().parents[2]
KIOSK = ROOT / "kiosk"
CIRCULATION = KIOSK / "circulation"


def sources(folder: Path) -> Iterator[tuple[str, ast.Module]]:
    """Yield (path relative to the repository, syntax tree) of every module below `folder`."""
    for path in sorted(folder.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text("utf-8"), str(path))


def module_name(path: str) -> str:
    """Return the dotted name of a module from its path: kiosk/ops/__init__.py is kiosk.ops."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def dotted(node: ast.expr) -> str:
    """Return a call's function as written (importlib.import_module), or '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


# --- every projected event type has a decision that drafts it -------------------------------

# Types with a projection that no decision drafts, because no command makes them: each is
# applied through its projection and never logged. (Rows decided elsewhere, an import's, an
# undone import's, the hub's feed, the demo's, are events of `decide.rows_copied`: `CopyRows`.)
COPIES = {
    # Built only by the hub (sync/reconcile.py) before it replays a book's events in order.
    "loans_replayed": "the hub forgets a book's loans before replaying its events",
}
# Types recorded with no decision yet: none now (every one goes through the handler).
NO_DECISION_YET: dict[str, str] = {}


def draft_type(call: ast.Call) -> ast.expr | None:
    """Return the expression a Draft(...) is given as its type, positional or by keyword."""
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "type"), None)


def text_of(node: ast.Constant | ast.JoinedStr) -> str:
    """Return a string constant's text, an f-string's with an x for each value; else ''."""
    if isinstance(node, ast.JoinedStr):
        return "".join(text_of(v) if isinstance(v, ast.Constant) else "x" for v in node.values)
    return node.value if isinstance(node.value, str) else ""


def strings_in(node: ast.AST) -> set[str]:
    """Return every string constant inside a node."""
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def drafted_types(types: list[str]) -> dict[str, str]:
    """Return each of `types` that some Draft(...) in kiosk/circulation drafts, with where.

    A type given as a string is taken as it is; an f-string (f"hold_{how}") matches the types
    it spells with any word its module's strings and docstrings say ("fulfilled"); a name
    (`kind`) matches the type strings of the function that builds the Draft.
    """
    found: dict[str, str] = {}
    for path, tree in sources(CIRCULATION):
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        said = {w for text in strings_in(tree) for w in re.findall(r"[a-z]\w*", text)}
        words = "|".join(re.escape(w) for w in sorted(said))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and dotted(node.func).endswith("Draft")):
                continue
            where = f"{path}:{node.lineno}"
            given = draft_type(node)
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                spelled = {given.value}
            elif isinstance(given, ast.JoinedStr):
                pattern = "".join(
                    re.escape(text_of(v)) if isinstance(v, ast.Constant) else f"(?:{words})"
                    for v in given.values
                )
                spelled = {t for t in types if re.fullmatch(pattern, t)}
            elif isinstance(given, ast.Name):
                around = [
                    f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)
                ]
                spelled = strings_in(around[-1]) & set(types) if around else set()
            else:
                spelled = set()
            for type_ in spelled:
                found.setdefault(type_, where)
    return found


def test_every_projected_event_type_has_a_decision_that_drafts_it() -> None:
    types = projector.event_types()
    drafted = drafted_types(types)
    allowed = COPIES | NO_DECISION_YET
    missing = [t for t in types if t not in drafted and t not in allowed]
    assert not missing, (
        "event types with a projection that no Draft(...) in kiosk/circulation drafts "
        f"(give each a decision, or list it in COPIES with why): {missing}"
    )


def test_the_allowlists_of_undecided_types_name_only_undecided_projected_types() -> None:
    types = projector.event_types()
    drafted = drafted_types(types)
    stale = [t for t in COPIES | NO_DECISION_YET if t not in types or t in drafted]
    assert not stale, f"listed as undecided but drafted by a decision, or not projected: {stale}"


# --- rows copied unlogged only where the docs say ---------------------------------------------

# The unlogged copies (records.put_patron, put_item) and who outside tests and benchmarks may
# call them, with why (docs/architecture.md, "Copies of rows decided elsewhere").
# Modules that may copy a row without an event, each with why: none (a SIP2 library system's
# answer is an event too, actor "library system").
UNLOGGED_CALLERS: dict[str, str] = {}
UNLOGGED = {"put_patron", "put_item", "_unlogged"}


def unlogged_calls(tree: ast.Module) -> list[int]:
    """Return the lines where a module calls an unlogged copy."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] in UNLOGGED
    ]


def test_rows_are_copied_unlogged_only_by_the_callers_named() -> None:
    offenders = [
        f"{path}:{line}"
        for path, tree in sources(KIOSK)
        if path not in UNLOGGED_CALLERS and path != "kiosk/circulation/records.py"
        for line in unlogged_calls(tree)
    ]
    assert not offenders, (
        "rows copied without an event (save them through records.copy_rows, or name the "
        f"caller in UNLOGGED_CALLERS with why): {offenders}"
    )
    named = dict(sources(KIOSK))
    assert all(unlogged_calls(named[path]) for path in UNLOGGED_CALLERS), "stale callers"


# --- every module is in an import-linter layer: tests/test_layout.py checks it ---


# --- no SQL write outside the projections, migrations, the log and the queues ------------------

SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)|REPLACE\s+INTO\s+(\w+)"
    r"|UPDATE\s+(?:OR\s+\w+\s+)?(\w+)\s+SET|DELETE\s+FROM\s+(\w+))"
)
TABLE_WRITES = {"insert", "upsert", "insert_all", "upsert_all", "delete", "delete_where", "update"}
# Where a write may be: a folder or module, the tables it may write ("*": any), and why.
WRITERS: dict[str, tuple[set[str], str]] = {
    "kiosk/circulation/projections/": ({"*"}, "the one projector: each event's effect"),
    "kiosk/circulation/migrations.py": ({"*"}, "schema and data migrations, and their triggers"),
    "kiosk/circulation/store.py": ({"events"}, "the event log: store.record appends an event"),
    "kiosk/circulation/stats/find.py": (
        {"title_search"},
        "the search's read model: each title's pinyin, spelled from items (rows made by triggers)",
    ),
    "kiosk/circulation/sip2_queue.py": (
        {"sip2_queue", "sip2_link", "sip2_cards"},
        "the SIP2 queue: messages waiting for the library system, the link, cards it accepted",
    ),
    "kiosk/sync/replica.py": (
        {"sync_state", "event_acks"},
        "the outbox's bookkeeping: the hub's acknowledgements and the feed's position",
    ),
    "kiosk/circulation/importers/journal.py": (
        {"*"},
        "the import journal: rows as they were, and the undo of a stopped import",
    ),
    "kiosk/sync/hubstore.py": (
        {"*"},
        "the hub's own store: kiosks, received batches, the conflicts it lists",
    ),
    "kiosk/sync/reconcile.py": ({"*"}, "the hub's own store: received events, their replay"),
}


def writes_in(tree: ast.Module) -> list[tuple[int, str, str]]:
    """Return (line, table, how) of every SQL write and sqlite-utils table write in a module."""
    return sorted(set(_writes(tree)))


def _writes(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr):
            for match in SQL_WRITE.finditer(text_of(node)):
                table = next(g for g in match.groups() if g)
                yield node.lineno, table, " ".join(match.group(0).split())
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TABLE_WRITES
        ):
            on = node.func.value
            if isinstance(on, ast.Subscript) or (
                isinstance(on, ast.Call) and dotted(on.func).endswith(".table")
            ):
                name = on.slice if isinstance(on, ast.Subscript) else next(iter(on.args), None)
                table = name.value if isinstance(name, ast.Constant) else "?"
                yield node.lineno, str(table), f"sqlite-utils .{node.func.attr}()"


def test_no_sql_write_outside_projections_migrations_the_log_and_the_queues() -> None:
    offenders = []
    for path, tree in sources(KIOSK):
        allowed = next((t for place, (t, _) in WRITERS.items() if path.startswith(place)), set())
        for line, table, how in writes_in(tree):
            if "*" not in allowed and table not in allowed:
                offenders.append(f"{path}:{line} {how} ({table})")
    assert not offenders, (
        "writes outside the projections, migrations, the event log and the queues "
        "(make them an event's projection, or say in WRITERS why this place may write): "
        + "; ".join(offenders)
    )


def test_every_allowed_writer_exists_and_writes() -> None:
    trees = dict(sources(KIOSK))
    idle = [
        place
        for place in WRITERS
        if not any(p.startswith(place) and any(writes_in(t)) for p, t in trees.items())
    ]
    assert not idle, f"WRITERS lists places that write nothing (trim them): {idle}"


def test_the_write_check_finds_a_write() -> None:
    tree = ast.parse(
        'db.execute("INSERT INTO loans (id) VALUES (1)")\n'
        "db.execute(f\"UPDATE items SET status = '{s}'\")\n"
        'db["cards"].upsert({"code": "x"}, pk="code")\n'
        "other.update({})\n"
    )
    assert sorted((t, h) for _, t, h in writes_in(tree)) == [
        ("cards", "sqlite-utils .upsert()"),
        ("items", "UPDATE items SET"),
        ("loans", "INSERT INTO loans"),
    ]


# --- only the handler commits: tests/circulation/test_handler.py checks it ---


# --- no import the linter cannot see -------------------------------------------------------------

# Calls that load a module named by a string, which import-linter cannot follow.
STRING_LOADERS = {
    "__import__",
    "import_module",
    "importlib.import_module",
    "importlib.reload",
    "importlib.util.spec_from_file_location",
    "importlib.util.module_from_spec",
    "importlib.util.find_spec",
    "runpy.run_module",
    "runpy.run_path",
    "pkgutil.iter_modules",
    "pkgutil.walk_packages",
    "import_string",  # werkzeug's
    "exec",
    "eval",
}


def loaders_in(path: str, tree: ast.Module) -> Iterator[str]:
    """Yield where a module loads code by a name import-linter cannot follow."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func) in STRING_LOADERS:
            yield f"{path}:{node.lineno} {dotted(node.func)}()"
        if isinstance(node, ast.ImportFrom) and node.module in ("importlib", "importlib.util"):
            names = [a.name for a in node.names if a.name != "metadata"]
            if names:
                yield f"{path}:{node.lineno} from {node.module} import {', '.join(names)}"


def test_no_module_under_kiosk_loads_code_by_name() -> None:
    offenders = [hit for path, tree in sources(KIOSK) for hit in loaders_in(path, tree)]
    assert not offenders, f"imports import-linter cannot see: {offenders}"


def test_the_loader_check_finds_a_module_loaded_by_name() -> None:
    tree = ast.parse(
        "import importlib\nfrom importlib import import_module\n"
        "importlib.import_module('kiosk.web')\n__import__('kiosk.sync')\n"
        "import importlib.metadata\nimportlib.metadata.version('kiosk')\n"
    )
    assert sorted(loaders_in("x.py", tree)) == [
        "x.py:2 from importlib import import_module",
        "x.py:3 importlib.import_module()",
        "x.py:4 __import__()",
    ]
