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

from listrak_kit.imports.record_types import (
    Bool,
    DateTime,
    DiscountType,
    Double,
    Int32,
    ListrakRecord,
    OrderStatus,
    Str20,
    Str25,
    Str32,
    Str50,
    Str100,
    Str250,
    Str500,
    Str4000,
)

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
