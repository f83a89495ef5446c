"""What the delivery poller keeps in the send table: the messages used lately, its place in each message's
Activity, and what it has seen of each send (on the send's own item).

Ids with a space are no send's (a reference has no space), like the Activity model's item; they share its "send#"
prefix, so a function allowed the send items is allowed them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.send_records import DynamoSendRecords
from listrak_kit.aws.table import KEY, from_attribute, to_attribute
from listrak_kit.core.send_record import SendRecord

MESSAGES_ID = "send# delivery messages"  # one attribute per "listId/transactionalMessageId": when last sent to
_POLL_PREFIX = "send# delivery poll "


def pair_name(list_id: int, transactional_message_id: int) -> str:
    return f"{list_id}/{transactional_message_id}"


class DynamoDeliveryRecords(DynamoSendRecords):
    # -- the messages used lately ----------------------------------------------------------------------

    def note_message(self, list_id: int, transactional_message_id: int, now: float) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": MESSAGES_ID}},
            UpdateExpression="SET #pair = :now",
            ExpressionAttributeNames={"#pair": pair_name(list_id, transactional_message_id)},
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        )

    def messages(self, since: float) -> list[tuple[int, int]]:
        """The (listId, transactionalMessageId) pairs sent to at `since` or later."""
        item = aws_client("dynamodb").get_item(TableName=self._table, Key={KEY: {"S": MESSAGES_ID}}).get("Item")
        pairs = []
        for name, value in (item or {}).items():
            if name == KEY or float(from_attribute(value)) < since:
                continue
            list_id, _, message_id = name.partition("/")
            pairs.append((int(list_id), int(message_id)))
        return sorted(pairs)

    # -- the poller's place in one message's Activity --------------------------------------------------

    def poll_state(self, list_id: int, transactional_message_id: int) -> dict[str, Any]:
        key = {KEY: {"S": _POLL_PREFIX + pair_name(list_id, transactional_message_id)}}
        item = aws_client("dynamodb").get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return {k: from_attribute(v) for k, v in (item or {}).items() if k != KEY}

    def save_poll_state(self, list_id: int, transactional_message_id: int, state: dict[str, Any]) -> None:
        item = {KEY: {"S": _POLL_PREFIX + pair_name(list_id, transactional_message_id)}}
        item.update({k: to_attribute(v) for k, v in state.items() if v is not None})
        aws_client("dynamodb").put_item(TableName=self._table, Item=item)

    # -- what has been seen of one send ----------------------------------------------------------------

    def add_delivery(self, reference: str, seen: dict[str, str], bounce_reason: str | None) -> SendRecord | None:
        """Adds what was seen to the send (each kept at its first date; nothing ever removed). Returns the send as
        it is now, or None when there is no such send."""
        client = aws_client("dynamodb")
        key = {KEY: {"S": self.item_id(reference)}}
        try:
            self._ensure_map(key, "deliverySeen")
            names: dict[str, str] = {"#id": KEY}
            values: dict[str, Any] = {}
            clauses = []
            for i, (kind, at) in enumerate(sorted(seen.items())):
                names[f"#k{i}"] = kind
                values[f":v{i}"] = {"S": at}
                clauses.append(f"deliverySeen.#k{i} = if_not_exists(deliverySeen.#k{i}, :v{i})")
            if bounce_reason:
                values[":reason"] = {"S": bounce_reason}
                clauses.append("bounceReason = if_not_exists(bounceReason, :reason)")
            answer = client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET " + ", ".join(clauses),
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None  # the send's record has expired since the row was matched
            raise
        return self._record(answer.get("Attributes"))

    def _ensure_map(self, key: dict[str, Any], name: str) -> None:
        """A map must exist before one of its entries can be set (a send made before deliveries were kept)."""
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET #map = if_not_exists(#map, :empty)",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#id": KEY, "#map": name},
            ExpressionAttributeValues={":empty": {"M": {}}},
        )

    def mark_notified(self, reference: str, kind: str, at: str) -> None:
        client = aws_client("dynamodb")
        key = {KEY: {"S": self.item_id(reference)}}
        names = {"#id": KEY}
        try:
            self._ensure_map(key, "deliveryNotified")
            client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET deliveryNotified.#kind = :at",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={**names, "#kind": kind},
                ExpressionAttributeValues={":at": {"S": at}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
