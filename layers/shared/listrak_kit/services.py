"""The composition root: every service a function runs is built here, from that function's settings.

The Listrak clients, token providers and AWS adapters every path shares are imported at the top. Each path's own
modules (the send service and catalog, the resend service, the import pipeline) are imported inside its builder,
so that a function loads only the path it runs: the import function never loads the send models, and the send
functions never load the import record rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from listrak_kit.aws.secrets import SecretsManagerCredentials, SecretsManagerTokenCache
from listrak_kit.aws.table import DynamoRefreshLock
from listrak_kit.clock import seconds_left
from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.http import ListrakHttp, RetryPolicy, Timeouts
from listrak_kit.listrak.tokens import TokenMinter, TokenPolicy, TokenProvider
from listrak_kit.observability import logger, metrics
from listrak_kit.settings import (
    DataSettings,
    EmailSettings,
    HooksSettings,
    ImportSettings,
    ListrakSettings,
    ResendSettings,
    SendSettings,
    SmsSettings,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.aws.dead_letters import DeadLetterQueue
    from listrak_kit.aws.tombstones import TombstoneCheck
    from listrak_kit.idempotency import Once
    from listrak_kit.imports.contacts import ContactSync
    from listrak_kit.imports.direct import DirectImporter
    from listrak_kit.imports.pipeline import ImportPipeline
    from listrak_kit.listrak.data_api import DataApi
    from listrak_kit.listrak.email_api import EmailApi
    from listrak_kit.listrak.sms_api import SmsApi
    from listrak_kit.privacy.service import PrivacyRequests
    from listrak_kit.privacy.shopify import ComplianceTopics
    from listrak_kit.resend.service import ResendService
    from listrak_kit.send.hooks import HookService
    from listrak_kit.send.service import SendService
    from listrak_kit.sms.service import SmsService

S = TypeVar("S")
RESEND_KEY_PREFIX = "listrak-resend"


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_for_message(name: str, message: str) -> None:
    """One more of `name`, in all and for one message (a `message` dimension: its own metric, written at once)."""
    from aws_lambda_powertools.metrics import single_metric

    count(name)
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="message", value=message)


# -- Listrak clients -------------------------------------------------------------------------------------------


def listrak_http(settings: ListrakSettings) -> ListrakHttp:
    return ListrakHttp(
        timeouts=Timeouts(connect=settings.LISTRAK_CONNECT_TIMEOUT, read=settings.LISTRAK_READ_TIMEOUT),
        retry=RetryPolicy(
            max_attempts=settings.LISTRAK_MAX_ATTEMPTS, retry_budget_seconds=settings.LISTRAK_RETRY_BUDGET_SECONDS
        ),
    )


def token_provider(
    *, integration: str, settings: ListrakSettings, http: ListrakHttp, credentials_secret: str, cache_secret: str
) -> TokenProvider:
    def on_event(name: str) -> None:
        count(name)
        logger.info("token cache", extra={"integration": integration, "event": name})

    return TokenProvider(
        integration=integration,
        credentials=SecretsManagerCredentials(credentials_secret),
        cache=SecretsManagerTokenCache(cache_secret),
        lock=DynamoRefreshLock(settings.TABLE_NAME, f"token#{integration}"),
        minter=TokenMinter(http, settings.LISTRAK_AUTH_URL),
        policy=TokenPolicy(refresh_ahead_seconds=settings.TOKEN_REFRESH_AHEAD_SECONDS),
        on_event=on_event,
    )


def authorized(
    settings: ListrakSettings, *, integration: str, credentials_secret: str, cache_secret: str, base_url: str
) -> AuthorizedListrak:
    """One integration's client: its own HTTP session and its own fleet-wide token."""
    http = listrak_http(settings)
    tokens = token_provider(
        integration=integration,
        settings=settings,
        http=http,
        credentials_secret=credentials_secret,
        cache_secret=cache_secret,
    )
    return AuthorizedListrak(http, tokens, base_url)


def email_client(settings: EmailSettings | ImportSettings) -> AuthorizedListrak:
    """The Email integration's client, for the transactional calls and the contacts calls alike."""
    from listrak_kit.errors import ConfigurationError

    credentials, cache = settings.LISTRAK_EMAIL_CREDENTIALS_SECRET, settings.LISTRAK_EMAIL_TOKEN_CACHE_SECRET
    if not (credentials and cache):  # optional in the import function, which needs them for contacts only
        raise ConfigurationError("contacts imports need the Email integration's secrets (LISTRAK_EMAIL_..._SECRET)")
    return authorized(
        settings,
        integration="email",
        credentials_secret=credentials,
        cache_secret=cache,
        base_url=settings.LISTRAK_EMAIL_API_URL,
    )


def email_api(settings: EmailSettings) -> EmailApi:
    from listrak_kit.listrak.email_api import EmailApi

    return EmailApi(email_client(settings))


