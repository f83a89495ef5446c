"""The privacy worker, on its schedule: every open privacy request one step further (see listrak_kit/privacy)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from listrak_kit.aws.table import DynamoRefreshLock
from listrak_kit.observability import logger, observed
from listrak_kit.settings import PrivacySettings, load_settings
from listrak_kit.workers import privacy_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.privacy.worker import PrivacyWorker

LEASE_SECONDS = 900  # the function's timeout: one sweep at a time, so Listrak's limits hold


@cache
def settings() -> PrivacySettings:
    return load_settings(PrivacySettings)


@cache
def worker() -> PrivacyWorker:
    return privacy_worker(settings())


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lease = DynamoRefreshLock(settings().TABLE_NAME, "privacy-sweep")
    owner = context.aws_request_id
    if not lease.acquire(owner, LEASE_SECONDS):
        return {"status": "skipped", "detail": "another sweep is running"}
    try:
        outcome = worker().sweep(lambda: context.get_remaining_time_in_millis() / 1000)
    finally:
        lease.release(owner)
    logger.info("privacy sweep", extra={"outcome": outcome})
    return {"status": "swept", "requests": outcome}
