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
        it is now, or None when there is no such send (its record expired since the row was matched)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses = []
        for i, (kind, at) in enumerate(sorted(seen.items())):
            names[f"#k{i}"] = kind
            values[f":v{i}"] = {"S": at}
            clauses.append(f"#map.#k{i} = if_not_exists(#map.#k{i}, :v{i})")
        if bounce_reason:
            values[":reason"] = {"S": bounce_reason}
            clauses.append("bounceReason = if_not_exists(bounceReason, :reason)")
        answer = self._set_in_map(reference, "deliverySeen", clauses, names, values)
        return self._record(answer.get("Attributes")) if answer is not None else None

    def mark_notified(self, reference: str, kind: str, at: str) -> None:
        self._set_in_map(reference, "deliveryNotified", ["#map.#kind = :at"], {"#kind": kind}, {":at": {"S": at}})

    def _set_in_map(
        self, reference: str, name: str, clauses: list[str], names: dict[str, str], values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One update of entries of the send's map `name`; None when the send does not exist. A send made before
        the map was kept gets it first (an entry can be set only in a map that exists)."""
        client = aws_client("dynamodb")
        key = {KEY: {"S": self.item_id(reference)}}
        arguments = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "SET " + ", ".join(clauses),
            "ExpressionAttributeNames": {"#map": name, **names},
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        try:
            # The map exists only on an existing item: one condition says both.
            return dict(client.update_item(**arguments, ConditionExpression="attribute_exists(#map)"))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        try:
            client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #map = if_not_exists(#map, :empty)",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={"#id": KEY, "#map": name},
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
            return dict(client.update_item(**arguments, ConditionExpression="attribute_exists(#map)"))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
