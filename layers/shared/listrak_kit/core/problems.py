"""pydantic's errors as FieldProblems: one per bad field, named the way the caller wrote it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from listrak_kit.errors import FieldProblem


def field_name(loc: Sequence[Any], whole: str = "(body)") -> str:
    """A pydantic location as the caller wrote it: `items[0].sku`; `whole` names the value as a whole."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or whole


def problem_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def problems_from(exc: ValidationError, *, rename: Mapping[str, str] | None = None) -> list[FieldProblem]:
    problems = []
    for error in exc.errors():
        name = field_name(error["loc"])
        for original, replacement in (rename or {}).items():
            if name == original or name.startswith(original + ".") or name.startswith(original + "["):
                name = replacement + name[len(original) :]
                break
        problems.append(FieldProblem(name, problem_message(error)))
    return problems
