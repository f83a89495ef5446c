"""The send path, wired from the send functions' settings."""

from __future__ import annotations

from pathlib import Path

from listrak_kit.aws.send_records import DynamoSendRecords
from listrak_kit.catalog.model import load_catalog
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS
from listrak_kit.idempotency import Once
from listrak_kit.send.service import SendService
from listrak_kit.settings import SendSettings
from listrak_kit.wiring import count, email_api

SEND_KEY_PREFIX = "listrak-send"


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
