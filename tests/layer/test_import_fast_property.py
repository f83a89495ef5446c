"""A property: on any record built from the models' own fields (right, wrong and borderline values, absent fields,
unknown ones), the fast path and the detailed models agree: what the fast path serialises, the models accept as the
same bytes, and record_bytes accepts and refuses exactly what the models do."""

from __future__ import annotations

import copy
import types
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from listrak_kit.imports.chunks import serialize_checked
from listrak_kit.imports.fast import fast_serialized, record_bytes
from listrak_kit.imports.record_types import ListrakRecord
from listrak_kit.imports.records import ENTITIES, complete, validate_record

ODD_TEXT = st.sampled_from(["", " ", "\t", "\u3000", "\ud800", "12", "9.99", "1e-7", "true", "1", "NaN", "null"])
ODD_VALUE = st.sampled_from([None, True, 0, -1, 1.5, 1e16, 1e-7, float("nan"), [], {}, {"x": 1}])


def _max_length(metadata: list[Any]) -> int | None:
    return next((m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None)


def values(annotation: Any, max_length: int | None, odd: bool) -> st.SearchStrategy[Any]:
    """Values for one field: of its type and within its bounds; with `odd`, also past them, or of another type."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        lengths = [_max_length(item.metadata) for item in extra if isinstance(item, FieldInfo)]
        return values(base, next((n for n in lengths if n), max_length), odd)
    if origin in (Union, types.UnionType):
        return st.one_of([values(arg, max_length, odd) for arg in get_args(annotation) if arg is not type(None)])
    good: st.SearchStrategy[Any]
    bad: st.SearchStrategy[Any]
    if origin is list:
        good, bad = st.lists(values(get_args(annotation)[0], None, odd), max_size=3), ODD_VALUE
    elif origin is Literal:
        allowed = get_args(annotation)
        good, bad = st.sampled_from(allowed), st.sampled_from(allowed).map(str.lower) | ODD_TEXT
    elif isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        good, bad = records(annotation, odd), ODD_VALUE
    elif annotation is str:
        limit = max_length or 40
        text = st.text(st.characters(codec="utf-8", exclude_categories=("Z", "C")), min_size=1, max_size=limit)
        good = text | st.just("x" * limit)  # at its maxLength
        bad = st.just("x" * (limit + 1)) | st.text(max_size=limit + 2) | ODD_TEXT
    elif annotation is int:
        edge = st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1])
        good = st.integers(-(2**31), 2**31 - 1) | st.integers(-1000, 1000).map(str)
        bad = edge | edge.map(str) | ODD_TEXT | ODD_VALUE
    elif annotation is float:
        good = st.integers(-(10**6), 10**6).map(lambda n: n / 8) | st.integers(-1000, 1000).map(lambda n: str(n / 4))
        bad = st.floats(allow_nan=True, allow_infinity=True) | ODD_TEXT | ODD_VALUE
    elif annotation is bool:
        good = st.booleans() | st.sampled_from(["true", "false", "1", "0"])
        bad = st.sampled_from(["True", "yes", " true"]) | ODD_VALUE
    elif annotation is datetime:
        moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))
        zoned = st.sampled_from(["", "Z", "+05:30", "-00:00", "+00:00"])
        good = st.tuples(moments, zoned).map(lambda m: m[0].isoformat() + m[1])
        bad = moments.map(lambda m: m.date().isoformat()) | moments.map(str) | ODD_TEXT | ODD_VALUE
    else:
        raise TypeError(f"no values for {annotation!r}")
    return good | bad if odd else good


@cache
def records(model: type[ListrakRecord], odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A record of the model: every required field (mostly), any of the others, with `odd` an unknown one too."""
    fields = model.model_fields
    drawn = {name: values(info.annotation, _max_length(info.metadata), odd) for name, info in fields.items()}
    required = {name: s for name, s in drawn.items() if fields[name].is_required()}
    optional = {name: s for name, s in drawn.items() if name not in required}
    if odd:
        optional |= {f"{name}?": s for name, s in required.items()}  # a required field left out
        optional["notAField"] = st.text(max_size=3)
        required = {}
    built = st.fixed_dictionaries(required, optional=optional)
    return built.map(lambda record: {key.rstrip("?"): value for key, value in record.items()})


def any_record(model: type[ListrakRecord]) -> st.SearchStrategy[dict[str, Any]]:
    return records(model, False) | records(model, True)


def detailed(entity: str, raw: dict[str, Any]) -> bytes | None:
    record, _ = validate_record(entity, complete(entity, copy.deepcopy(raw)))
    return serialize_checked(record)[0] if record is not None else None


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_the_fast_path_and_the_detailed_models_agree_on_any_record(entity: str) -> None:
    @settings(max_examples=200, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(raw=any_record(ENTITIES[entity].model))
    def agree(raw: dict[str, Any]) -> None:
        expected = detailed(entity, raw)
        fast = fast_serialized(entity, complete(entity, copy.deepcopy(raw)))
        if fast is not None:
            assert fast == expected
        assert record_bytes(entity, copy.deepcopy(raw))[0] == expected

    agree()
