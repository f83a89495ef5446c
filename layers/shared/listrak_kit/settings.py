"""Environment variables as validated models: a misconfigured function fails at its first call, by name."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from listrak_kit.core.fields import MAX_VALUE_CHARS
from listrak_kit.core.limits import ValueLimits
from listrak_kit.errors import ConfigurationError

# Each function reads one of these models, once: its validator is built then (defer_build), not the others' at
# every import.
SETTINGS_CONFIG = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class ListrakSettings(BaseModel):
    model_config = SETTINGS_CONFIG

    LISTRAK_AUTH_URL: str = "https://auth.listrak.com/OAuth2/Token"
    LISTRAK_EMAIL_API_URL: str = "https://api.listrak.com/email"
    LISTRAK_DATA_API_URL: str = "https://api.listrak.com/data"
    LISTRAK_PRIVACY_API_URL: str = "https://api.listrak.com/privacy"
    LISTRAK_SMS_API_URL: str = "https://api.listrak.com/sms"
    LISTRAK_CONNECT_TIMEOUT: float = Field(3.05, gt=0, le=30)
    LISTRAK_READ_TIMEOUT: float = Field(10.0, gt=0, le=120)
    LISTRAK_MAX_ATTEMPTS: int = Field(4, ge=1, le=10)
    LISTRAK_RETRY_BUDGET_SECONDS: float = Field(12.0, ge=0, le=600)
    TOKEN_REFRESH_AHEAD_SECONDS: float = Field(600.0, ge=0, le=3000)
    TABLE_NAME: str = Field(min_length=1)


class EmailSettings(ListrakSettings):
    LISTRAK_EMAIL_CREDENTIALS_SECRET: str = Field(min_length=1)
    LISTRAK_EMAIL_TOKEN_CACHE_SECRET: str = Field(min_length=1)


class SmsSettings(ListrakSettings):
    """The SMS integration (its own credentials and token), in the functions that send SMS beside email."""

    # Unset: SMS is not configured, and an SMS request is refused as a misconfiguration (email is unaffected).
    LISTRAK_SMS_CREDENTIALS_SECRET: str | None = None
    LISTRAK_SMS_TOKEN_CACHE_SECRET: str | None = None
    # The country a number written without one belongs to (ISO 3166 alpha-2; see sms/phone.py for those known).
    SMS_DEFAULT_COUNTRY: str = Field("US", pattern=r"^[A-Z]{2}$")
    # The most segments a raw SMS (one not in the catalog, which has its own maxSegments) may take.
    SMS_MAX_SEGMENTS: int = Field(10, ge=1, le=10)


class SendSettings(EmailSettings, SmsSettings):
    CATALOG_PATH: str | None = None
    # Bounds on what a send may ask Listrak to store, checked before anything is expanded (a 400 names them).
    # One profile field value: Listrak stores at most the field's own maxLength (an int32 set per field, no
    # published ceiling) and refuses longer values; the longest text field Listrak's published schemas declare
    # is 4,000 characters (a product description), so a longer value is a mistake or an attack.
    SEND_FIELD_MAX_CHARS: int = Field(4_000, ge=1, le=MAX_VALUE_CHARS)
    # The rendered item block (escaped HTML in one profile field, so that field needs a maxLength this large):
    # mail clients clip an email beyond about 100 KB of HTML (Gmail at 102 KB), and the escaped block is about
    # 1.3x its HTML, so 200,000 characters is already more than a reader sees, and a few hundred KB of memory.
    SEND_ITEM_BLOCK_MAX_CHARS: int = Field(200_000, ge=1, le=10_000_000)

    def value_limits(self) -> ValueLimits:
        return ValueLimits(field_chars=self.SEND_FIELD_MAX_CHARS, item_block_chars=self.SEND_ITEM_BLOCK_MAX_CHARS)

    # How long Listrak's Activity is given to show a send before an ambiguous one is looked up there.
    SEND_RECONCILE_AFTER_SECONDS: float = Field(600.0, ge=0, le=86_400)
    # Attempts per reference before it is given up as failed (each one only after Activity did not show the last).
    SEND_MAX_ATTEMPTS: int = Field(3, ge=1, le=10)
    SEND_RECONCILE_BATCH: int = Field(100, ge=1, le=1000)
    LISTRAK_ACTIVITY_PAGE_SIZE: int = Field(1000, ge=1, le=5000)
    # Where an event that can never be sent is parked at once (unset: it fails, and Lambda's retries park it).
    SEND_DEAD_LETTER_QUEUE_URL: str | None = None


class DeliverySettings(SendSettings):
    """The delivery poller: where it tells the store, and how much of Activity one run may read."""

    STOREFRONT_BUS_NAME: str = Field(min_length=1)
    DELIVERY_MAX_CALLS: int = Field(20, ge=1, le=1000)  # Activity calls per run, all messages together
    DELIVERY_OVERLAP_SECONDS: float = Field(900.0, ge=0, le=86_400)
    DELIVERY_FIRST_WINDOW_SECONDS: float = Field(86_400.0, ge=60, le=30 * 86_400)


class ResendSettings(EmailSettings):
    LISTRAK_ACTIVITY_PAGE_SIZE: int = Field(1000, ge=1, le=5000)
    # Redirects (a resend to another address, support credential only) per send within a window: enough to
    # correct a typo and retry, too few to turn one send into a mailing. 0 disables redirects.
    REDIRECT_MAX_PER_REFERENCE: int = Field(3, ge=0, le=1000)
    REDIRECT_WINDOW_SECONDS: int = Field(24 * 3600, ge=60, le=30 * 24 * 3600)


class HooksSettings(BaseModel):
    """The HTTPS doors: where accepted events go, and the secret Shopify signs its webhooks with."""

    model_config = SETTINGS_CONFIG

    STOREFRONT_BUS_NAME: str = Field(min_length=1)
    SHOPIFY_WEBHOOK_SECRET_ID: str = Field(min_length=1)
    CATALOG_PATH: str | None = None
    # Where Shopify's compliance topics are recorded as privacy requests; without it they are ignored.
    TABLE_NAME: str | None = None


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def load_settings(model: type[SettingsT]) -> SettingsT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(f"{'.'.join(str(p) for p in e['loc'])} ({e['msg']})" for e in exc.errors())
        raise ConfigurationError(f"environment is misconfigured: {names}") from None


class DataSettings(ListrakSettings):
    LISTRAK_DATA_CREDENTIALS_SECRET: str = Field(min_length=1)
    LISTRAK_DATA_TOKEN_CACHE_SECRET: str = Field(min_length=1)
    IMPORT_CHUNK_MAX_RECORDS: int = Field(1000, ge=1, le=100_000)
    # Far below Listrak's 250 MB limit: a chunk is one request, retried whole.
    IMPORT_CHUNK_MAX_BYTES: int = Field(5_000_000, ge=1_000, le=100_000_000)
    # One record as read from a file (a JSON line, a CSV row, an order's joined items), bounded before it is
    # parsed: Listrak's longest field is 4,000 characters, so a customer or product at every field's maxLength
    # is well under 100 KB; 1,000,000 leaves room for an order with thousands of items and stays a fifth of a
    # chunk. A longer record is a reject naming this setting, read in bounded pieces and never held whole.
    IMPORT_RECORD_MAX_CHARS: int = Field(1_000_000, ge=1_000, le=50_000_000)
    # A Data Import chunk is replay-safe (an upsert by natural key), so it is retried harder than other calls,
    # within this budget and the time the invocation has left.
    IMPORT_RETRY_ATTEMPTS: int = Field(8, ge=1, le=20)
    IMPORT_RETRY_BUDGET_SECONDS: float = Field(120.0, ge=0, le=600)
    # Privacy: the key of the forgotten people's tombstones; records naming one are rejected as "forgotten".
    PRIVACY_TOMBSTONE_KEY_SECRET: str | None = None


class ImportSettings(DataSettings):
    IMPORT_BUCKET: str = Field(min_length=1)
    IMPORT_QUEUE_URL: str = Field(min_length=1)
    IMPORT_PART_BYTES: int = Field(256 * 1024 * 1024, ge=1_000)
    # The import queue's maxReceiveCount: deliveries of a part without progress before it is failed.
    IMPORT_MAX_RECEIVES: int = Field(5, ge=1, le=1000)
    CONTACTS_IMPORT_MAX_SECONDS: float = Field(6 * 3600, gt=0)
    # Audience sync (contacts/): the Email integration and the list to sync into.
    LISTRAK_EMAIL_CREDENTIALS_SECRET: str | None = None
    LISTRAK_EMAIL_TOKEN_CACHE_SECRET: str | None = None
    CONTACTS_LIST_ID: int | None = Field(None, gt=0)
    CONTACTS_LIST_NAME: str | None = None
    CONTACTS_RESUBSCRIBE: bool = False
    CONTACTS_PER_CONTACT_MAX: int = Field(100, ge=0, le=100_000)
    CONTACTS_POLL_SECONDS: float = Field(5.0, ge=0, le=300)

    @field_validator("CONTACTS_LIST_ID", "CONTACTS_LIST_NAME", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class PrivacyRequestSettings(BaseModel):
    """What records a privacy request (the IAM routes, Shopify's compliance topics): the table alone."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TABLE_NAME: str = Field(min_length=1)


class PrivacySettings(ListrakSettings):
    """The privacy worker: the Privacy integration, the tombstone key, and every place personal data may rest."""

    LISTRAK_PRIVACY_CREDENTIALS_SECRET: str = Field(min_length=1)
    LISTRAK_PRIVACY_TOKEN_CACHE_SECRET: str = Field(min_length=1)
    PRIVACY_TOMBSTONE_KEY_SECRET: str = Field(min_length=1)
    IMPORT_BUCKET: str = Field(min_length=1)
    STOREFRONT_BUS_NAME: str = Field(min_length=1)
    # The dead-letter queues whose parked messages are redacted (URLs, comma-separated).
    PRIVACY_DEAD_LETTER_QUEUES: str = ""
    # A forget request is polled at most this often: Listrak allows 20 Privacy calls in 10 s and 60 a minute.
    PRIVACY_POLL_SECONDS: float = Field(300.0, ge=0, le=86_400)
    # Between two Listrak calls of one sweep: with one sweep at a time, 1 s keeps within both limits.
    PRIVACY_CALL_SPACING_SECONDS: float = Field(1.0, ge=0, le=60)
    # A request not complete after this long is counted as PrivacyRequestOverdue (alarmed).
    PRIVACY_OVERDUE_SECONDS: float = Field(3 * 86_400, ge=60)
    # Items or object versions read per recorded step of an erasure.
    PRIVACY_ERASURE_PAGE: int = Field(200, ge=1, le=1000)

    def dead_letter_queues(self) -> list[str]:
        return [url.strip() for url in self.PRIVACY_DEAD_LETTER_QUEUES.split(",") if url.strip()]
