"""Privacy requests in the table: one item per request (`privacy#request#<id>`), its progress and its audit, and
the set of open requests (`privacy#open`) the worker sweeps, so that it never scans the table to find them."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, from_attribute, to_attribute

PREFIX = "privacy#request#"
OPEN_ID = "privacy#open"


class DynamoPrivacyRequests:
    def __init__(self, table_name: str):
        self._table = table_name

    def create(self, request_id: str, item: dict[str, Any]) -> bool:
        """Records a new request and opens it; False when the id exists (a redelivered webhook): nothing changes."""
        client = aws_client("dynamodb")
        try:
            client.put_item(
                TableName=self._table,
                Item={KEY: {"S": PREFIX + request_id}, **{k: to_attribute(v) for k, v in item.items()}},
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        self._open("ADD", request_id)
        return True

    def get(self, request_id: str) -> dict[str, Any] | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": PREFIX + request_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return None if not item else {k: from_attribute(v) for k, v in item.items() if k != KEY}

    def update(self, request_id: str, sets: dict[str, Any], removes: tuple[str, ...] = ()) -> None:
        names = {f"#s{i}": name for i, name in enumerate(sets)}
        names.update({f"#r{i}": name for i, name in enumerate(removes)})
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": PREFIX + request_id}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={**names, "#id": KEY},
            ExpressionAttributeValues={f":s{i}": to_attribute(v) for i, v in enumerate(sets.values())},
        )

    def close(self, request_id: str) -> None:
        self._open("DELETE", request_id)

    def open_ids(self) -> list[str]:
        answer = aws_client("dynamodb").get_item(TableName=self._table, Key={KEY: {"S": OPEN_ID}}, ConsistentRead=True)
        return sorted((answer.get("Item") or {}).get("ids", {}).get("SS", []))

    def all(self) -> list[dict[str, Any]]:
        """Every request, for the operator (a filtered scan: the audit is read rarely)."""
        paginator = aws_client("dynamodb").get_paginator("scan")
        found = []
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(#id, :prefix)",
            ExpressionAttributeNames={"#id": KEY},
            ExpressionAttributeValues={":prefix": {"S": PREFIX}},
        ):
            found += [{k: from_attribute(v) for k, v in item.items() if k != KEY} for item in page.get("Items", [])]
        return sorted(found, key=lambda r: str(r.get("requestedAt")), reverse=True)

    def _open(self, action: str, request_id: str) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": OPEN_ID}},
            UpdateExpression=f"{action} ids :id",
            ExpressionAttributeValues={":id": {"SS": [request_id]}},
        )
