"""Builds the object graph a function needs from its settings; handlers call these once per container."""

from __future__ import annotations

from pathlib import Path

from aws_lambda_powertools.metrics import MetricUnit

from listrak_kit.aws.secrets import SecretsManagerCredentials, SecretsManagerTokenCache
from listrak_kit.aws.send_records import DynamoSendRecords
from listrak_kit.aws.table import DynamoRefreshLock
from listrak_kit.catalog.model import load_catalog
from listrak_kit.idempotency import Once
from listrak_kit.listrak.email_api import AuthorizedListrak, EmailApi
from listrak_kit.listrak.http import ListrakHttp, RetryPolicy, Timeouts
from listrak_kit.listrak.tokens import TokenMinter, TokenPolicy, TokenProvider
from listrak_kit.observability import logger, metrics
from listrak_kit.resend.service import ResendService
from listrak_kit.send.models import RESEND_WINDOW_SECONDS
from listrak_kit.send.service import SendService
from listrak_kit.settings import EmailSettings, ListrakSettings, ResendSettings, SendSettings


def count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


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


def email_api(settings: EmailSettings) -> EmailApi:
    http = listrak_http(settings)
    tokens = token_provider(
        integration="email",
        settings=settings,
        http=http,
        credentials_secret=settings.LISTRAK_EMAIL_CREDENTIALS_SECRET,
        cache_secret=settings.LISTRAK_EMAIL_TOKEN_CACHE_SECRET,
    )
    return EmailApi(AuthorizedListrak(http, tokens, settings.LISTRAK_EMAIL_API_URL))


SEND_KEY_PREFIX = "listrak-send"
RESEND_KEY_PREFIX = "listrak-resend"


def send_service(settings: SendSettings, *, default_catalog: Path) -> tuple[SendService, Once]:
    # One email per reference, for as long as Listrak could resend it.
    idempotency = Once(
        settings.TABLE_NAME,
        key_prefix=SEND_KEY_PREFIX,
        key_path="reference",
        payload_paths="[listId, transactionalMessageId, emailAddress, segmentationFieldValues]",
        expires_after_seconds=RESEND_WINDOW_SECONDS,
        require_key=True,
        noun="send",
    )
    service = SendService(
        catalog=load_catalog(settings.CATALOG_PATH or default_catalog),
        email_api=email_api(settings),
        records=DynamoSendRecords(settings.TABLE_NAME),
        once=idempotency,
        count=count,
    )
    return service, idempotency


def resend_service(settings: ResendSettings) -> tuple[ResendService, Once]:
    # One resend per Idempotency-Key; without a key, every request resends (support may mean it).
    idempotency = Once(
        settings.TABLE_NAME,
        key_prefix=RESEND_KEY_PREFIX,
        key_path="idempotencyKey",
        payload_paths="[reference, listId, transactionalMessageId, resendKey, emailAddress]",
        expires_after_seconds=RESEND_WINDOW_SECONDS,
        require_key=False,
        noun="resend",
    )
    service = ResendService(
        email_api=email_api(settings),
        records=DynamoSendRecords(settings.TABLE_NAME),
        once=idempotency,
        activity_page_size=settings.LISTRAK_ACTIVITY_PAGE_SIZE,
    )
    return service, idempotency
