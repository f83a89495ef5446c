"""The send record: what a later resend needs, kept for Listrak's 30-day resend window.

Stored without the address itself: a masked form for people, and a fingerprint to match Listrak's
activity rows when the send's answer carried no resendKey.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.clock import from_iso
from listrak_kit.core.send_record import ResendEntry, SendRecord

RESEND_KEY_INDEX = "byResendKey"


class DynamoSendRecords:
    def __init__(self, table_name: str):
        self._table = table_name

    @staticmethod
    def item_id(reference: str) -> str:
        return f"send#{reference}"

    def put(self, record: SendRecord) -> None:
        # None is left out: the resendKey index is sparse and takes only string keys.
        item: dict[str, Any] = {k: v for k, v in record.model_dump().items() if v is not None}
        item[KEY] = self.item_id(record.reference)
        # DynamoDB's TTL sweep may lag by days; readers decide expiry from sentAt, never from presence.
        item[TTL_ATTRIBUTE] = int(from_iso(record.resendableUntil))
        aws_client("dynamodb").put_item(TableName=self._table, Item={k: to_attribute(v) for k, v in item.items()})

    def get(self, reference: str) -> SendRecord | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self.item_id(reference)}}, ConsistentRead=True
        )
        return self._record(answer.get("Item"))

    def find_by_resend_key(self, resend_key: str) -> SendRecord | None:
        answer = aws_client("dynamodb").query(
            TableName=self._table,
            IndexName=RESEND_KEY_INDEX,
            KeyConditionExpression="resendKey = :key",
            ExpressionAttributeValues={":key": {"S": resend_key}},
            Limit=1,
        )
        items = answer.get("Items") or []
        return self._record(items[0]) if items else None

    def set_resend_key(self, reference: str, resend_key: str) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.item_id(reference)}},
            UpdateExpression="SET resendKey = :key",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#id": KEY},
            ExpressionAttributeValues={":key": {"S": resend_key}},
        )

    def add_resend(self, reference: str, entry: ResendEntry) -> int:
        """Appends to the record's resend history; returns the new count."""
        answer = aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.item_id(reference)}},
            UpdateExpression=(
                "SET resendCount = if_not_exists(resendCount, :zero) + :one, "
                "resends = list_append(if_not_exists(resends, :none), :entry)"
            ),
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#id": KEY},
            ExpressionAttributeValues={
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":none": {"L": []},
                ":entry": {"L": [to_attribute(entry.model_dump())]},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["resendCount"]["N"])

    def take_redirect(self, reference: str, *, now: float, window_seconds: int, limit: int) -> float | None:
        """A fixed-window counter on the send item, by conditional updates (safe under concurrency).

        Returns None when one redirect was taken, else the start of the window whose allowance is spent.
        """
        if limit < 1:
            return now
        key = {KEY: {"S": self.item_id(reference)}}
        names = {"#id": KEY, "#start": "redirectWindowStart", "#count": "redirectCount"}
        cutoff = {"N": str(now - window_seconds)}
        attempts = (
            # within the current window, below the limit
            (
                "SET #count = #count + :one",
                "attribute_exists(#id) AND #start > :cutoff AND #count < :limit",
                {":one": {"N": "1"}, ":cutoff": cutoff, ":limit": {"N": str(limit)}},
            ),
            # no window yet, or it has passed: this redirect opens a new one
            (
                "SET #start = :now, #count = :one",
                "attribute_exists(#id) AND (attribute_not_exists(#start) OR #start <= :cutoff)",
                {":one": {"N": "1"}, ":cutoff": cutoff, ":now": {"N": repr(now)}},
            ),
        )
        client = aws_client("dynamodb")
        old: dict[str, Any] = {}
        for update, condition, values in (*attempts, attempts[0]):  # a peer may have just opened the window
            try:
                client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return None
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                old = exc.response.get("Item") or old
        start = old.get("redirectWindowStart", {}).get("N")
        return float(start) if start else now

    @staticmethod
    def _record(item: dict[str, Any] | None) -> SendRecord | None:
        if not item:
            return None
        values = {k: from_attribute(v) for k, v in item.items() if k not in (KEY, TTL_ATTRIBUTE)}
        return SendRecord.model_validate(values)
