"""Data Import records checked one by one against Listrak's rules (data_rules.json, written from the Data API's
specification): required properties, types, date-time formats, maxLength, enum values and int32 bounds.

This is the sandbox's own reading of the contract; it shares no code with the project's import models, so a
regression there is caught here rather than checked against itself.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

INT32 = (-(2**31), 2**31 - 1)
MAX_PROBLEMS = 20  # a refusal names at most this many problems


@cache
def rules() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("data_rules.json")).read_text(encoding="utf-8"))


def record_problems(entity: str, records: list[Any]) -> list[str]:
    """Every problem of every record ("[2].orderNumber: ..."), at most MAX_PROBLEMS of them; [] when all pass."""
    problems: list[str] = []
    for index, record in enumerate(records):
        _check_object(entity, record, f"[{index}]", problems)
        if len(problems) >= MAX_PROBLEMS:
            return problems[:MAX_PROBLEMS]
    return problems


def _check_object(type_name: str, value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a {type_name} object")
        return
    spec = rules()["types"][type_name]
    for name in spec["required"]:
        if value.get(name) is None:
            problems.append(f"{where}.{name}: is required")
    for name in sorted(set(value) - set(spec["properties"])):
        problems.append(f"{where}.{name}: is not a property of {type_name}")
    for name, kind in spec["properties"].items():
        if value.get(name) is not None:
            _check_value(kind, value[name], f"{where}.{name}", problems)


def _check_value(kind: str, value: Any, where: str, problems: list[str]) -> None:
    problem = None
    if kind.startswith("[@"):
        if not isinstance(value, list):
            problem = "must be an array"
        else:
            for index, item in enumerate(value):
                _check_object(kind[2:-1], item, f"{where}[{index}]", problems)
    elif kind.startswith("@"):
        _check_object(kind[1:], value, where, problems)
    elif kind.startswith("string"):
        _, _, limit = kind.partition(":")
        if not isinstance(value, str):
            problem = "must be a string"
        elif limit and len(value) > int(limit):
            problem = f"is longer than {limit} characters ({len(value)})"
    elif kind.startswith("enum:"):
        allowed = rules()["enums"][kind[5:]]
        if value not in allowed:
            problem = f"must be one of {', '.join(allowed)}"
    elif kind == "date-time":
        problem = None if isinstance(value, str) and _is_date_time(value) else "must be an ISO-8601 date-time"
    elif kind == "int32":
        if not isinstance(value, int) or isinstance(value, bool):
            problem = "must be an integer"
        elif not INT32[0] <= value <= INT32[1]:
            problem = "is outside the 32-bit integer range"
    elif kind == "double":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problem = "must be a number"
    elif kind == "boolean":
        problem = None if isinstance(value, bool) else "must be true or false"
    if problem is not None:
        problems.append(f"{where}: {problem}")


def _is_date_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True