def sms_api(settings: SmsSettings) -> SmsApi:
    """The SMS integration's client: its own credentials and its own fleet-wide token."""
    from listrak_kit.errors import ConfigurationError
    from listrak_kit.listrak.sms_api import SmsApi

    credentials, cache = settings.LISTRAK_SMS_CREDENTIALS_SECRET, settings.LISTRAK_SMS_TOKEN_CACHE_SECRET
    if not (credentials and cache):
        raise ConfigurationError("SMS needs the SMS integration's secrets (LISTRAK_SMS_..._SECRET)")
    return SmsApi(
        authorized(
            settings,
            integration="sms",
            credentials_secret=credentials,
            cache_secret=cache,
            base_url=settings.LISTRAK_SMS_API_URL,
        )
    )


def data_api(settings: DataSettings) -> DataApi:
    from listrak_kit.listrak.data_api import DataApi

    return DataApi(
        authorized(
            settings,
            integration="data",
            credentials_secret=settings.LISTRAK_DATA_CREDENTIALS_SECRET,
            cache_secret=settings.LISTRAK_DATA_TOKEN_CACHE_SECRET,
            base_url=settings.LISTRAK_DATA_API_URL,
        ),
        attempts=settings.IMPORT_RETRY_ATTEMPTS,
        budget_seconds=settings.IMPORT_RETRY_BUDGET_SECONDS,
    )


# -- the send and resend paths ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OncePath(Generic[S]):
    """A path's service and the idempotency guard it runs under."""

    service: S
    once: Once

    def begin(self, context: LambdaContext) -> None:
        """Once per invocation: an in-progress send or resend is given up when this invocation's time runs out."""
        self.once.register_lambda_context(context)


@dataclass(frozen=True)
class SendPath:
    """The send service; its state machine needs to know how long each invocation may run. And the SMS service,
    beside it on the same records."""

    service: SendService
    dead_letters: DeadLetterQueue | None = None  # where an event that can never be sent is parked at once
    sms: SmsService | None = None

    def begin(self, context: LambdaContext) -> None:
        self.service.begin(seconds_left(context))


def send_path(settings: SendSettings, *, default_catalog: Path) -> SendPath:
    from listrak_kit.aws.dead_letters import DeadLetterQueue
    from listrak_kit.aws.delivery_records import DynamoDeliveryRecords
    from listrak_kit.catalog.model import load_catalog
    from listrak_kit.clock import SystemClock
    from listrak_kit.delivery.registry import MessageRegistry
    from listrak_kit.listrak.contacts_api import ContactsApi
    from listrak_kit.listrak.email_api import EmailApi
    from listrak_kit.send.field_lengths import FieldLengths
    from listrak_kit.send.service import SendPolicy, SendService
    from listrak_kit.sms.service import SmsService

    catalog = load_catalog(settings.CATALOG_PATH or default_catalog)
    client = email_client(settings)  # one token for the send and the profile field lengths
    records = DynamoDeliveryRecords(settings.TABLE_NAME)
    # One email per reference: the send record is the idempotency record (see send/service.py).
    service = SendService(
        field_lengths=FieldLengths(ContactsApi(client), SystemClock()),
        catalog=catalog,
        email_api=EmailApi(client),
        records=records,
        count=count,
        on_accepted=MessageRegistry(records, count_for_message).accepted,
        limits=settings.value_limits(),
        policy=SendPolicy(
            reconcile_after_seconds=settings.SEND_RECONCILE_AFTER_SECONDS,
            max_attempts=settings.SEND_MAX_ATTEMPTS,
            activity_page_size=settings.LISTRAK_ACTIVITY_PAGE_SIZE,
        ),
    )
    # At most one SMS per reference, on the same records (see sms/service.py).
    sms = SmsService(
        catalog=catalog,
        sms_api=cache(lambda: sms_api(settings)),
        records=records,
        default_country=settings.SMS_DEFAULT_COUNTRY,
        max_segments=settings.SMS_MAX_SEGMENTS,
        count=count,
    )
    dead_letters = settings.SEND_DEAD_LETTER_QUEUE_URL
    return SendPath(service, DeadLetterQueue(dead_letters) if dead_letters else None, sms)


def hooks_path(settings: HooksSettings, *, default_catalog: Path) -> HookService:
    """The HTTPS doors: they check an event against the catalog and put it on the storefront bus."""
    from listrak_kit.aws.bus import EventBridgeBus
    from listrak_kit.aws.secrets import SecretsManagerWebhookSecret
    from listrak_kit.catalog.model import load_catalog
    from listrak_kit.send.hooks import HookService

    return HookService(
        catalog=load_catalog(settings.CATALOG_PATH or default_catalog),
        bus=EventBridgeBus(settings.STOREFRONT_BUS_NAME),
        shopify_secret=SecretsManagerWebhookSecret(settings.SHOPIFY_WEBHOOK_SECRET_ID),
        compliance=compliance_topics(settings.TABLE_NAME) if settings.TABLE_NAME else None,
    )


