"""Listrak Data Import records: the spec's rules, CSV-style lax input, and problems named by field path."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any

import pytest

from listrak_kit.imports import records
from listrak_kit.imports.records import DISCOUNT_TYPES, ENTITIES, ORDER_STATUSES, ListrakRecord, validate_record

# Every field of Listrak's Data Import spec (data-swagger.json `definitions`), transcribed mechanically:
# name[!=required]=type, where strN is a string with maxLength N and str has no limit.
SPEC = {
    "Customer": "address=Address birthday=date-time customerNumber=str20 email=str100 firstName=str50 gender=str50 "
    "homePhone=str50 lastName=str50 loyalty=Loyalty meta1=str250 meta2=str250 meta3=str250 meta4=str250 "
    "meta5=str250 mobilePhone=str50 preferredStoreNumber=str100 registered=bool social=Social workPhone=str50 "
    "zipCode=str20",
    "Address": "address1=str100 address2=str100 address3=str100 city=str100 country=str100 state=str100",
    "Loyalty": "activeLoyaltyMember=bool availablePoints=int32 currentTierLevel=str100 enrollDate=date-time "
    "expiringPoints=int32 lastActivityDate=date-time lastPointEarnedDate=date-time "
    "lastPointRedemptionDate=date-time lifetimePoints=int32 loyaltySignUpSource=str100 monthlyPoints=int32 "
    "nextTierLevel=str100 numberOfReferrals=int32 pendingPoints=int32 personOfReferred=str250 "
    "pointExpirationDate=date-time pointsToNext=int32 referralCode=str100 referralUrl=str250 "
    "rewardsAvailable=str250 rewardsClaimed=str250 rewardsID=str250 spentPoints=int32 tierID=str100 "
    "weeklyPoints=int32",
    "Social": "facebookID=str100 facebookNumberOfFriends=int32 instagramID=str100 instagramNumberOfFollowers=int32 "
    "twitterID=str100 twitterNumberOfFollowers=int32",
    "Order": "associateID=str billingAddress=BillingAddress couponCode=str32 customer=Customer customerNumber=str20 "
    "dateEntered=date-time discountTotal=double email=str100 handlingTotal=double items=[OrderItem] "
    "itemTotal=double merchandiseDiscount=double merchandiseDiscountDescription=str "
    "merchandiseDiscountType=DiscountType meta1=str500 meta2=str500 meta3=str500 meta4=str500 meta5=str500 "
    "nonMerchandiseDiscount=double nonMerchandiseDiscountDescription=str nonMerchandiseDiscountType=DiscountType "
    "orderNumber!=str50 orderTotal=double shipDate=date-time shippingAddress=ShippingAddress shippingMethod=str32 "
    "shippingTotal=double source=str25 status=OrderStatus storeNumber=str100 taxTotal=double trackingNumber=str32",
    "BillingAddress": "firstName=str lastName=str mobilePhone=str phone=str zipCode=str address1=str100 "
    "address2=str100 address3=str100 city=str100 country=str100 state=str100",
    "OrderItem": "discountDescription=str discountType=DiscountType discountedPrice=double itemTotal=double "
    "itemDiscountTotal=double meta1=str500 meta2=str500 meta3=str500 meta4=str500 meta5=str500 "
    "orderNumber!=str50 price=double quantity=int32 shipDate=date-time shippingMethod=str32 sku!=str100 "
    "status=OrderStatus trackingNumber=str32",
    "ShippingAddress": "firstName=str50 lastName=str50 phone=str zipCode=str address1=str100 address2=str100 "
    "address3=str100 city=str100 country=str100 state=str100",
    "Product": "alternateImagesType1=[AlternateImage] alternateImagesType2=[AlternateImage] "
    "alternateImagesType3=[AlternateImage] brand=str50 category=str50 color=str100 description=str4000 "
    "discontinued=bool gender=str50 imageUrl=str500 inStock=bool isClearance=bool isOutlet=bool "
    "isPurchasable=bool isViewable=bool linkUrl=str500 masterSku=str100 meta1=str500 meta2=str500 meta3=str500 "
    "meta4=str500 meta5=str500 msrp=double onSale=bool price=double qoh=int32 relatedProducts=[RelatedProduct] "
    "reviewProductID=str100 reviewURL=str500 saleEndDate=date-time salePrice=double saleStartDate=date-time "
    "size=str50 sku!=str100 style=str100 subCategory=str50 title=str500 unitCost=double tags=str",
    "AlternateImage": "rank=int32 url=str",
    "RelatedProduct": "rank=int32 sku=str type=str",
    "RatingSummary": "provider=str providerProductID=str100 ratingSummaries=[RatingSummaryField]",
    "RatingSummaryField": "count=int32 deleted=bool displayType=str providerRatingSummaryID!=str rating!=double "
    "ratingMax=double ratingMin=double type=str",
    "Review": "deleted=bool featured!=bool feedbackCount=int32 feedbackNegativeCount=int32 "
    "feedbackPositiveCount=int32 provider!=str50 providerProductID!=str100 providerReviewID!=str100 "
    "ratings=[Rating] recommended!=bool reviewerEmail=str100 reviewerLocation=str500 reviewerName=str500 "
    "reviewSubmitted=date-time reviewUpdated=date-time text=str title!=str500",
    "Rating": "deleted=bool displayType!=str50 providerRatingID!=str100 ratingMax!=double ratingMin!=double "
    "ratingValue!=double type!=str100",
}

ADDRESS = {"address1": "1 Main St", "address2": "Apt 2", "address3": "c/o Desk", "city": "Lancaster"}
ADDRESS |= {"country": "US", "state": "PA"}
ITEM = {
    "orderNumber": "A-1001",
    "sku": "SKU-1",
    "quantity": 2,
    "price": 9.99,
    "itemTotal": 19.98,
    "discountedPrice": 17.98,
    "itemDiscountTotal": 2.0,
    "discountType": "Coupon",
    "discountDescription": "10% off",
    "shipDate": "2026-11-23T09:30:00",
    "shippingMethod": "UPS Ground",
    "status": "Shipped",
    "trackingNumber": "1Z999",
    "meta1": "gift",
}
FULL: dict[str, dict[str, Any]] = {
    "customers": {
        "email": "ada@example.org",
        "customerNumber": "C-1",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "gender": "F",
        "birthday": "1990-12-10T00:00:00",
        "homePhone": "555-0100",
        "mobilePhone": "555-0101",
        "workPhone": "555-0102",
        "zipCode": "17601",
        "preferredStoreNumber": "12",
        "registered": True,
        "meta1": "vip",
        "meta5": "x",
        "address": ADDRESS,
        "social": {"facebookID": "ada", "facebookNumberOfFriends": 10, "twitterNumberOfFollowers": 0},
        "loyalty": {
            "activeLoyaltyMember": True,
            "availablePoints": 120,
            "pendingPoints": 30,
            "spentPoints": 500,
            "lifetimePoints": 650,
            "rewardsClaimed": "2",
            "enrollDate": "2025-01-02T03:04:05Z",
            "referralUrl": "https://example.org/r/ada",
            "currentTierLevel": "Gold",
            "nextTierLevel": "Platinum",
            "tierID": "t-2",
            "pointExpirationDate": "2027-01-01T00:00:00",
        },
    },
    "orders": {
        "orderNumber": "A-1001",
        "email": "ada@example.org",
        "customerNumber": "C-1",
        "dateEntered": "2026-11-22T14:05:00",
        "shipDate": "2026-11-23T09:30:00",
        "status": "Completed",
        "source": "online",
        "couponCode": "SAVE10",
        "associateID": "emp-7",
        "storeNumber": "12",
        "shippingMethod": "UPS Ground",
        "trackingNumber": "1Z999",
        "itemTotal": 19.98,
        "orderTotal": 24.5,
        "taxTotal": 1.2,
        "shippingTotal": 5.0,
        "handlingTotal": 0.0,
        "discountTotal": 2.0,
        "merchandiseDiscount": 2.0,
        "merchandiseDiscountType": "Coupon",
        "merchandiseDiscountDescription": "10% off",
        "nonMerchandiseDiscount": 0.0,
        "nonMerchandiseDiscountType": "NotSet",
        "nonMerchandiseDiscountDescription": "none",
        "meta1": "m",
        "billingAddress": ADDRESS | {"firstName": "Ada", "lastName": "Lovelace", "phone": "5", "zipCode": "17601"},
        "shippingAddress": ADDRESS | {"firstName": "Ada", "lastName": "Lovelace", "zipCode": "17601"},
        "customer": {"email": "ada@example.org", "firstName": "Ada"},
        "items": [ITEM, ITEM | {"sku": "SKU-2", "quantity": 1}],
    },
    "products": {
        "sku": "SKU-1",
        "masterSku": "M-1",
        "title": "Teapot",
        "description": "A pot for tea.",
        "brand": "Acme",
        "category": "Kitchen",
        "subCategory": "Tea",
        "color": "blue",
        "size": "M",
        "style": "classic",
        "gender": "unisex",
        "imageUrl": "https://example.org/i.jpg",
        "linkUrl": "https://example.org/p",
        "reviewProductID": "R-1",
        "reviewURL": "https://example.org/r",
        "price": 30.0,
        "salePrice": 25.0,
        "msrp": 35.0,
        "unitCost": 10.0,
        "qoh": 7,
        "inStock": True,
        "onSale": True,
        "discontinued": False,
        "isClearance": False,
        "isOutlet": False,
        "isPurchasable": True,
        "isViewable": True,
        "saleStartDate": "2026-11-01T00:00:00",
        "saleEndDate": "2026-12-01T00:00:00",
        "tags": "tea,pot",
        "meta2": "m",
        "alternateImagesType1": [{"rank": 1, "url": "https://example.org/1.jpg"}],
        "alternateImagesType2": [],
        "alternateImagesType3": [{"url": "https://example.org/3.jpg"}],
        "relatedProducts": [{"rank": 1, "sku": "SKU-2", "type": "accessory"}],
    },
    "reviews": {
        "provider": "Yotpo",
        "providerProductID": "P-1",
        "providerReviewID": "RV-1",
        "title": "Lovely",
        "text": "Makes good tea.",
        "featured": False,
        "recommended": True,
        "deleted": False,
        "feedbackCount": 3,
        "feedbackNegativeCount": 1,
        "feedbackPositiveCount": 2,
        "reviewerEmail": "ada@example.org",
        "reviewerLocation": "PA",
        "reviewerName": "Ada",
        "reviewSubmitted": "2026-11-20T08:00:00",
        "reviewUpdated": "2026-11-21T08:00:00",
        "ratings": [
            {
                "providerRatingID": "q1",
                "type": "overall",
                "displayType": "stars",
                "ratingMin": 1.0,
                "ratingMax": 5.0,
                "ratingValue": 4.5,
                "deleted": False,
            }
        ],
    },
    "rating-summaries": {
        "provider": "Yotpo",
        "providerProductID": "P-1",
        "ratingSummaries": [
            {
                "providerRatingSummaryID": "s1",
                "rating": 4.4,
                "ratingMin": 1.0,
                "ratingMax": 5.0,
                "count": 12,
                "displayType": "stars",
                "type": "overall",
                "deleted": False,
            }
        ],
    },
}


def full(entity: str, **changes: Any) -> dict[str, Any]:
    """A deep copy of FULL[entity], with dotted/indexed paths set (or removed, for the value DROP)."""
    record = copy.deepcopy(FULL[entity])
    for path, value in changes.items():
        put(record, path, value)
    return record


DROP = object()


def put(record: dict[str, Any], path: str, value: Any) -> None:
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    target: Any = record
    for part in parts[:-1]:
        target = target[part]
    if value is DROP:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


def problems(entity: str, raw: Any) -> list[tuple[str, str]]:
    model, found = validate_record(entity, raw)
    assert (model is None) == bool(found)
    return found


def accepted(entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    model, found = validate_record(entity, raw)
    assert found == [], found
    assert model is not None
    return model.to_listrak()


def at(dumped: dict[str, Any], path: str) -> Any:
    value: Any = dumped
    for part in re.findall(r"[^.\[\]]+", path):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


# --- The models hold the spec ---------------------------------------------------------------------------


def _digest(prop: dict[str, Any]) -> str:
    prop = next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if prop.get("type") == "array":
        return f"[{_digest(prop['items'])}]"
    if "enum" in prop:
        return {ORDER_STATUSES: "OrderStatus", DISCOUNT_TYPES: "DiscountType"}[tuple(prop["enum"])]
    if prop.get("format") == "date-time":
        return "date-time"
    if prop["type"] == "integer":
        assert (prop["minimum"], prop["maximum"]) == (-(2**31), 2**31 - 1)
        return "int32"
    return {"number": "double", "boolean": "bool"}.get(prop["type"]) or f"str{prop.get('maxLength', '')}"


@pytest.mark.parametrize("name", SPEC)
def test_model_holds_every_field_rule_of_the_spec(name):
    schema = getattr(records, name).model_json_schema()
    required = set(schema.get("required", ()))
    got = {f"{field}{'!' if field in required else ''}": _digest(prop) for field, prop in schema["properties"].items()}
    expected = dict(item.split("=") for item in SPEC[name].split())
    assert got == expected


def test_entities_name_their_route_key_and_array_fields():
    assert {name: (s.route, s.model.__name__, s.key_field) for name, s in ENTITIES.items()} == {
        "customers": ("Customer", "Customer", "email"),
        "orders": ("Order", "Order", "orderNumber"),
        "products": ("Product", "Product", "sku"),
        "reviews": ("Review", "Review", "providerReviewID"),
        "rating-summaries": ("RatingSummary", "RatingSummary", "providerProductID"),
    }
    for spec in ENTITIES.values():
        assert spec.name in ENTITIES and spec.key_field in spec.model.model_fields
        arrays = tuple(f for f, p in spec.model.model_json_schema()["properties"].items() if "[" in _digest(p))
        assert spec.array_fields == arrays
    with pytest.raises(KeyError):
        validate_record("coupons", {})


# --- Valid records ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", FULL)
def test_full_record_passes_and_round_trips_listrak_field_names(entity):
    model, found = validate_record(entity, full(entity))
    assert found == []
    assert isinstance(model, ENTITIES[entity].model) and isinstance(model, ListrakRecord)
    assert model.to_listrak() == FULL[entity]


def test_to_listrak_leaves_absent_fields_out():
    assert accepted("orders", {"orderNumber": "A-1", "email": None}) == {"orderNumber": "A-1"}


def test_csv_style_strings_are_read_as_their_types():
    row = {
        "sku": "SKU-1",
        "qoh": "12",
        "price": "9.99",
        "msrp": " 10 ",
        "inStock": "true",
        "onSale": "false",
        "isOutlet": "1",
        "isViewable": "0",
        "discontinued": "FALSE",
        "saleStartDate": "2026-11-22",
        "relatedProducts": [{"rank": "2", "sku": "SKU-2"}],
    }
    assert accepted("products", row) == {
        "sku": "SKU-1",
        "qoh": 12,
        "price": 9.99,
        "msrp": 10.0,
        "inStock": True,
        "onSale": False,
        "isOutlet": True,
        "isViewable": False,
        "discontinued": False,
        "saleStartDate": "2026-11-22T00:00:00",
        "relatedProducts": [{"rank": 2, "sku": "SKU-2"}],
    }


def test_numbers_in_string_fields_become_strings():
    assert accepted("orders", {"orderNumber": 1001, "items": [{"orderNumber": 1001, "sku": 7}]}) == {
        "orderNumber": "1001",
        "items": [{"orderNumber": "1001", "sku": "7"}],
    }


# --- Required fields ---------------------------------------------------------------------------------------

REQUIRED = [
    ("orders", "orderNumber"),
    ("orders", "items[0].orderNumber"),
    ("orders", "items[1].sku"),
    ("products", "sku"),
    *[
        ("reviews", f)
        for f in ("featured", "provider", "providerProductID", "providerReviewID", "recommended", "title")
    ],
    *[
        ("reviews", f"ratings[0].{f}")
        for f in ("displayType", "providerRatingID", "ratingMax", "ratingMin", "ratingValue", "type")
    ],
    ("rating-summaries", "ratingSummaries[0].providerRatingSummaryID"),
    ("rating-summaries", "ratingSummaries[0].rating"),
]


@pytest.mark.parametrize(("entity", "path"), REQUIRED)
@pytest.mark.parametrize("absent", [DROP, "", "  ", None], ids=["missing", "empty", "blank", "null"])
def test_a_missing_required_field_is_named(entity, path, absent):
    assert problems(entity, full(entity, **{path: absent})) == [(path, "required")]


@pytest.mark.parametrize("entity", ["customers", "rating-summaries"])
def test_spec_requires_nothing_at_the_top_of_customers_and_rating_summaries(entity):
    assert accepted(entity, {}) == {}


# --- maxLength ---------------------------------------------------------------------------------------------

LIMITS = [
    ("customers", "customerNumber", 20),
    ("customers", "email", 100),
    ("customers", "meta3", 250),
    ("customers", "address.state", 100),
    ("customers", "loyalty.referralUrl", 250),
    ("customers", "loyalty.rewardsClaimed", 250),
    ("customers", "loyalty.currentTierLevel", 100),
    ("customers", "social.facebookID", 100),
    ("orders", "orderNumber", 50),
    ("orders", "source", 25),
    ("orders", "couponCode", 32),
    ("orders", "meta5", 500),
    ("orders", "billingAddress.city", 100),
    ("orders", "shippingAddress.firstName", 50),
    ("orders", "customer.zipCode", 20),
    ("orders", "items[0].sku", 100),
    ("orders", "items[1].trackingNumber", 32),
    ("products", "sku", 100),
    ("products", "description", 4000),
    ("products", "reviewProductID", 100),
    ("products", "subCategory", 50),
    ("reviews", "provider", 50),
    ("reviews", "title", 500),
    ("reviews", "ratings[0].displayType", 50),
    ("rating-summaries", "providerProductID", 100),
]


@pytest.mark.parametrize(("entity", "path", "limit"), LIMITS)
def test_max_length_is_inclusive_and_one_more_is_named(entity, path, limit):
    assert at(accepted(entity, full(entity, **{path: "x" * limit})), path) == "x" * limit
    assert problems(entity, full(entity, **{path: "x" * (limit + 1)})) == [
        (path, f"at most {limit} characters (got {limit + 1})")
    ]


@pytest.mark.parametrize(
    ("entity", "path"),
    [
        ("orders", "billingAddress.firstName"),
        ("orders", "shippingAddress.zipCode"),
        ("orders", "associateID"),
        ("products", "tags"),
        ("reviews", "text"),
        ("rating-summaries", "ratingSummaries[0].providerRatingSummaryID"),
    ],
)
def test_strings_without_a_max_length_have_no_limit(entity, path):
    assert at(accepted(entity, full(entity, **{path: "x" * 10_000})), path) == "x" * 10_000


# --- Enums -------------------------------------------------------------------------------------------------

STATUS_FIELDS = [("orders", "status"), ("orders", "items[0].status")]
DISCOUNT_FIELDS = [
    ("orders", "merchandiseDiscountType"),
    ("orders", "nonMerchandiseDiscountType"),
    ("orders", "items[1].discountType"),
]


@pytest.mark.parametrize(("entity", "path"), STATUS_FIELDS + DISCOUNT_FIELDS)
def test_every_enum_value_passes(entity, path):
    values = ORDER_STATUSES if (entity, path) in STATUS_FIELDS else DISCOUNT_TYPES
    for value in values:
        assert at(accepted(entity, full(entity, **{path: value})), path) == value


def test_enums_are_listraks():
    assert ORDER_STATUSES == (
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
    )
    assert len(DISCOUNT_TYPES) == 19 and DISCOUNT_TYPES[0] == "NotSet" and DISCOUNT_TYPES[-1] == "CreditCardReward"


@pytest.mark.parametrize(("entity", "path"), STATUS_FIELDS + DISCOUNT_FIELDS)
@pytest.mark.parametrize("value", ["coupon", "SHIPPED", "placed", "Cancelled", 3])
def test_wrong_case_or_unknown_enum_value_is_named_with_the_allowed_values(entity, path, value):
    allowed = ORDER_STATUSES if (entity, path) in STATUS_FIELDS else DISCOUNT_TYPES
    [(field, reason)] = problems(entity, full(entity, **{path: value}))
    assert field == path
    assert reason.startswith(f"must be one of {', '.join(allowed)}")
    if isinstance(value, str) and value.casefold() in {a.casefold() for a in allowed}:
        assert reason.endswith("(case-sensitive: Shipped)" if allowed is ORDER_STATUSES else "(case-sensitive: Coupon)")


# --- Numbers, booleans, date-times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "must be a whole number"),
        ("1.5", "must be a whole number"),
        (1.5, "must be a whole number"),
        (True, "must be a whole number"),
        ([1], "must be a whole number"),
        (2**31, "must be at most 2147483647"),
        (str(-(2**31) - 1), "must be at least -2147483648"),
    ],
)
@pytest.mark.parametrize(("entity", "path"), [("products", "qoh"), ("orders", "items[0].quantity")])
def test_bad_integers_are_rejected(entity, path, value, reason):
    assert problems(entity, full(entity, **{path: value})) == [(path, reason)]


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 12 ", 12), ("12.0", 12), (2**31 - 1, 2**31 - 1)])
def test_integers_accept_csv_strings_and_int32_bounds(value, expected):
    assert accepted("products", {"sku": "S", "qoh": value})["qoh"] == expected
    assert accepted("products", {"sku": "S", "qoh": -(2**31)})["qoh"] == -(2**31)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "must be a number"),
        ("$9.99", "must be a number"),
        ("9,99", "must be a number"),
        (True, "must be a number"),
        ("NaN", "must be a finite number"),
        ("inf", "must be a finite number"),
        (float("-inf"), "must be a finite number"),
    ],
)
@pytest.mark.parametrize(
    ("entity", "path"),
    [("orders", "orderTotal"), ("orders", "items[1].price"), ("reviews", "ratings[0].ratingValue")],
)
def test_bad_numbers_are_rejected(entity, path, value, reason):
    assert problems(entity, full(entity, **{path: value})) == [(path, reason)]


@pytest.mark.parametrize(("value", "expected"), [("9.99", 9.99), ("-1", -1.0), ("1e3", 1000.0), (5, 5.0)])
def test_numbers_accept_csv_strings(value, expected):
    assert accepted("orders", {"orderNumber": "A", "orderTotal": value})["orderTotal"] == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("1", True), ("0", False)])
def test_booleans_accept_csv_strings(value, expected):
    assert accepted("customers", {"registered": value, "loyalty": {"activeLoyaltyMember": value}}) == {
        "registered": expected,
        "loyalty": {"activeLoyaltyMember": expected},
    }


@pytest.mark.parametrize("value", ["maybe", "2", 2, [True]])
def test_bad_booleans_are_rejected(value):
    assert problems("reviews", full("reviews", featured=value)) == [("featured", "must be true or false")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22", "2026-11-22T00:00:00"),
        ("2026-11-22T14:05:00", "2026-11-22T14:05:00"),
        ("2026-11-22 14:05", "2026-11-22T14:05:00"),
        ("2026-11-22T14:05:00.250", "2026-11-22T14:05:00.250000"),
        ("2026-11-22T14:05:00-05:00", "2026-11-22T14:05:00-05:00"),
        ("2026-11-22T19:05:00Z", "2026-11-22T19:05:00Z"),
        (" 2026-11-22T14:05:00 ", "2026-11-22T14:05:00"),
        (datetime(2026, 11, 22, 14, 5), "2026-11-22T14:05:00"),
        (date(2026, 11, 22), "2026-11-22T00:00:00"),
    ],
)
@pytest.mark.parametrize(
    ("entity", "path"),
    [("orders", "dateEntered"), ("orders", "items[0].shipDate"), ("customers", "loyalty.enrollDate")],
)
def test_date_times_accept_iso_8601_and_keep_their_zone(entity, path, value, expected):
    assert at(accepted(entity, full(entity, **{path: value})), path) == expected


@pytest.mark.parametrize("value", ["22/11/2026", "yesterday", "2026-13-01", "20261122", "1764000000", 1764000000, True])
@pytest.mark.parametrize(("entity", "path"), [("products", "saleEndDate"), ("reviews", "reviewSubmitted")])
def test_bad_date_times_are_rejected(entity, path, value):
    assert problems(entity, full(entity, **{path: value})) == [(path, "must be an ISO-8601 date-time")]


# --- Absent, unknown, and shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "path"),
    [
        ("customers", "email"),
        ("customers", "registered"),
        ("customers", "birthday"),
        ("customers", "loyalty.availablePoints"),
        ("customers", "address"),
        ("orders", "status"),
        ("orders", "orderTotal"),
        ("orders", "billingAddress.city"),
        ("orders", "items"),
        ("orders", "items[0].quantity"),
        ("products", "qoh"),
        ("reviews", "deleted"),
    ],
)
@pytest.mark.parametrize("blank", ["", "   ", None])
def test_an_empty_optional_field_is_absent(entity, path, blank):
    expected = full(entity, **{path: DROP})
    assert accepted(entity, full(entity, **{path: blank})) == expected


@pytest.mark.parametrize(
    ("entity", "path", "reason"),
    [
        ("orders", "orderNo", "not a Listrak field"),
        ("orders", "OrderNumber", "not a Listrak field (did you mean orderNumber?)"),
        ("orders", "billingAddress.zip", "not a Listrak field"),
        ("orders", "shippingAddress.mobilePhone", "not a Listrak field"),  # only billingAddress has one
        ("orders", "items[1].order_number", "not a Listrak field (did you mean orderNumber?)"),
        ("customers", "loyalty.totalPoints", "not a Listrak field"),
        ("products", "Review Product ID", "not a Listrak field (did you mean reviewProductID?)"),
        ("reviews", "ratings[0].score", "not a Listrak field"),
    ],
)
@pytest.mark.parametrize("value", ["x", ""])
def test_an_unknown_field_is_named_even_when_empty(entity, path, reason, value):
    assert problems(entity, full(entity, **{path: value})) == [(path, reason)]


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("billingAddress", "1 Main St", "must be an object"),
        ("customer", ["ada@example.org"], "must be an object"),
        ("items", {"sku": "S"}, "must be a list"),
        ("items", "SKU-1", "must be a list"),
        ("items[0]", "SKU-1", "must be an object"),
        ("email", {"address": "ada@example.org"}, "must be a string"),
        ("couponCode", True, "must be a string"),
    ],
)
def test_wrong_shapes_are_named(path, value, reason):
    assert problems("orders", full("orders", **{path: value})) == [(path, reason)]


@pytest.mark.parametrize("raw", [None, "A-1001", ["orderNumber"], 7])
def test_a_record_that_is_not_an_object_is_a_problem_not_an_exception(raw):
    assert problems("orders", raw) == [("(record)", "must be an object")]


def test_non_string_keys_are_a_problem_not_an_exception():
    assert problems("orders", {"orderNumber": "A", None: ["spill"]}) == [("None", "field names must be strings")]


def test_every_problem_of_a_record_is_reported_at_once():
    raw = {
        "orderNumber": "",
        "status": "shipped",
        "dateEntered": "22/11/2026",
        "orderTotal": "12,50",
        "source": "x" * 26,
        "billingAddress": {"city": "c" * 101, "postcode": "17601"},
        "items": [
            {"orderNumber": "A", "sku": "S", "quantity": "two"},
            {"orderNumber": "A", "price": "NaN"},
        ],
        "giftWrap": "yes",
    }
    assert problems("orders", raw) == [
        ("billingAddress.city", "at most 100 characters (got 101)"),
        ("billingAddress.postcode", "not a Listrak field"),
        ("dateEntered", "must be an ISO-8601 date-time"),
        ("items[0].quantity", "must be a whole number"),
        ("items[1].price", "must be a finite number"),
        ("items[1].sku", "required"),
        ("orderNumber", "required"),
        ("orderTotal", "must be a number"),
        ("source", "at most 25 characters (got 26)"),
        ("status", "must be one of " + ", ".join(ORDER_STATUSES) + " (case-sensitive: Shipped)"),
        ("giftWrap", "not a Listrak field"),
    ]
    assert all("pydantic" not in reason and "http" not in reason for _, reason in problems("orders", raw))
