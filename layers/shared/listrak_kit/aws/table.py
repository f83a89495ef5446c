"""The project's DynamoDB table: Powertools idempotency records, send records and refresh locks.

One table, partition key `id`, TTL attribute `expiration` (epoch seconds). Item ids are prefixed by kind.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client

KEY = "id"
TTL_ATTRIBUTE = "expiration"
_INTEGER = re.compile(r"[+-]?\d+")


class DynamoRefreshLock:
    """A lease: a conditional put that succeeds only when nobody holds an unexpired lock."""

    def __init__(self, table_name: str, name: str, now: Callable[[], float] = time.time):
        self._table = table_name
        self._id = f"lock#{name}"
        self._now = now

    def acquire(self, owner: str, ttl_seconds: int) -> bool:
        now = int(self._now())
        try:
            aws_client("dynamodb").put_item(
                TableName=self._table,
                Item={KEY: {"S": self._id}, "owner": {"S": owner}, TTL_ATTRIBUTE: {"N": str(now + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(#id) OR #exp < :now",
                ExpressionAttributeNames={"#id": KEY, "#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def release(self, owner: str) -> None:
        try:
            aws_client("dynamodb").delete_item(
                TableName=self._table,
                Key={KEY: {"S": self._id}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def to_attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_attribute(v) for k, v in value.items()}}
    return {"S": str(value)}


def from_attribute(attribute: dict[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "NULL":
        return None
    if kind == "N":
        # DynamoDB numbers are decimal strings: an integer stays exact (float loses those above 2**53).
        if _INTEGER.fullmatch(value):
            return int(value)
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    return value