def resend_path(settings: ResendSettings) -> OncePath[ResendService]:
    from listrak_kit.aws.send_records import DynamoSendRecords
    from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS
    from listrak_kit.idempotency import Once
    from listrak_kit.resend.redirect import RedirectLimits, RedirectPolicy
    from listrak_kit.resend.service import ResendService

    # One resend per Idempotency-Key; without a key, every request resends (support may mean it).
    once = Once(
        settings.TABLE_NAME,
        key_prefix=RESEND_KEY_PREFIX,
        key_field="idempotencyKey",
        payload_fields=("reference", "listId", "transactionalMessageId", "resendKey", "emailAddress"),
        expires_after_seconds=RESEND_WINDOW_SECONDS,
        noun="resend",
    )
    records = DynamoSendRecords(settings.TABLE_NAME)
    service = ResendService(
        email_api=email_api(settings),
        records=records,
        once=once,
        redirects=RedirectPolicy(
            counter=records,
            limits=RedirectLimits(
                per_reference=settings.REDIRECT_MAX_PER_REFERENCE, window_seconds=settings.REDIRECT_WINDOW_SECONDS
            ),
        ),
        activity_page_size=settings.LISTRAK_ACTIVITY_PAGE_SIZE,
    )
    return OncePath(service, once)


# -- the import path -------------------------------------------------------------------------------------------


def contact_sync(settings: ImportSettings) -> ContactSync | None:
    from listrak_kit.imports.contacts import ContactsConfig, ContactSync
    from listrak_kit.listrak.contacts_api import ContactsApi

    if not (settings.CONTACTS_LIST_ID or settings.CONTACTS_LIST_NAME):
        return None
    return ContactSync(
        ContactsApi(email_client(settings)),
        ContactsConfig(
            list_id=settings.CONTACTS_LIST_ID,
            list_name=settings.CONTACTS_LIST_NAME,
            resubscribe=settings.CONTACTS_RESUBSCRIBE,
            per_contact_max=settings.CONTACTS_PER_CONTACT_MAX,
            poll_seconds=settings.CONTACTS_POLL_SECONDS,
            import_max_seconds=settings.CONTACTS_IMPORT_MAX_SECONDS,
        ),
    )


def import_pipeline(settings: ImportSettings) -> ImportPipeline:
    from listrak_kit.aws.import_ledger import DynamoImportLedger
    from listrak_kit.aws.objects import S3Objects
    from listrak_kit.aws.queue import SqsTasks
    from listrak_kit.imports.chunks import ChunkLimits
    from listrak_kit.imports.pipeline import ImportPipeline

    pipeline = ImportPipeline(
        contacts=contact_sync(settings),
        objects=S3Objects(settings.IMPORT_BUCKET),
        data_api=data_api(settings),
        ledger=DynamoImportLedger(settings.TABLE_NAME),
        tasks=SqsTasks(settings.IMPORT_QUEUE_URL),
        limits=ChunkLimits(
            settings.IMPORT_CHUNK_MAX_RECORDS, settings.IMPORT_CHUNK_MAX_BYTES, settings.IMPORT_RECORD_MAX_CHARS
        ),
        part_bytes=settings.IMPORT_PART_BYTES,
        count=count,
        max_deliveries=settings.IMPORT_MAX_RECEIVES,
    )
    pipeline.forgotten = forgotten_check(settings.TABLE_NAME, settings.PRIVACY_TOMBSTONE_KEY_SECRET)
    return pipeline


def direct_importer(settings: DataSettings) -> DirectImporter:
    from listrak_kit.imports.chunks import ChunkLimits
    from listrak_kit.imports.direct import DirectImporter

    importer = DirectImporter(
        data_api=data_api(settings),
        limits=ChunkLimits(
            settings.IMPORT_CHUNK_MAX_RECORDS, settings.IMPORT_CHUNK_MAX_BYTES, settings.IMPORT_RECORD_MAX_CHARS
        ),
    )
    importer.forgotten = forgotten_check(settings.TABLE_NAME, settings.PRIVACY_TOMBSTONE_KEY_SECRET)
    return importer


# -- privacy ---------------------------------------------------------------------------------------------------


def forgotten_check(table_name: str, key_secret: str | None) -> TombstoneCheck | None:
    """What an import asks of each record: does it name a forgotten person? (None without the tombstone key.)"""
    from listrak_kit.aws.secrets import SecretsManagerKey
    from listrak_kit.aws.tombstones import DynamoTombstones, TombstoneCheck

    if not key_secret:
        return None
    return TombstoneCheck(DynamoTombstones(table_name), SecretsManagerKey(key_secret).get)


def privacy_requests(table_name: str) -> PrivacyRequests:
    from listrak_kit.aws.privacy_requests import DynamoPrivacyRequests
    from listrak_kit.privacy.service import PrivacyRequests

    return PrivacyRequests(store=DynamoPrivacyRequests(table_name))


def compliance_topics(table_name: str) -> ComplianceTopics:
    from listrak_kit.privacy.shopify import ComplianceTopics

    return ComplianceTopics(privacy_requests(table_name))
