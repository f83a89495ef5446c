"""The send record: what a later resend needs, kept for Listrak's 30-day resend window.

Stored without the address itself: a masked form for people, and a fingerprint to match Listrak's
activity rows when the send's answer carried no resendKey.
"""

from __future__ import annotations

from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.clock import from_iso
from listrak_kit.send.models import SendRecord


class DynamoSendRecords:
    def __init__(self, table_name: str):
        self._table = table_name

    @staticmethod
    def item_id(reference: str) -> str:
        return f"send#{reference}"

    def put(self, record: SendRecord) -> None:
        item: dict[str, Any] = record.model_dump()
        item[KEY] = self.item_id(record.reference)
        # DynamoDB's TTL sweep may lag by days; readers decide expiry from sentAt, never from presence.
        item[TTL_ATTRIBUTE] = int(from_iso(record.resendableUntil))
        aws_client("dynamodb").put_item(TableName=self._table, Item={k: to_attribute(v) for k, v in item.items()})

    def get(self, reference: str) -> SendRecord | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self.item_id(reference)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return None
        values = {k: from_attribute(v) for k, v in item.items() if k not in (KEY, TTL_ATTRIBUTE)}
        return SendRecord.model_validate(values)
