"""Typed events, checked once where they enter: the hub projects what its schema let in, with no
catch around the projection to find a malformed event.

Every field a projection reads from an event's data is a field of that type's schema
(kiosk/circulation/schemas.py), and one it reads without a default is a required one: so an
event that passed the check cannot fail in its projection for want of a field. An optional field
a kiosk sends as null is read as empty, applied, and not listed.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import uuid
from typing import Any

from kiosk.circulation import projector, schemas

from .conftest import BOOK, Hub
from .test_hub_input import batch, event, post


def _reads(fn: Any) -> tuple[set[str], set[str]]:
    """Return the data fields a projection reads: (without a default, with .get)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))

    def is_data(node: ast.AST) -> bool:
        # `e.data`, or `d` (each projection's name for it)
        return (isinstance(node, ast.Attribute) and node.attr == "data") or (
            isinstance(node, ast.Name) and node.id == "d"
        )

    needed, optional = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_data(node.value):
            if isinstance(node.slice, ast.Constant):
                needed.add(node.slice.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and is_data(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            optional.add(node.args[0].value)
    return needed, optional


def test_every_field_a_projection_reads_is_in_its_schema() -> None:
    projections = projector._PROJECTIONS
    checked = 0
    for type_, schema in schemas.SCHEMAS.items():
        if type_ not in projections:
            continue
        fields = {f.name: f for f in schema.fields}
        needed, optional = _reads(projections[type_])
        assert needed | optional <= fields.keys(), (type_, (needed | optional) - fields.keys())
        assert {n for n in needed if not fields[n].required} == set(), type_
        checked += 1
    assert checked >= 25  # the loan, collection, card, list and star types the hub projects


def test_optional_fields_sent_as_null_are_applied_and_not_listed(hub: Hub) -> None:
    token = hub.register("k1")
    lost, stocktake, list_id = str(uuid.uuid4()), "ST-null", "L-null"
    events = [
        event(
            "k1",
            "item_lost",
            uuid=lost,
            patron_id=None,
            item_barcode=BOOK[3],
            data={"loan_uuid": None, "note": None},
        ),
        event(
            "k1",
            "stocktake_started",
            patron_id=None,
            item_barcode=None,
            data={"stocktake": stocktake, "location": None, "call_from": None, "call_to": None},
        ),
        event(
            "k1",
            "reading_list_saved",
            patron_id=None,
            item_barcode=None,
            data={"list": list_id, "name": "暑假书单", "grade": None, "term": None, "target": 3},
        ),
    ]
    resp = post(hub, token, batch("k1", *events))
    assert resp.status_code == 200, resp.text
    later = [
        event(
            "k1",
            "compensation_recorded",
            patron_id=None,
            item_barcode=None,
            data={"incident": lost, "kind": "waived", "amount": None},
        ),
        event(
            "k1",
            "reading_list_title_added",
            patron_id=None,
            item_barcode=None,
            data={"list": list_id, "key": "书 2", "title": "书 2", "author": None, "isbn": None},
        ),
    ]
    resp = post(hub, token, batch("k1", *later))
    assert resp.status_code == 200, resp.text

    assert hub.query("SELECT kind, detail FROM conflicts") == []
    assert hub.query("SELECT note, compensation, amount FROM incidents") == [
        {"note": "", "compensation": "waived", "amount": ""}
    ]
    assert hub.query("SELECT location, call_from, call_to FROM stocktakes") == [
        {"location": "", "call_from": "", "call_to": ""}
    ]
    assert hub.query("SELECT name, grade, term, target FROM reading_lists") == [
        {"name": "暑假书单", "grade": None, "term": "", "target": 3}
    ]
    assert hub.query("SELECT title_key, author, isbn FROM reading_list_titles") == [
        {"title_key": "书 2", "author": "", "isbn": ""}
    ]
