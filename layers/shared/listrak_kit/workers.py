"""The scheduled workers, built like every service (see services.py, whose clients and metrics they share): the
privacy worker, which takes forget requests further, and the delivery poller, which reads Listrak's Activity.
Apart from services.py so that a send, resend or import function never loads them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from listrak_kit.services import authorized, count, count_for_message, email_api
from listrak_kit.settings import DeliverySettings, PrivacySettings

if TYPE_CHECKING:
    from listrak_kit.delivery.poller import DeliveryPoller
    from listrak_kit.privacy.worker import PrivacyWorker


def delivery_poller(settings: DeliverySettings, *, default_catalog: Path) -> DeliveryPoller:
    """Delivery status from Activity, told to the store on its bus (see delivery/poller.py)."""
    from listrak_kit.aws.bus import EventBridgeBus
    from listrak_kit.aws.delivery_records import DynamoDeliveryRecords
    from listrak_kit.catalog.model import load_catalog
    from listrak_kit.clock import SystemClock
    from listrak_kit.delivery.poller import DeliveryPoller, PollPolicy

    catalog = load_catalog(settings.CATALOG_PATH or default_catalog)
    return DeliveryPoller(
        email_api=email_api(settings),
        records=DynamoDeliveryRecords(settings.TABLE_NAME),
        bus=EventBridgeBus(settings.STOREFRONT_BUS_NAME),
        names={(m.listId, m.transactionalMessageId): name for name, m in catalog.messages.items()},
        clock=SystemClock(),
        count=count_for_message,
        policy=PollPolicy(
            max_calls=settings.DELIVERY_MAX_CALLS,
            overlap_seconds=settings.DELIVERY_OVERLAP_SECONDS,
            first_window_seconds=settings.DELIVERY_FIRST_WINDOW_SECONDS,
            page_size=settings.LISTRAK_ACTIVITY_PAGE_SIZE,
            span_seconds=settings.SEND_RECONCILE_AFTER_SECONDS,
        ),
    )


def privacy_worker(settings: PrivacySettings) -> PrivacyWorker:
    from listrak_kit.aws.bus import EventBridgeBus
    from listrak_kit.aws.erasure import ObjectEraser, QueueRedactor, TableEraser
    from listrak_kit.aws.objects import S3Objects
    from listrak_kit.aws.privacy_requests import DynamoPrivacyRequests
    from listrak_kit.aws.secrets import SecretsManagerKey
    from listrak_kit.aws.tombstones import DynamoTombstones
    from listrak_kit.listrak.privacy_api import PrivacyApi
    from listrak_kit.privacy.worker import PrivacyWorker, Stores, WorkerPolicy

    def privacy_api() -> PrivacyApi:
        return PrivacyApi(
            authorized(
                settings,
                integration="privacy",
                credentials_secret=settings.LISTRAK_PRIVACY_CREDENTIALS_SECRET,
                cache_secret=settings.LISTRAK_PRIVACY_TOKEN_CACHE_SECRET,
                base_url=settings.LISTRAK_PRIVACY_API_URL,
            )
        )

    return PrivacyWorker(
        store=DynamoPrivacyRequests(settings.TABLE_NAME),
        privacy_api=cache(privacy_api),
        tombstones=DynamoTombstones(settings.TABLE_NAME),
        key=SecretsManagerKey(settings.PRIVACY_TOMBSTONE_KEY_SECRET).get,
        stores=Stores(
            table=TableEraser(settings.TABLE_NAME, settings.PRIVACY_ERASURE_PAGE),
            bucket=ObjectEraser(settings.IMPORT_BUCKET, settings.PRIVACY_ERASURE_PAGE),
            queues=QueueRedactor(settings.dead_letter_queues()),
            objects=S3Objects(settings.IMPORT_BUCKET),
        ),
        bus=EventBridgeBus(settings.STOREFRONT_BUS_NAME),
        policy=WorkerPolicy(
            poll_seconds=settings.PRIVACY_POLL_SECONDS,
            call_spacing_seconds=settings.PRIVACY_CALL_SPACING_SECONDS,
            overdue_seconds=settings.PRIVACY_OVERDUE_SECONDS,
        ),
        count=count,
    )
