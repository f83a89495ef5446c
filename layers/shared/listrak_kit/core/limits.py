"""How large a profile field value may be, before anything is expanded.

The defaults come from Listrak's own limits (see SendSettings): a value over them would be refused by Listrak,
clipped by mail clients, or would cost memory out of proportion to the request that asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# DynamoDB refuses an item over 400 KB (409,600 bytes, names and values in UTF-8). A send's record is written
# before Listrak is called, payload included; this much leaves room for what it gathers later (attempts, resends).
RECORD_MAX_BYTES = 380_000


@dataclass(frozen=True)
class ValueLimits:
    field_chars: int = 4_000  # SEND_FIELD_MAX_CHARS: one profile field value, as sent to Listrak
    item_block_chars: int = 200_000  # SEND_ITEM_BLOCK_MAX_CHARS: the rendered, escaped item block

    def field_problem(self, value: str) -> str | None:
        if len(value) > self.field_chars:
            return f"at most {self.field_chars} characters (SEND_FIELD_MAX_CHARS; got {len(value)})"
        return None


def dynamo_bytes(value: Any) -> int:
    """An item's (or a value's) size as DynamoDB counts it: strings and names in UTF-8, numbers by their digits,
    one byte for a boolean or a null, three for each map or list and one per element in it."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, float, Decimal)):
        digits = str(value).lstrip("-").replace(".", "").lstrip("0")
        return (len(digits) + 1) // 2 + 1
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode("utf-8")) + dynamo_bytes(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(dynamo_bytes(v) + 1 for v in value)
    return len(str(value).encode("utf-8"))
