"""Listrak Data Import records: one pydantic model per record type, holding every rule of Listrak's published spec.

Listrak answers 201 to an import whose rows it will later drop (an unknown order status is accepted and
lost), so every rule it publishes is checked here, before sending: required fields, maxLength, enums,
number and date-time formats. Attribute names are Listrak's own field names, so `to_listrak()` is the JSON
body as is.

Input may be JSON (typed values) or CSV (every value a string): "12", "9.99", "true"/"false"/"1"/"0" and
ISO-8601 strings are read as their types, and an empty (or all-blank) value means the field is absent.
Unknown fields are reported, never dropped: a misspelt column would otherwise vanish without a trace.

Date-times are sent back as ISO-8601 exactly as zoned as they came. Listrak reads `Order.dateEntered`,
`Order.shipDate` and `OrderItem.shipDate` as Eastern Time, so send those naive in ET; no zone is converted.

LoyaltyLion -> `Customer.loyalty`
---------------------------------
Listrak imports loyalty data only when the account has an active loyalty integration.

=====================  ==============================================================
LoyaltyLion            Listrak `Loyalty` field
=====================  ==============================================================
approved points        `availablePoints` (int32)
pending points         `pendingPoints` (int32)
spent points           `spentPoints` (int32)
lifetime points        `lifetimePoints` (int32)
rewards claimed        `rewardsClaimed` (string, at most 250)
date enrolled          `enrollDate` (date-time)
referral URL           `referralUrl` (string, at most 250)
loyalty tier           `currentTierLevel` (string, at most 100)
next tier              `nextTierLevel` (string, at most 100)
total points           no field: it is `availablePoints` + `pendingPoints`
blocked                `activeLoyaltyMember` false
=====================  ==============================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from listrak_kit.core.fields import INT32_MAX, INT32_MIN
from listrak_kit.core.problems import field_name

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


# --- Customer ---------------------------------------------------------------------------------------------


class Address(ListrakRecord):
    address1: Str100 | None = None
    address2: Str100 | None = None
    address3: Str100 | None = None
    city: Str100 | None = None
    country: Str100 | None = None
    state: Str100 | None = None


class Loyalty(ListrakRecord):
    activeLoyaltyMember: Bool | None = None
    availablePoints: Int32 | None = None
    currentTierLevel: Str100 | None = None
    enrollDate: DateTime | None = None
    expiringPoints: Int32 | None = None
    lastActivityDate: DateTime | None = None
    lastPointEarnedDate: DateTime | None = None
    lastPointRedemptionDate: DateTime | None = None
    lifetimePoints: Int32 | None = None
    loyaltySignUpSource: Str100 | None = None
    monthlyPoints: Int32 | None = None
    nextTierLevel: Str100 | None = None
    numberOfReferrals: Int32 | None = None
    pendingPoints: Int32 | None = None
    personOfReferred: Str250 | None = None
    pointExpirationDate: DateTime | None = None
    pointsToNext: Int32 | None = None
    referralCode: Str100 | None = None
    referralUrl: Str250 | None = None
    rewardsAvailable: Str250 | None = None
    rewardsClaimed: Str250 | None = None
    rewardsID: Str250 | None = None
    spentPoints: Int32 | None = None
    tierID: Str100 | None = None
    weeklyPoints: Int32 | None = None


class Social(ListrakRecord):
    facebookID: Str100 | None = None
    facebookNumberOfFriends: Int32 | None = None
    instagramID: Str100 | None = None
    instagramNumberOfFollowers: Int32 | None = None
    twitterID: Str100 | None = None
    twitterNumberOfFollowers: Int32 | None = None


class Customer(ListrakRecord):
    # The spec requires nothing here; email is "required for accounts that are not CRM enabled", which
    # only the account knows, so it is left to Listrak.
    address: Address | None = None
    birthday: DateTime | None = None
    customerNumber: Str20 | None = None
    email: Str100 | None = None
    firstName: Str50 | None = None
    gender: Str50 | None = None
    homePhone: Str50 | None = None
    lastName: Str50 | None = None
    loyalty: Loyalty | None = None
    meta1: Str250 | None = None
    meta2: Str250 | None = None
    meta3: Str250 | None = None
    meta4: Str250 | None = None
    meta5: Str250 | None = None
    mobilePhone: Str50 | None = None
    preferredStoreNumber: Str100 | None = None
    registered: Bool | None = None
    social: Social | None = None
    workPhone: Str50 | None = None
    zipCode: Str20 | None = None


# --- Order ------------------------------------------------------------------------------------------------


class BillingAddress(ListrakRecord):
    # Unlike ShippingAddress, the spec gives the name, phone and ZIP fields no maxLength here.
    firstName: str | None = None
    lastName: str | None = None
    mobilePhone: str | None = None
    phone: str | None = None
    zipCode: str | None = None
    address1: Str100 | None = None
    address2: Str100 | None = None
    address3: Str100 | None = None
    city: Str100 | None = None
    country: Str100 | None = None
    state: Str100 | None = None


class ShippingAddress(ListrakRecord):
    firstName: Str50 | None = None
    lastName: Str50 | None = None
    phone: str | None = None
    zipCode: str | None = None
    address1: Str100 | None = None
    address2: Str100 | None = None
    address3: Str100 | None = None
    city: Str100 | None = None
    country: Str100 | None = None
    state: Str100 | None = None


class OrderItem(ListrakRecord):
    # orderNumber is required on every item, even nested in its Order: the spec says so.
    discountDescription: str | None = None
    discountType: DiscountType | None = None
    discountedPrice: Double | None = None
    itemTotal: Double | None = None
    itemDiscountTotal: Double | None = None
    meta1: Str500 | None = None
    meta2: Str500 | None = None
    meta3: Str500 | None = None
    meta4: Str500 | None = None
    meta5: Str500 | None = None
    orderNumber: Str50
    price: Double | None = None
    quantity: Int32 | None = None
    shipDate: DateTime | None = None
    shippingMethod: Str32 | None = None
    sku: Str100
    status: OrderStatus | None = None
    trackingNumber: Str32 | None = None


class Order(ListrakRecord):
    associateID: str | None = None
    billingAddress: BillingAddress | None = None
    couponCode: Str32 | None = None
    customer: Customer | None = None  # deprecated by Listrak in favour of billingAddress/shippingAddress
    customerNumber: Str20 | None = None
    dateEntered: DateTime | None = None
    discountTotal: Double | None = None  # deprecated by Listrak (March 2022); still accepted
    email: Str100 | None = None
    handlingTotal: Double | None = None
    items: list[OrderItem] | None = None
    itemTotal: Double | None = None
    merchandiseDiscount: Double | None = None
    merchandiseDiscountDescription: str | None = None
    merchandiseDiscountType: DiscountType | None = None
    meta1: Str500 | None = None
    meta2: Str500 | None = None
    meta3: Str500 | None = None
    meta4: Str500 | None = None
    meta5: Str500 | None = None
    nonMerchandiseDiscount: Double | None = None
    nonMerchandiseDiscountDescription: str | None = None
    nonMerchandiseDiscountType: DiscountType | None = None
    orderNumber: Str50
    orderTotal: Double | None = None
    shipDate: DateTime | None = None
    shippingAddress: ShippingAddress | None = None
    shippingMethod: Str32 | None = None
    shippingTotal: Double | None = None
    source: Str25 | None = None
    status: OrderStatus | None = None
    storeNumber: Str100 | None = None
    taxTotal: Double | None = None
    trackingNumber: Str32 | None = None


# --- Product ----------------------------------------------------------------------------------------------


class AlternateImage(ListrakRecord):
    rank: Int32 | None = None
    url: str | None = None


class RelatedProduct(ListrakRecord):
    rank: Int32 | None = None
    sku: str | None = None
    type: str | None = None


class Product(ListrakRecord):
    alternateImagesType1: list[AlternateImage] | None = None
    alternateImagesType2: list[AlternateImage] | None = None
    alternateImagesType3: list[AlternateImage] | None = None
    brand: Str50 | None = None
    category: Str50 | None = None
    color: Str100 | None = None
    description: Str4000 | None = None
    discontinued: Bool | None = None
    gender: Str50 | None = None
    imageUrl: Str500 | None = None
    inStock: Bool | None = None
    isClearance: Bool | None = None
    isOutlet: Bool | None = None
    isPurchasable: Bool | None = None
    isViewable: Bool | None = None
    linkUrl: Str500 | None = None
    masterSku: Str100 | None = None
    meta1: Str500 | None = None
    meta2: Str500 | None = None
    meta3: Str500 | None = None
    meta4: Str500 | None = None
    meta5: Str500 | None = None
    msrp: Double | None = None
    onSale: Bool | None = None
    price: Double | None = None
    qoh: Int32 | None = None
    relatedProducts: list[RelatedProduct] | None = None
    reviewProductID: Str100 | None = None
    reviewURL: Str500 | None = None
    saleEndDate: DateTime | None = None
    salePrice: Double | None = None
    saleStartDate: DateTime | None = None
    size: Str50 | None = None
    sku: Str100
    style: Str100 | None = None
    subCategory: Str50 | None = None
    title: Str500 | None = None
    unitCost: Double | None = None
    tags: str | None = None  # comma-separated, as one string


# --- Reviews ----------------------------------------------------------------------------------------------


class Rating(ListrakRecord):
    deleted: Bool | None = None
    displayType: Str50
    providerRatingID: Str100
    ratingMax: Double
    ratingMin: Double
    ratingValue: Double
    type: Str100


class Review(ListrakRecord):
    deleted: Bool | None = None
    featured: Bool
    feedbackCount: Int32 | None = None
    feedbackNegativeCount: Int32 | None = None
    feedbackPositiveCount: Int32 | None = None
    provider: Str50
    providerProductID: Str100
    providerReviewID: Str100
    ratings: list[Rating] | None = None
    recommended: Bool
    reviewerEmail: Str100 | None = None
    reviewerLocation: Str500 | None = None
    reviewerName: Str500 | None = None
    reviewSubmitted: DateTime | None = None
    reviewUpdated: DateTime | None = None
    text: str | None = None
    title: Str500


class RatingSummaryField(ListrakRecord):
    # No maxLengths at all in the spec for this one.
    count: Int32 | None = None
    deleted: Bool | None = None
    displayType: str | None = None
    providerRatingSummaryID: str
    rating: Double
    ratingMax: Double | None = None
    ratingMin: Double | None = None
    type: str | None = None


class RatingSummary(ListrakRecord):
    # The spec has no required list here, not even providerProductID; only the summaries' own fields are.
    provider: str | None = None
    providerProductID: Str100 | None = None
    ratingSummaries: list[RatingSummaryField] | None = None


# --- Entities ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the import's entity name, as in the drop bucket's prefix
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
            problems.setdefault(field_name(error["loc"], "(record)"), _reason(error, model))
        return None, list(problems.items())


def _reason(error: ErrorDetails, model: type[ListrakRecord]) -> str:
    """pydantic's error, said the way a reject report should say it."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "listrak":
        return error["msg"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        owner = _model_at(model, error["loc"][:-1])
        hint = _closest(str(error["loc"][-1]), tuple(owner.model_fields) if owner else ())
        return "not a Listrak field" + (f" (did you mean {hint}?)" if hint else "")
    if kind == "invalid_key":
        return "field names must be strings"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters (got {len(str(value))})"
    if kind == "literal_error":
        allowed = tuple(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        hint = next((a for a in allowed if isinstance(value, str) and a.casefold() == value.strip().casefold()), None)
        return f"must be one of {', '.join(allowed)}" + (f" (case-sensitive: {hint})" if hint else "")
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "finite_number":
        return "must be a finite number"
    return _REASONS.get(kind) or _REASONS.get(kind.split("_")[0]) or error["msg"]


# By pydantic error type, or by its first word ("int_parsing" -> "int").
_REASONS = {
    "string": "must be a string",
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be true or false",
    "datetime": "must be an ISO-8601 date-time",
    "model": "must be an object",
    "dict": "must be an object",
    "list": "must be a list",
}


def _model_at(model: type[ListrakRecord], loc: tuple[int | str, ...]) -> type[ListrakRecord] | None:
    """The model that owns the field at loc (list indexes skipped)."""
    current: type[ListrakRecord] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current else None
        current = _sub_model(field.annotation) if field else None
    return current


def _sub_model(annotation: Any) -> type[ListrakRecord] | None:
    if isinstance(annotation, type) and issubclass(annotation, ListrakRecord):
        return annotation
    return next((found for arg in get_args(annotation) if (found := _sub_model(arg))), None)


def _closest(name: str, fields: tuple[str, ...]) -> str | None:
    # Spreadsheet headers drift in case and separators ("Order Number", "order_number"), rarely in letters.
    def squash(text: str) -> str:
        return re.sub(r"[^0-9a-z]", "", text.casefold())

    return next((field for field in fields if squash(field) == squash(name)), None)


def complete(entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Fills in what Listrak requires but exports leave implicit: an order item's orderNumber is its order's."""
    if entity == "orders" and isinstance(raw.get("items"), list) and raw.get("orderNumber") is not None:
        for item in raw["items"]:
            if isinstance(item, dict) and item.get("orderNumber") in (None, ""):
                item["orderNumber"] = raw["orderNumber"]
    return raw
