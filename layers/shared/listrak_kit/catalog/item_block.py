"""Renders the repeating item block the way Listrak's guide asks for it.

Each item's values are HTML-escaped into the template's slots (so a product name cannot inject markup),
then the whole block is escaped once more, because Listrak takes the block as escaped HTML in a profile field.

The block is bounded while it is built: escaping is character by character, so the block is the concatenation
of each template piece escaped on its own, and the running length is checked after every piece. A request whose
block would cross the limit stops there (never building the whole string), so memory stays within the limit
whatever the items, the template's slot repetitions or the escaping's expansion (up to 10x for `"`).
"""

from __future__ import annotations

import html
from typing import Any

from listrak_kit.catalog.model import ItemBlock
from listrak_kit.core.fields import as_text, text_problem
from listrak_kit.core.limits import ValueLimits
from listrak_kit.errors import FieldProblem, InvalidRequest

SCALARS = (str, int, float, bool)


def check_items(
    block: ItemBlock, items: list[Any], *, limits: ValueLimits | None = None, field_prefix: str = "items"
) -> None:
    """Every item has every slot, as a scalar of sendable text (within `limits` when given); nothing is rendered."""
    problems: list[FieldProblem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(FieldProblem(f"{field_prefix}[{index}]", "must be an object"))
            continue
        for slot in block.placeholders:
            where = f"{field_prefix}[{index}].{slot}"
            if slot not in item or item[slot] is None:
                problems.append(FieldProblem(where, "required by the item block"))
            elif not isinstance(item[slot], SCALARS):
                problems.append(FieldProblem(where, "must be a string or a number"))
            elif isinstance(item[slot], str) and (
                problem := text_problem(item[slot]) or (limits.field_problem(item[slot]) if limits else None)
            ):
                problems.append(FieldProblem(where, problem))
    if problems:
        raise InvalidRequest(problems)


def render_items(
    block: ItemBlock, items: list[dict[str, Any]], *, limits: ValueLimits, field_prefix: str = "items"
) -> str:
    check_items(block, items, limits=limits, field_prefix=field_prefix)
    pieces: list[str] = []
    size = 0
    for index, item in enumerate(items):
        for literal, slot in block.segments:
            piece = literal if slot is None else html.escape(html.escape(as_text(item[slot])))
            size += len(piece)
            if size > limits.item_block_chars:
                raise InvalidRequest(
                    [
                        FieldProblem(
                            field_prefix,
                            f"the rendered item block would be over {limits.item_block_chars} characters "
                            f"(SEND_ITEM_BLOCK_MAX_CHARS) at {field_prefix}[{index}] of {len(items)}",
                        )
                    ]
                )
            pieces.append(piece)
    return "".join(pieces)
