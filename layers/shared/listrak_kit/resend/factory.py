"""The resend path, wired from the resend function's settings."""

from __future__ import annotations

from listrak_kit.aws.send_records import DynamoSendRecords
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS
from listrak_kit.idempotency import Once
from listrak_kit.resend.service import ResendService
from listrak_kit.settings import ResendSettings
from listrak_kit.wiring import email_api

RESEND_KEY_PREFIX = "listrak-resend"


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
