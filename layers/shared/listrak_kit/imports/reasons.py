"""pydantic's validation errors, said the way a reject report says them (with a hint for a misspelt field)."""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic_core import ErrorDetails

from listrak_kit.imports.record_types import ListrakRecord


def reason_for(error: ErrorDetails, model: type[ListrakRecord]) -> str:
    """pydantic's error, said the way a reject report should say it."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "listrak":
        return error["msg"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        owner = _model_at(model, error["loc"][:-1])
        hint = _closest(str(error["loc"][-1]), tuple(owner.model_fields) if owner else ())
        return "not a Listrak field" + (f" (did you mean {hint}?)" if hint else "")
    if kind == "invalid_key":
        return "field names must be strings"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters (got {len(str(value))})"
    if kind == "literal_error":
        allowed = tuple(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        hint = next((a for a in allowed if isinstance(value, str) and a.casefold() == value.strip().casefold()), None)
        return f"must be one of {', '.join(allowed)}" + (f" (case-sensitive: {hint})" if hint else "")
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "finite_number":
        return "must be a finite number"
    return _REASONS.get(kind) or _REASONS.get(kind.split("_")[0]) or error["msg"]


# By pydantic error type, or by its first word ("int_parsing" -> "int").
_REASONS = {
    "string": "must be a string",
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be true or false",
    "datetime": "must be an ISO-8601 date-time",
    "model": "must be an object",
    "dict": "must be an object",
    "list": "must be a list",
}


def _model_at(model: type[ListrakRecord], loc: tuple[int | str, ...]) -> type[ListrakRecord] | None:
    """The model that owns the field at loc (list indexes skipped)."""
    current: type[ListrakRecord] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current else None
        current = _sub_model(field.annotation) if field else None
    return current


def _sub_model(annotation: Any) -> type[ListrakRecord] | None:
    if isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        return annotation
    return next((found for arg in get_args(annotation) if (found := _sub_model(arg))), None)


def _closest(name: str, fields: tuple[str, ...]) -> str | None:
    # Spreadsheet headers drift in case and separators ("Order Number", "order_number"), rarely in letters.
    def squash(text: str) -> str:
        return re.sub(r"[^0-9a-z]", "", text.casefold())

    return next((field for field in fields if squash(field) == squash(name)), None)
