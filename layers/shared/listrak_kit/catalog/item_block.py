"""Renders the repeating item block the way Listrak's guide asks for it.

Each item's values are HTML-escaped into the template's slots (so a product name cannot inject markup),
then the whole block is escaped once more, because Listrak takes the block as escaped HTML in a profile field.
"""

from __future__ import annotations

import html
from typing import Any

from listrak_kit.catalog.model import PLACEHOLDER, ItemBlock
from listrak_kit.core.fields import as_text, text_problem
from listrak_kit.errors import FieldProblem, InvalidRequest

SCALARS = (str, int, float, bool)


def render_items(block: ItemBlock, items: list[dict[str, Any]], *, field_prefix: str = "items") -> str:
    problems: list[FieldProblem] = []
    rendered: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(FieldProblem(f"{field_prefix}[{index}]", "must be an object"))
            continue
        for slot in block.placeholders:
            if slot not in item or item[slot] is None:
                problems.append(FieldProblem(f"{field_prefix}[{index}].{slot}", "required by the item block"))
            elif not isinstance(item[slot], SCALARS):
                problems.append(FieldProblem(f"{field_prefix}[{index}].{slot}", "must be a string or a number"))
            elif isinstance(item[slot], str) and (problem := text_problem(item[slot])):
                problems.append(FieldProblem(f"{field_prefix}[{index}].{slot}", problem))
        if not problems:
            rendered.append(PLACEHOLDER.sub(lambda m, it=item: html.escape(as_text(it[m.group(1)])), block.template))
    if problems:
        raise InvalidRequest(problems)
    return html.escape("".join(rendered))
