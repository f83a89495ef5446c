"""Listrak Data Import records by entity: each entity's model (record_models.py holds every rule of Listrak's
published spec), its Data Import route and natural key; and a raw record checked against its model, with every
problem named by field path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from listrak_kit.core.problems import field_name
from listrak_kit.imports.entities import DataEntity
from listrak_kit.imports.reasons import reason_for
from listrak_kit.imports.record_models import (
    Address,
    AlternateImage,
    BillingAddress,
    Customer,
    Loyalty,
    Order,
    OrderItem,
    Product,
    Rating,
    RatingSummary,
    RatingSummaryField,
    RelatedProduct,
    Review,
    ShippingAddress,
    Social,
)
from listrak_kit.imports.record_types import DISCOUNT_TYPES, ORDER_STATUSES, DiscountType, ListrakRecord, OrderStatus

__all__ = [
    "DISCOUNT_TYPES",
    "ENTITIES",
    "ORDER_STATUSES",
    "Address",
    "AlternateImage",
    "BillingAddress",
    "Customer",
    "DiscountType",
    "EntitySpec",
    "ListrakRecord",
    "Loyalty",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Product",
    "Rating",
    "RatingSummary",
    "RatingSummaryField",
    "RelatedProduct",
    "Review",
    "ShippingAddress",
    "Social",
    "validate_record",
]


# --- Entities ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    name: DataEntity  # the import's entity name, as in the drop bucket's prefix
    route: str  # the Data Import API path segment: POST /v1/<route>
    model: type[ListrakRecord]
    key_field: str  # the natural key that names a record in reject reports
    array_fields: tuple[str, ...]  # top-level fields holding arrays of objects (one JSON cell each in CSV)


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("customers", "Customer", Customer, "email", ()),
        EntitySpec("orders", "Order", Order, "orderNumber", ("items",)),
        EntitySpec(
            "products",
            "Product",
            Product,
            "sku",
            ("alternateImagesType1", "alternateImagesType2", "alternateImagesType3", "relatedProducts"),
        ),
        EntitySpec("reviews", "Review", Review, "providerReviewID", ("ratings",)),
        EntitySpec("rating-summaries", "RatingSummary", RatingSummary, "providerProductID", ("ratingSummaries",)),
    )
}


# --- Validation -------------------------------------------------------------------------------------------


def validate_record(entity: str, raw: dict[str, Any]) -> tuple[ListrakRecord | None, list[tuple[str, str]]]:
    """The record as its model, or None and every problem at once as (field path, reason).

    Paths read like `items[0].sku`; "(record)" is the record as a whole. Raises only KeyError, for an unknown entity.
    """
    model = ENTITIES[entity].model
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            problems.setdefault(field_name(error["loc"], "(record)"), reason_for(error, model))
        return None, list(problems.items())


def complete(entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Fills in what Listrak requires but exports leave implicit: an order item's orderNumber is its order's."""
    if entity == "orders" and isinstance(raw.get("items"), list) and raw.get("orderNumber") is not None:
        for item in raw["items"]:
            if isinstance(item, dict) and item.get("orderNumber") in (None, ""):
                item["orderNumber"] = raw["orderNumber"]
    return raw
