"""Sends an operator looks after: those Listrak's Activity could not settle (`unconfirmed`), and the word that
settles them."""

from __future__ import annotations

import time
from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.send_records import RECONCILE_INDEX, RECONCILE_QUEUE, DynamoSendRecords
from listrak_kit.core.send_record import SendRecord


def unsettled(table: str, status: str | None) -> list[SendRecord]:
    """Every send not settled yet (the sparse reconcile index holds exactly those), of one status if given."""
    records = DynamoSendRecords(table)
    arguments: dict[str, Any] = {
        "TableName": table,
        "IndexName": RECONCILE_INDEX,
        "KeyConditionExpression": "#queue = :queue",
        "ExpressionAttributeNames": {"#queue": RECONCILE_QUEUE},
        "ExpressionAttributeValues": {":queue": {"S": "send"}},
    }
    found: list[SendRecord] = []
    while True:
        answer = aws_client("dynamodb").query(**arguments)
        for item in answer.get("Items") or []:
            record = records.get(item["id"]["S"].removeprefix("send#"))
            if record is not None and (status is None or record.status == status):
                found.append(record)
        if "LastEvaluatedKey" not in answer:
            return found
        arguments["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def settle(table: str, reference: str, *, sent: bool) -> str:
    """An operator's word on an unconfirmed send; what became of it, in one line."""
    records = DynamoSendRecords(table)
    record = records.get(reference)
    if record is None:
        return f"no send {reference!r}"
    if record.status != "unconfirmed":
        return f"{reference}: {record.status}, not unconfirmed: nothing changed"
    last = record.attempts[-1].n if record.attempts else 1
    records.operator_settle(reference, record.attemptToken or "", last, sent=sent, now=int(time.time()))
    return f"{reference}: marked sent" if sent else f"{reference}: will be sent again, once, at the next reconcile"
