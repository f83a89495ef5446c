"""records.py and the sandbox's data_rules.json read Listrak's spec independently, on purpose (neither checks
itself against the other). This shows when they drift apart: records.py's rules, written in data_rules.json's
notation, must equal the file, and a difference fails with a readable diff."""

from __future__ import annotations

import difflib
import json
import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from listrak_kit.imports.record_types import DISCOUNT_TYPES, ORDER_STATUSES, ListrakRecord
from listrak_kit.imports.records import ENTITIES
from local_stack import ROOT

RULES = ROOT / "local_stack" / "sandbox" / "data_rules.json"
ENUMS = {ORDER_STATUSES: "OrderStatus", DISCOUNT_TYPES: "DiscountType"}
SCALARS = {int: "int32", float: "double", bool: "boolean", datetime: "date-time"}


def kind(annotation: Any, max_length: int | None = None) -> str:
    """One property's kind as data_rules.json writes it (string:MAXLENGTH, int32, enum:NAME, @Type, [@Type]...)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        for item in extra:
            if isinstance(item, FieldInfo):
                max_length = next((m.max_length for m in item.metadata if hasattr(m, "max_length")), max_length)
        return kind(base, max_length)
    if origin in (Union, types.UnionType):
        [only] = [arg for arg in get_args(annotation) if arg is not type(None)]
        return kind(only, max_length)
    if origin is list:
        return f"[{kind(get_args(annotation)[0])}]"
    if origin is Literal:
        return f"enum:{ENUMS[get_args(annotation)]}"
    if isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        return f"@{annotation.__name__}"
    if annotation is str:
        return f"string:{max_length}" if max_length else "string"
    return SCALARS[annotation]


def rendered() -> dict[str, Any]:
    """records.py's rules in data_rules.json's shape: every type reachable from the entities, and the enums."""
    found: dict[str, Any] = {}
    pending = [spec.model for spec in ENTITIES.values()]
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        properties = {}
        for name, info in model.model_fields.items():
            lengths = [m.max_length for m in info.metadata if hasattr(m, "max_length")]
            properties[name] = kind(info.annotation, lengths[0] if lengths else None)
            pending += _models(info.annotation)
        required = sorted(name for name, info in model.model_fields.items() if info.is_required())
        found[model.__name__] = {"required": required, "properties": dict(sorted(properties.items()))}
    return {"enums": {name: list(values) for values, name in ENUMS.items()}, "types": found}


def _models(annotation: Any) -> list[type[ListrakRecord]]:
    if isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models(arg)]


def normalised(rules: dict[str, Any]) -> str:
    types_ = {
        name: {"required": sorted(spec["required"]), "properties": dict(sorted(spec["properties"].items()))}
        for name, spec in rules["types"].items()
    }
    enums = {name: list(values) for name, values in rules["enums"].items()}
    return json.dumps({"enums": enums, "types": types_}, indent=1, sort_keys=True) + "\n"


def drift(sandbox_rules: dict[str, Any]) -> str:
    """The unified diff from the sandbox's rules to records.py's; empty when they agree."""
    theirs, ours = normalised(sandbox_rules).splitlines(True), normalised(rendered()).splitlines(True)
    return "".join(difflib.unified_diff(theirs, ours, "data_rules.json", "records.py"))


def test_records_py_and_the_sandbox_s_rules_say_the_same():
    diff = drift(json.loads(RULES.read_text(encoding="utf-8")))
    assert not diff, f"records.py and data_rules.json disagree:\n{diff}"


def test_a_drift_shows_as_a_diff_naming_the_property():
    drifted = json.loads(RULES.read_text(encoding="utf-8"))
    drifted["types"]["Order"]["properties"]["couponCode"] = "string:31"
    drifted["types"]["Review"]["required"].remove("featured")
    lines = drift(drifted).splitlines()
    assert '-    "couponCode": "string:31",' in lines and '+    "couponCode": "string:32",' in lines
    assert '+    "featured",' in lines
