"""Sends as on-call looks for them: by state (what is pending, unconfirmed, failed), the operator's word that settles
an unconfirmed one, and the log lines of one reference."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.send_records import RECONCILE_INDEX, RECONCILE_QUEUE, DynamoSendRecords
from listrak_kit.core.send_record import SendRecord
from listrak_ops.stack import StackResources

QUERY_TIMEOUT_SECONDS = 60.0


class QueryFailed(Exception):
    """The Logs Insights query did not finish in time, or ended other than Complete."""


def by_status(stack: StackResources, status: str, *, limit: int) -> list[Any]:
    """Send records in one state, newest first. A filtered scan: an operator's look, never a request path."""
    dynamodb = stack.client("dynamodb")
    keys: list[tuple[str, str]] = []
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=stack.table,
        ProjectionExpression="#id, sentAt",
        FilterExpression="begins_with(#id, :send) AND #status = :status",
        ExpressionAttributeNames={"#id": "id", "#status": "status"},
        ExpressionAttributeValues={":send": {"S": "send#"}, ":status": {"S": status}},
    )
    for page in pages:
        for item in page.get("Items", []):
            keys.append((item.get("sentAt", {}).get("S", ""), item["id"]["S"].removeprefix("send#")))
    keys.sort(reverse=True)
    records = DynamoSendRecords(stack.table)
    found = [records.get(reference) for _, reference in keys[:limit]]
    return [record for record in found if record is not None and record.status == status]


def logs_query(reference: str) -> str:
    """The CloudWatch Logs Insights query for one reference's lines, in every function's log group."""
    quoted = json.dumps(reference)
    return (
        "fields @timestamp, @log, level, message, reference, attempt, detail\n"
        f"| filter reference = {quoted} or @message like {quoted}\n"
        "| sort @timestamp asc\n"
        "| limit 500"
    )


def run_logs_query(
    stack: StackResources,
    reference: str,
    *,
    since_seconds: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, str]]:
    """Runs the query over the stack's log groups; each row as {field: value}. Bounded: QUERY_TIMEOUT_SECONDS."""
    logs = stack.client("logs")
    end = clock()
    query = logs.start_query(
        logGroupNames=stack.log_groups,
        startTime=int(end - since_seconds),
        endTime=int(end),
        queryString=logs_query(reference),
    )["queryId"]
    deadline = clock() + QUERY_TIMEOUT_SECONDS
    while True:
        answer = logs.get_query_results(queryId=query)
        if answer["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            break
        if clock() > deadline:
            logs.stop_query(queryId=query)
            raise QueryFailed(f"the Logs Insights query did not finish in {QUERY_TIMEOUT_SECONDS:.0f} s")
        sleep(1.0)
    if answer["status"] != "Complete":
        raise QueryFailed(f"the Logs Insights query ended {answer['status']}")
    return [{f["field"]: f["value"] for f in row if not f["field"].startswith("@ptr")} for row in answer["results"]]


def local_log_lines(log_dir: Path, reference: str) -> list[str]:
    """The local stack's function logs (one file per function) hold the same JSON lines: those that name it."""
    found: list[str] = []
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (record.get("reference") == reference or reference in line):
                found.append(f"{path.stem}: {line}")
    return found


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
    if record.channel == "sms" and not sent:  # the reconciler sends email only; an SMS is sent at most once
        return f"{reference}: an SMS is never sent again (Listrak's SMS API has no Activity): nothing changed"
    last = record.attempts[-1].n if record.attempts else 1
    records.operator_settle(reference, record.attemptToken or "", last, sent=sent, now=int(time.time()))
    return f"{reference}: marked sent" if sent else f"{reference}: will be sent again, once, at the next reconcile"


def with_delivery(record: SendRecord, private: set[str]) -> dict[str, Any]:
    """A send for people: its record without the private fields, and what became of the email (delivery)."""
    from listrak_kit.core.delivery import delivery_of

    view = record.model_dump(mode="json", exclude=private | {"deliverySeen", "bounceReason", "deliveryNotified"})
    sent = record.status == "sent"
    view["delivery"] = delivery_of(
        record.deliverySeen, record.bounceReason, sent=sent, sent_at=record.sentAt
    ).model_dump()
    return view


def history(table: str, email_address: str, *, now: float | None = None) -> list[SendRecord]:
    """Every send to one address still kept (30 days), newest first: found by the address's fingerprint in the
    index of sends by recipient, for each message sent to lately."""
    from listrak_kit.aws.delivery_records import DynamoDeliveryRecords
    from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS
    from listrak_kit.masking import email_fingerprint

    records = DynamoDeliveryRecords(table)
    fingerprint = email_fingerprint(email_address)
    since = (now if now is not None else time.time()) - RESEND_WINDOW_SECONDS
    found: dict[str, SendRecord] = {}
    for list_id, message_id in records.messages(since):
        for indexed in records.by_recipient(list_id, message_id, fingerprint, "0"):
            record = records.get(indexed.reference)  # the index holds what matching needs; the send holds the rest
            if record is not None:
                found[record.reference] = record
    return sorted(found.values(), key=lambda r: (r.sentAt, r.reference), reverse=True)
