"""`make check`: the catalog (functions/send/catalog.toml, or CATALOG_PATH) against the template's rules.

One line per problem, naming the entry and what to change; exit 1 when there is any.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

from local_stack import ROOT, TEMPLATE
from local_stack.template import Template


def catalog_problems(catalog_path: Path, template: Template) -> list[str]:
    from pydantic import ValidationError

    from listrak_kit.catalog.model import Catalog

    name = _shown(catalog_path)
    try:
        raw = tomllib.loads(catalog_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{name}: not found"]
    except tomllib.TOMLDecodeError as exc:
        return [f"{name}: not valid TOML: {exc}"]
    try:
        catalog = Catalog.model_validate(raw)
    except ValidationError as exc:
        where = [".".join(str(p) for p in err["loc"]) or "(top level)" for err in exc.errors()]
        return [
            f"{name}: {at}: {err['msg'].removeprefix('Value error, ')}"
            for at, err in zip(where, exc.errors(), strict=True)
        ]
    return trigger_problems(name, triggered_by(catalog), template)


def triggered_by(catalog: Any) -> dict[str, list[str]]:
    """detail-type -> the catalog entries (`messages.<name>`, `sms.<name>`) its events may trigger."""
    triggered: dict[str, list[str]] = {}
    for table, index in (("messages", catalog.triggers), ("sms", catalog.sms_triggers)):
        for detail_type, entry in index.items():
            names = [entry.unconditional[0]] if entry.unconditional else sorted({n for n, _ in entry.by_value.values()})
            triggered[detail_type] = sorted({*triggered.get(detail_type, []), *(f"{table}.{n}" for n in names)})
    return triggered


def trigger_problems(name: str, triggers: dict[str, list[str]], template: Template) -> list[str]:
    """Every catalog trigger needs a rule that delivers it; every detail-type a rule delivers needs a trigger."""
    rules = template.catalog_rules()
    problems = []
    for detail_type, messages in triggers.items():
        if not any(rule.matches_detail_type(detail_type) for rule in rules):
            problems.append(missing_from_rule(detail_type, template, messages=messages, catalog=name))
    for rule in rules:
        for wanted in rule.pattern.get("detail-type") or []:
            if isinstance(wanted, str) and wanted not in triggers:
                problems.append(
                    f"{_shown(template.path)}: rule {rule.name} of {rule.function} delivers detail-type {wanted!r}, "
                    f"which no message in {name} is triggered by (those events would be ignored): add a trigger "
                    f"for it to a message, or remove it from {rule.where}"
                )
    return problems


def missing_from_rule(detail_type: str, template: Template, *, messages: list[str], catalog: str) -> str:
    """What to add where, when no rule delivers a detail-type the catalog has a trigger for."""
    rules = template.catalog_rules()
    source = f"{catalog}: {', '.join(messages)} has a trigger on detail-type {detail_type!r}"
    if not rules:
        return f"{source}, but no function that loads a catalog has an EventBridgeRule in {_shown(template.path)}"
    rule = rules[0]
    return (
        f"{source}, but no rule matches it: add {detail_type!r} to the detail-type list of rule {rule.name} of "
        f"{rule.function} in {_shown(template.path)} ({rule.where})"
    )


def _shown(path: Path) -> str:
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, help="default: CATALOG_PATH, else functions/send/catalog.toml")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    from local_stack.config import catalog_path

    path = args.catalog or catalog_path()
    problems = catalog_problems(path, Template.load(args.template))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{_shown(path)}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{_shown(path)}: the catalog loads and every trigger has a rule in {_shown(args.template)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
