"""Builds the Listrak clients a function needs from its settings; each path's factory builds on these."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from listrak_kit.aws.secrets import SecretsManagerCredentials, SecretsManagerTokenCache
from listrak_kit.aws.table import DynamoRefreshLock
from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.data_api import DataApi
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.listrak.http import ListrakHttp, RetryPolicy, Timeouts
from listrak_kit.listrak.tokens import TokenMinter, TokenPolicy, TokenProvider
from listrak_kit.observability import logger, metrics
from listrak_kit.settings import DataSettings, EmailSettings, ListrakSettings


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


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


def email_api(settings: EmailSettings) -> EmailApi:
    return EmailApi(
        authorized(
            settings,
            integration="email",
            credentials_secret=settings.LISTRAK_EMAIL_CREDENTIALS_SECRET,
            cache_secret=settings.LISTRAK_EMAIL_TOKEN_CACHE_SECRET,
            base_url=settings.LISTRAK_EMAIL_API_URL,
        )
    )


def data_api(settings: DataSettings) -> DataApi:
    return DataApi(
        authorized(
            settings,
            integration="data",
            credentials_secret=settings.LISTRAK_DATA_CREDENTIALS_SECRET,
            cache_secret=settings.LISTRAK_DATA_TOKEN_CACHE_SECRET,
            base_url=settings.LISTRAK_DATA_API_URL,
        )
    )
