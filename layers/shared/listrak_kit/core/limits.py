"""How large a profile field value may be, before anything is expanded.

The defaults come from Listrak's own limits (see SendSettings): a value over them would be refused by Listrak,
clipped by mail clients, or would cost memory out of proportion to the request that asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValueLimits:
    field_chars: int = 4_000  # SEND_FIELD_MAX_CHARS: one profile field value, as sent to Listrak
    item_block_chars: int = 200_000  # SEND_ITEM_BLOCK_MAX_CHARS: the rendered, escaped item block

    def field_problem(self, value: str) -> str | None:
        if len(value) > self.field_chars:
            return f"at most {self.field_chars} characters (SEND_FIELD_MAX_CHARS; got {len(value)})"
        return None
