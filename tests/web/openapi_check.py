"""Check JSON answers against kiosk/web/api/openapi.yaml (the subset of OpenAPI 3.0 it uses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import kiosk.web.api

SPEC = yaml.safe_load((Path(kiosk.web.api.__file__).parent / "openapi.yaml").read_text())
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def response_schema(path: str, status: int) -> dict[str, Any]:
    """Return the schema the spec gives for a GET answer."""
    answer = SPEC["paths"][path]["get"]["responses"][str(status)]
    return answer["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Return every place the value breaks the schema."""
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null not allowed"]
    kind = schema.get("type")
    if kind and (
        not isinstance(value, TYPES[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']}"]
    found = []
    if kind == "object":
        props = schema.get("properties", {})
        found += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            found += [f"{where}.{k}: not in the spec" for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                found += problems(v, props[k], f"{where}.{k}")
    if kind == "array":
        for i, v in enumerate(value):
            found += problems(v, schema.get("items", {}), f"{where}[{i}]")
    return found
