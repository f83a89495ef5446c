"""Dead-letter queues: what waits in them and why, and moving it back to where it came from.

A message is one of three kinds, told apart by its shape:
- a Lambda failure record (an asynchronous invocation that ran out of retries): back to its function;
- an event EventBridge or its Scheduler could not deliver (ERROR_CODE / TARGET_ARN attributes): back to the target;
- a message an SQS queue gave up on (the queue names this one in its RedrivePolicy): back to that queue, by
  StartMessageMoveTask where SQS offers it, else received, sent and deleted one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from listrak_ops.stack import StackResources

PEEK = 10
VISIBILITY_SECONDS = 60  # long enough to act on a received batch before SQS shows it again


@dataclass(frozen=True)
class Parked:
    kind: str  # "function", "target" or "queue"
    target: str | None  # function ARN, or None for a queue's message
    payload: Any
    reason: str


def classify(message: dict[str, Any]) -> Parked:
    attributes = {k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()}
    body = message.get("Body") or ""
    if "TARGET_ARN" in attributes or "ERROR_CODE" in attributes:
        reason = f"{attributes.get('ERROR_CODE', '?')}: {attributes.get('ERROR_MESSAGE', '')}".strip()
        return Parked("target", attributes.get("TARGET_ARN"), _json(body), reason[:300])
    record = _json(body)
    if isinstance(record, dict) and "requestContext" in record and "requestPayload" in record:
        failure = record.get("responsePayload") or {}
        context = record["requestContext"]
        reason = (
            f"{context.get('condition', 'failed')} after {context.get('approximateInvokeCount', '?')} attempt(s): "
            f"{failure.get('errorType', '?')}: {failure.get('errorMessage', '')}"
        )
        return Parked("function", context.get("functionArn"), record["requestPayload"], reason[:300])
    receives = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "?")
    return Parked("queue", None, body, f"given up by its queue (received {receives} time(s) here)")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _receive(sqs: Any, url: str, *, visibility: int, limit: int = PEEK) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=min(limit, 10),
        VisibilityTimeout=visibility,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        WaitTimeSeconds=0,
    ).get("Messages", [])


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def list_queues(stack: StackResources, peek: int = 3) -> list[dict[str, Any]]:
    """Each dead-letter queue with its count, the queues that feed it, and its first messages' reasons.

    Peeking makes the messages invisible for a moment only (visibility 0): nothing is taken out.
    """
    sqs = stack.client("sqs")
    found = []
    for logical_id, url in stack.dead_letter_queues().items():
        first = [classify(m) for m in _receive(sqs, url, visibility=0, limit=peek)] if peek else []
        found.append(
            {
                "queue": logical_id,
                "url": url,
                "messages": _count(sqs, url),
                "sources": stack.dead_letter_sources(url),
                "first": [{"kind": p.kind, "target": p.target, "reason": p.reason} for p in first[:peek]],
            }
        )
    return found


def redrive(stack: StackResources, logical_id: str, *, limit: int | None = None) -> dict[str, Any]:
    """Moves a dead-letter queue's messages back to their sources; returns what moved and what stayed, and why."""
    queues = stack.dead_letter_queues()
    if logical_id not in queues:
        raise KeyError(f"no dead-letter queue {logical_id}; {stack.where} has {', '.join(queues) or 'none'}")
    sqs = stack.client("sqs")
    url = queues[logical_id]
    sources = stack.dead_letter_sources(url)
    moved: list[str] = []
    kept: list[str] = []
    peeked = [classify(m) for m in _receive(sqs, url, visibility=0)]
    if peeked and all(p.kind == "queue" for p in peeked) and len(sources) == 1 and limit is None:
        task = _move_task(sqs, url, sources[0])
        if task is not None:
            return {"queue": logical_id, "moveTask": task, "moved": [], "kept": []}
    # What is there now, no more: an event that fails again is parked anew, and is not taken round again.
    budget = _count(sqs, url) if limit is None else min(limit, _count(sqs, url))
    seen: set[str] = set()
    while len(moved) + len(kept) < budget:
        messages = [m for m in _receive(sqs, url, visibility=VISIBILITY_SECONDS) if m["MessageId"] not in seen]
        if not messages:
            break
        for message in messages[: budget - len(moved) - len(kept)]:
            seen.add(message["MessageId"])
            parked = classify(message)
            ok, note = _send_back(stack, sqs, parked, message, sources)
            (moved if ok else kept).append(f"{message['MessageId']}: {note}")
            if ok:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:  # shown again at once, for the next redrive or for a look
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return {"queue": logical_id, "moveTask": None, "moved": moved, "kept": kept}


def _move_task(sqs: Any, url: str, source_url: str) -> str | None:
    """StartMessageMoveTask back to the one source queue; None where SQS (or its emulation) lacks it."""
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source_arn = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        return sqs.start_message_move_task(SourceArn=arn, DestinationArn=source_arn)["TaskHandle"]
    except ClientError:
        return None


def _send_back(
    stack: StackResources, sqs: Any, parked: Parked, message: dict[str, Any], sources: list[str]
) -> tuple[bool, str]:
    if parked.kind in ("function", "target"):
        if not parked.target or not isinstance(parked.payload, dict):
            return False, "no function or event to send it back to"
        return stack.invoke_async(parked.target, parked.payload)
    if len(sources) != 1:
        return False, f"{len(sources)} queues feed this one: cannot tell which this message came from"
    attributes = message.get("MessageAttributes") or {}
    sqs.send_message(
        QueueUrl=sources[0], MessageBody=message["Body"], **({"MessageAttributes": attributes} if attributes else {})
    )
    return True, f"back on {sources[0].rsplit('/', 1)[-1]}"
