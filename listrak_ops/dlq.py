"""Dead-letter queues: what waits in them and why, and moving it back to where it came from.

A message is one of three kinds, told apart by its shape:
- a Lambda failure record (an asynchronous invocation that ran out of retries): back to its function;
- an event EventBridge or its Scheduler could not deliver (ERROR_CODE / TARGET_ARN attributes): back to the target;
- a message an SQS queue gave up on (the queue names this one in its RedrivePolicy): back to that queue, by
  StartMessageMoveTask where SQS offers it, else received, sent and deleted one by one.

A failure record whose condition is PermanentError was parked by the function itself, at once: the event is wrong in
itself (malformed, a required field missing, a message the catalog lacks) and would fail again as it is. It is not
redriven unless --force says the catalog or the sender has been fixed since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from listrak_ops.about import about
from listrak_ops.stack import StackResources

PEEK = 10
VISIBILITY_SECONDS = 60  # long enough to act on a received batch before SQS shows it again
PERMANENT = "PermanentError"  # listrak_kit.aws.dead_letters' condition for an event wrong in itself


@dataclass(frozen=True)
class Parked:
    kind: str  # "function", "target" or "queue"
    target: str | None  # function ARN, or None for a queue's message
    payload: Any
    reason: str
    permanent: bool = False
    about: str = ""  # what it concerns, for people: the send's reference and order, or the import's file

    def view(self, message_id: str) -> dict[str, Any]:
        return {
            "id": message_id,
            "kind": self.kind,
            "target": self.target,
            "permanent": self.permanent,
            "about": self.about,
            "reason": self.reason,
        }


def classify(message: dict[str, Any]) -> Parked:
    attributes = {k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()}
    body = message.get("Body") or ""
    if "TARGET_ARN" in attributes or "ERROR_CODE" in attributes:
        reason = f"{attributes.get('ERROR_CODE', '?')}: {attributes.get('ERROR_MESSAGE', '')}".strip()
        payload = _json(body)
        return Parked("target", attributes.get("TARGET_ARN"), payload, reason[:300], about=about(payload))
    record = _json(body)
    if isinstance(record, dict) and "requestContext" in record and "requestPayload" in record:
        failure = record.get("responsePayload") or {}
        context = record["requestContext"]
        permanent = context.get("condition") == PERMANENT
        how = (
            "parked at once (it cannot succeed as it is)"
            if permanent
            else (f"{context.get('condition', 'failed')} after {context.get('approximateInvokeCount', '?')} attempt(s)")
        )
        reason = f"{how}: {failure.get('errorType', '?')}: {failure.get('errorMessage', '')}"
        payload = record["requestPayload"]
        return Parked("function", context.get("functionArn"), payload, reason[:300], permanent, about(payload))
    receives = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "?")
    reason = f"given up by its queue (received {receives} time(s) here)"
    return Parked("queue", None, body, reason, about=about(_json(body)))


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
        first = [(m["MessageId"], classify(m)) for m in _receive(sqs, url, visibility=0, limit=peek)] if peek else []
        found.append(
            {
                "queue": logical_id,
                "url": url,
                "messages": _count(sqs, url),
                "sources": stack.dead_letter_sources(url),
                "first": [parked.view(message_id) for message_id, parked in first[:peek]],
            }
        )
    return found


def _queue(stack: StackResources, logical_id: str) -> str:
    queues = stack.dead_letter_queues()
    if logical_id not in queues:
        raise KeyError(f"no dead-letter queue {logical_id}; {stack.where} has {', '.join(queues) or 'none'}")
    return queues[logical_id]


def redrive(
    stack: StackResources,
    logical_id: str,
    *,
    limit: int | None = None,
    message_id: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Moves a dead-letter queue's messages back to their sources; returns what moved and what stayed, and why.

    message_id: that message only. force: permanent failures too. dry_run: says what it would do, moves nothing.
    """
    url = _queue(stack, logical_id)
    sqs = stack.client("sqs")
    sources = stack.dead_letter_sources(url)
    moved: list[str] = []
    kept: list[str] = []
    peeked = [classify(m) for m in _receive(sqs, url, visibility=0)]
    whole_queue = limit is None and message_id is None and not dry_run
    if whole_queue and peeked and all(p.kind == "queue" for p in peeked) and len(sources) == 1:
        task = _move_task(sqs, url, sources[0])
        if task is not None:
            return {"queue": logical_id, "moveTask": task, "moved": [], "kept": [], "dryRun": False}
    # What is there now, no more: an event that fails again is parked anew, and is not taken round again.
    budget = _count(sqs, url) if limit is None else min(limit, _count(sqs, url))
    seen: set[str] = set()
    held: list[str] = []  # receipt handles to show again at once when done
    while len(moved) + len(kept) < budget:
        messages = [m for m in _receive(sqs, url, visibility=VISIBILITY_SECONDS) if m["MessageId"] not in seen]
        if not messages:
            break
        for message in messages:
            seen.add(message["MessageId"])
            if (message_id is not None and message["MessageId"] != message_id) or len(moved) + len(kept) >= budget:
                held.append(message["ReceiptHandle"])
                continue
            parked = classify(message)
            label = f"{message['MessageId']}" + (f" ({parked.about})" if parked.about else "")
            if parked.permanent and not force:
                kept.append(f"{label}: permanent ({parked.reason}); fix the catalog or the sender, then --force")
                held.append(message["ReceiptHandle"])
            elif dry_run:
                moved.append(f"{label}: would go back to {parked.target or 'its queue'}")
                held.append(message["ReceiptHandle"])
            else:
                ok, note = _send_back(stack, sqs, parked, message, sources)
                (moved if ok else kept).append(f"{label}: {note}")
                if ok:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    held.append(message["ReceiptHandle"])
        if message_id is not None and message_id in seen:
            break
    for receipt in held:  # shown again at once, for the next redrive or for a look
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    if message_id is not None and message_id not in seen:
        raise KeyError(f"no message {message_id} in {logical_id} (listrak-sam dlq list shows their ids)")
    return {"queue": logical_id, "moveTask": None, "moved": moved, "kept": kept, "dryRun": dry_run}


def delete(stack: StackResources, logical_id: str, message_id: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Deletes one message by its id (after a look with `dlq list`): for what will never be sent, by decision."""
    url = _queue(stack, logical_id)
    sqs = stack.client("sqs")
    held: list[str] = []
    found: Parked | None = None
    seen: set[str] = set()
    try:
        while found is None:
            messages = [m for m in _receive(sqs, url, visibility=VISIBILITY_SECONDS) if m["MessageId"] not in seen]
            if not messages:
                break
            for message in messages:
                seen.add(message["MessageId"])
                if message["MessageId"] == message_id and found is None:
                    found = classify(message)
                    if dry_run:
                        held.append(message["ReceiptHandle"])
                    else:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    held.append(message["ReceiptHandle"])
    finally:
        for receipt in held:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    if found is None:
        raise KeyError(f"no message {message_id} in {logical_id} (listrak-sam dlq list shows their ids)")
    return {"queue": logical_id, "deleted": not dry_run, "message": found.view(message_id)}


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
