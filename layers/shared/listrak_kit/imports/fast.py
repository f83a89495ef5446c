"""The fast path for import records: compiled msgspec schemas derived from the pydantic models in records.py.

A record the fast path accepts is exactly what the detailed models accept, serialised to the same bytes; anything
it is not sure of (a blank value, a number in a string field, a date-time not written as the models write it, a float
JSON would spell in exponent form...) it refuses, and the detailed models decide and name every problem. So
the rules live in records.py alone, reject reports stay as they are, and the usual record costs a few microseconds.

CSV cells are strings: a cell for a number or a boolean is converted first when it is plainly one ("12", "9.99",
"true"), and the converted record tries the fast path again.
"""

from __future__ import annotations

import re
import types
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from listrak_kit.imports.chunks import serialize_checked
from listrak_kit.imports.records import ENTITIES, ListrakRecord, complete, validate_record

__all__ = ["compile_schemas", "fast_serialized", "record_bytes"]

# msgspec writes a float that json.dumps spells with an exponent differently: 1e16 and up are refused by the
# schema, and one below 1e-4 sends the record the detailed way. The same text inside a string ("a:1e-5") is a
# false alarm that costs only time.
_SMALL_FLOAT = re.compile(rb"[:,\[]-?(?:0\.0000|\d+(?:\.\d+)?e-)")
_FLOAT_LIMIT = 1e16
# Blank text means absent in the detailed models, so a string value that is all whitespace is theirs to decide.
# In msgspec's JSON a string value starts right after `":"` (a quote inside a string is escaped), and Python's
# whitespace is a space, an escape (\t \n \r \f \u000b \u001c-\u001f) or one of these UTF-8 sequences.
_BLANK_VALUE = re.compile(
    rb'":"(?: |\\[tnrf]|\\u00(?:0b|1[c-f])|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]'
    rb'|\xe2\x81\x9f|\xe3\x80\x80)+"'
)
# A date-time already written as the detailed models write it passes as its text: a real calendar date (the 29th
# of February and anything unusual left to the models), seconds, six fractional digits or none, Z or an offset.
_DAY = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_CANONICAL_DATETIME = (
    r"^(?!0000)\d{4}-" + _DAY + r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(?!000000)\d{6})?"
    r"(?:Z|[+-](?!00:00)(?:[01]\d|2[0-3]):[0-5]\d)?$"
)
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _leaf(annotation: Any, limits: dict[str, Any]) -> Any:
    """The msgspec type for one pydantic annotation (constraints gathered from its FieldInfo metadata)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        for item in extra:
            if isinstance(item, FieldInfo):
                limits |= _limits(item.metadata)
        return _leaf(base, limits)
    if origin in (Union, type(int | None)):
        return Union[tuple(_leaf(arg, dict(limits)) for arg in get_args(annotation))]  # noqa: UP007
    if origin is list:
        return types.GenericAlias(list, (_leaf(get_args(annotation)[0], {}),))  # list[...] of a type built here
    if origin is Literal or annotation is type(None) or annotation is bool:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        return _struct(annotation)
    if annotation is str:
        return Annotated[str, msgspec.Meta(min_length=1, max_length=limits.get("max_length"))]
    if annotation is int:
        return Annotated[int, msgspec.Meta(ge=limits["ge"], le=limits["le"])]
    if annotation is float:
        assert limits.get("allow_inf_nan") is False
        return Annotated[float, msgspec.Meta(gt=-_FLOAT_LIMIT, lt=_FLOAT_LIMIT)]  # finite, and no exponent
    if annotation is datetime:
        return Annotated[str, msgspec.Meta(pattern=_CANONICAL_DATETIME)]
    raise TypeError(f"no fast type for {annotation!r}")


def _limits(metadata: list[Any]) -> dict[str, Any]:
    """max_length, ge, le, allow_inf_nan from annotated-types / pydantic constraint objects."""
    found: dict[str, Any] = {}
    for constraint in metadata:
        for name in ("max_length", "ge", "le", "allow_inf_nan"):
            if getattr(constraint, name, None) is not None:
                found[name] = getattr(constraint, name)
    return found


@cache
def _struct(model: type[BaseModel]) -> type[msgspec.Struct]:
    fields = []
    for name, info in model.model_fields.items():
        kind = _leaf(info.annotation, _limits(info.metadata))  # a required field's constraints sit on the field
        fields.append((name, kind) if info.is_required() else (name, kind, None))
    return msgspec.defstruct(model.__name__, fields, kw_only=True, forbid_unknown_fields=True, omit_defaults=True)


@cache
def _kinds(model: type[BaseModel]) -> dict[str, Any]:
    """For the CSV conversion: each field's scalar type (int, float, bool), sub-model, or [sub-model]."""
    kinds: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        text = repr(info.annotation)
        for arg in _flatten(info.annotation):
            if isinstance(arg, type) and issubclass(arg, ListrakRecord):
                kinds[name] = [arg] if "list[" in text else arg
            elif arg in (int, float, bool):
                kinds[name] = arg
    return kinds


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    if not args or get_origin(annotation) is Literal:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]


def _converted(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the record with plain number and boolean text read as its type; everything else as it was."""
    kinds = _kinds(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = kinds.get(key)
        if isinstance(value, str):
            if kind is int and _INT.fullmatch(value):
                value = int(value)
            elif kind is float and _FLOAT.fullmatch(value):
                value = float(value)
            elif kind is bool and value in _BOOLS:
                value = _BOOLS[value]
        elif isinstance(value, dict) and isinstance(kind, type) and issubclass(kind, ListrakRecord):
            value = _converted(kind, value)
        elif isinstance(value, list) and isinstance(kind, list):
            value = [_converted(kind[0], item) if isinstance(item, dict) else item for item in value]
        out[key] = value
    return out


_encode = msgspec.json.Encoder().encode


def compile_schemas() -> None:
    """Builds every entity's schema now rather than on its first record (a SnapStart snapshot keeps them)."""
    for spec in ENTITIES.values():
        _struct(spec.model)


def fast_serialized(entity: str, raw: dict[str, Any]) -> bytes | None:
    """The record as Listrak's JSON bytes when the fast path is sure of it; None leaves it to the detailed models."""
    model = ENTITIES[entity].model
    body = _attempt(_struct(model), raw)
    if body is None:
        body = _attempt(_struct(model), _converted(model, raw))
    if body is None or (b'":"' in body and _BLANK_VALUE.search(body)):
        return None
    if (b"e-" in body or b"0.0000" in body) and _SMALL_FLOAT.search(body):
        return None
    return body


def _attempt(struct: type[msgspec.Struct], data: dict[str, Any]) -> bytes | None:
    try:
        return _encode(msgspec.convert(data, struct))
    except (msgspec.ValidationError, UnicodeEncodeError):
        return None


def record_bytes(entity: str, raw: dict[str, Any]) -> tuple[bytes | None, list[tuple[str, str]]]:
    """The record (completed, see records.complete) as Listrak's JSON bytes, or None and every problem with it."""
    raw = complete(entity, raw)
    body = fast_serialized(entity, raw)
    if body is not None:
        return body, []
    record, problems = validate_record(entity, raw)
    if record is None:
        return None, problems
    body, problem = serialize_checked(record)
    return (body, []) if body is not None else (None, [problem])
