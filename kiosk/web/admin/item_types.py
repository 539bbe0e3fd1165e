"""The librarian's item types: reference books, magazines and her own, each with its loan rules.

A type is a rules row (kiosk/circulation/rules.py `ItemType`); each change is one event decided
by `decide.item_type_saved` and written by its projection, a removal by `decide.item_type_removed`
and an item's type by `decide.item_type_set`. A refused form shows what was typed, with the
problem beside its field; a refused removal says why beside its type.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from kiosk.circulation import queries, records
from kiosk.circulation.commands import SaveItemType
from kiosk.circulation.events import Refusal
from kiosk.circulation.rules import ItemType, load_rules
from kiosk.config.rule_defaults import BOUNDS, ITEM_TYPES
from kiosk.i18n import N_, N_plural, item_type_name
from kiosk.web import current_lang, gettext, web
from kiosk.web.admin import actor, bp
from kiosk.web.admin.records import item_page
from kiosk.web.admin.rules_form import RulesForm, _number

NUMBERS = {"loan_days": "loan_days", "max_loans": "type_max_loans", "renewals": "renewals"}
REFUSALS = {
    "type_name_missing": N_("Give the type a name."),
    "type_name_bad": N_("Write a name of at most {count} characters, on one line."),
    "type_name_taken": N_("There is already a type called {name}."),
    "type_number": N_("Write a number from {low} to {high}."),
    "unknown_type": N_("There is no item type {type}."),
    "unknown_code": N_("There is no such book."),
    "type_in_use": N_plural(
        "{count} book is of this type: give it another type first.",
        "{count} books are of this type: give them another type first.",
    ),
    "type_built_in": N_("{type} is built into the kiosk: it cannot be removed."),
}


@bp.app_template_filter("type_name")
def type_name(kind: ItemType | str) -> str:
    """Return a type's name in the reader's language (a librarian's type: as she typed it)."""
    if isinstance(kind, str):  # an item's stored key
        kind = load_rules(web().store.reader).item_type(kind)
    return item_type_name(kind.label, current_lang())


def all_types() -> list[ItemType]:
    """Return the library's item types: the built-in ones first, then hers by name."""
    return _types()


def _types() -> list[ItemType]:
    """Return the library's item types: the built-in ones first, then hers by name."""
    kinds = load_rules(web().store.reader).item_types
    built_in = [kinds[k] for k in ITEM_TYPES]
    own = sorted((t for k, t in kinds.items() if k not in ITEM_TYPES), key=lambda t: t.label)
    return built_in + own


def _typed(kind: ItemType | None) -> dict[str, Any]:
    if kind is None:
        return {"name": "", "lendable": True, "loan_days": "", "max_loans": "", "renewals": ""}
    return {
        "name": kind.name or "",
        "lendable": kind.lendable,
        **{k: "" if getattr(kind, k) is None else getattr(kind, k) for k in NUMBERS},
    }


def _page(
    kind: ItemType | None,
    typed: dict[str, Any],
    errors: dict[str, str],
    not_removed: dict[str, str] | None = None,
) -> str:
    counts = queries.items_by_type(web().store.reader)
    return render_template(
        "admin/item_types.html",
        types=_types(),
        counts=counts,
        editing=kind,
        typed=typed,
        errors=errors,
        not_removed=not_removed or {},
    )


@bp.get("/rules/types")
def item_types() -> str:
    """List the item types with their loan rules, and a form for a new one."""
    return _page(None, _typed(None), {})


@bp.get("/rules/types/<key>")
def item_type(key: str) -> str:
    """Show an item type's form, filled with its rules."""
    kind = load_rules(web().store.reader).item_types.get(key)
    if kind is None:
        abort(404)
    return _page(kind, _typed(kind), {})


@bp.post("/rules/types")
def item_type_new() -> Any:
    """Add an item type."""
    return _save(None)


@bp.post("/rules/types/<key>")
def item_type_save(key: str) -> Any:
    """Change an item type's loan rules (and a librarian's type's name)."""
    kind = load_rules(web().store.reader).item_types.get(key)
    if kind is None:
        abort(404)
    return _save(kind)


def _save(kind: ItemType | None) -> Any:
    f = request.form
    typed: dict[str, Any] = {
        "name": f.get("name", ""),
        "lendable": bool(f.get("lendable")),
        **{k: f.get(k, "") for k in NUMBERS},
    }
    form = RulesForm(typed)
    numbers = {k: _number(form, k, BOUNDS[bound], required=False) for k, bound in NUMBERS.items()}
    errors = {k: gettext(msg, **params) for k, (msg, params) in form.errors.items()}
    if not errors:
        cmd = SaveItemType(
            kind.key if kind else "",
            typed["name"],
            typed["lendable"],
            numbers["loan_days"],
            numbers["max_loans"],
            numbers["renewals"],
            actor(),
        )
        done = records.save_item_type(web().store, cmd)
        if not isinstance(done, Refusal):
            flash(gettext("Item type saved."))
            return redirect(url_for("admin.item_types"))
        errors[done.params["field"]] = gettext(REFUSALS[done.reason], **done.params)
    flash(gettext("Not saved: check the fields marked in red."), "error")
    return _page(kind, typed, errors), 400


@bp.post("/rules/types/<key>/remove")
def item_type_remove(key: str) -> Any:
    """Remove one of her item types that no book has; or say beside it why not."""
    kind = load_rules(web().store.reader).item_types.get(key)
    if kind is None:
        abort(404)
    name = type_name(kind)
    done = records.remove_item_type(web().store, key, actor())
    if isinstance(done, Refusal):
        if done.reason == "unknown_type":  # removed meanwhile (another tab): as if never there
            abort(404)
        why = gettext(REFUSALS[done.reason], **done.params)
        return _page(None, _typed(None), {}, {key: why}), 400
    flash(gettext("Item type {name} removed.", name=name))
    return redirect(url_for("admin.item_types"))


@bp.post("/items/<barcode>/type")
def item_type_set(barcode: str) -> Any:
    """Give a book its type, and so its loan rules."""
    done = records.set_item_type(web().store, barcode, request.form.get("item_type", ""), actor())
    if isinstance(done, Refusal):
        if done.reason == "unknown_code":
            abort(404)
        flash(gettext(REFUSALS[done.reason], **done.params), "error")
        return item_page(barcode), 400
    flash(gettext("Saved."))
    return redirect(url_for("admin.item", barcode=barcode))
