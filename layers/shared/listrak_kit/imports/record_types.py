"""The building blocks of the Data Import records: Listrak's enums, the scalar types with the guards that keep
CSV text and JSON values from being read as something else, and the base every record type shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from listrak_kit.core.fields import INT32_MAX, INT32_MIN

OrderStatus = Literal[
    "NotSet",
    "Misc",
    "PreOrder",
    "BackOrder",
    "Pending",
    "Hold",
    "Processing",
    "Shipped",
    "Completed",
    "Returned",
    "Canceled",
    "Unknown",
    "Closed",
]
DiscountType = Literal[
    "NotSet",
    "PriceOverride",
    "PriceRule",
    "Promotion",
    "SeniorCitizen",
    "Markdown",
    "Coupon",
    "QuantityDiscount",
    "Rebate",
    "CashDiscount",
    "TradeDiscount",
    "TradeInKind",
    "PromptPaymentDiscount",
    "GeneralDiscount",
    "GiftVoucher",
    "FlexibleDiscount",
    "RewardProgram",
    "ManufacturerReward",
    "CreditCardReward",
]
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
DISCOUNT_TYPES: tuple[str, ...] = get_args(DiscountType)


# --- Scalar types -----------------------------------------------------------------------------------------
# pydantic's lax mode already reads CSV strings; these guards close the gaps where lax would guess wrong.

_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _problem(reason: str) -> PydanticCustomError:
    # The message is already the human reason; _reason() passes it through untouched.
    return PydanticCustomError("listrak", reason)


def _int_input(value: Any) -> Any:
    if isinstance(value, bool):  # lax mode would send True as 1: a boolean here is a mapping mistake
        raise _problem("must be a whole number")
    return value.strip() if isinstance(value, str) else value


def _float_input(value: Any) -> Any:
    if isinstance(value, bool):
        raise _problem("must be a number")
    return value.strip() if isinstance(value, str) else value


def _bool_input(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _datetime_input(value: Any) -> Any:
    # Lax mode reads a number (or a string of digits, such as a basic-format 20261122) as a Unix timestamp:
    # a silent wrong date. Only ISO-8601 text and real date/datetime objects get through.
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str) and not _NUMERIC.fullmatch(value.strip()):
        return value.strip()
    raise _problem("must be an ISO-8601 date-time")


# Constraints sit left of the BeforeValidator so the guard wraps them (and the JSON schema stays standard).
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX), BeforeValidator(_int_input)]
Double = Annotated[float, Field(allow_inf_nan=False), BeforeValidator(_float_input)]
Bool = Annotated[bool, BeforeValidator(_bool_input)]
DateTime = Annotated[datetime, BeforeValidator(_datetime_input)]

# Strings keep their exact text (no stripping): what Listrak stores is what the source held.
Str20 = Annotated[str, Field(max_length=20)]
Str25 = Annotated[str, Field(max_length=25)]
Str32 = Annotated[str, Field(max_length=32)]
Str50 = Annotated[str, Field(max_length=50)]
Str100 = Annotated[str, Field(max_length=100)]
Str250 = Annotated[str, Field(max_length=250)]
Str500 = Annotated[str, Field(max_length=500)]
Str4000 = Annotated[str, Field(max_length=4000)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ListrakRecord(BaseModel):
    """A Listrak Data Import object: exactly Listrak's fields, checked against Listrak's published rules."""

    # coerce_numbers_to_str: a JSON source may hold an order number or ZIP code as a number; Listrak's
    # .NET binder takes those as strings too.
    # defer_build: the validators are built on the first record the fast path (imports/fast.py) leaves to them,
    # not when the module is imported.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        # An empty CSV cell (or a JSON null) is "no value": optional fields become None, required ones are
        # reported as required rather than as a bad value. Unknown fields stay, so they are always reported.
        if not isinstance(data, Mapping):
            return data
        fields = cls.model_fields
        return {key: value for key, value in data.items() if not (key in fields and _blank(value))}

    def to_listrak(self) -> dict[str, Any]:
        """The record as Listrak's JSON expects it: its field names, ISO-8601 date-times, absent fields left out."""
        return self.model_dump(mode="json", exclude_none=True)
