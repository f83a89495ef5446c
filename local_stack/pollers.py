"""Event sources that poll or tick: SQS queues fed to the function that polls them, and the template's schedules."""

from __future__ import annotations

import json
from typing import Any

from local_stack.provision import Resources
from local_stack.recursion import HOP_LIMIT
from local_stack.runtime import AsyncOutcome, FunctionRunner


class Pollers:
    """What Lambda's SQS event source mapping and EventBridge Scheduler do, run on demand."""

    def __init__(self, runner: FunctionRunner, resources: Resources) -> None:
        self.runner = runner
        self.resources = resources

    def fire_schedule(self, logical_id: str, event_name: str) -> AsyncOutcome:
        """What EventBridge Scheduler does at the scheduled time: the configured Input, asynchronously."""
        props = self.runner.functions[logical_id].events[event_name]["Properties"]
        return self.runner.invoke_async(logical_id, json.loads(props.get("Input") or "{}"))

    def drain(self, queue_logical_id: str, *, max_batches: int = 10_000) -> int:
        """Feeds a queue to the function that polls it (SQS event source), until it is empty.

        Failed records (batchItemFailures, or a function error) are received again, and moved to the queue's
        dead-letter queue after its maxReceiveCount, as SQS does. A batch that would invoke the function more than
        Lambda's hop limit in one chain is not delivered (local_stack.recursion) unless the function allows the
        loop: its messages go to the dead-letter queue. Returns the number of batches delivered.
        """
        logical_id, batch_size = self.poller(queue_logical_id)
        url = self.resources.refs[queue_logical_id]
        props = self.resources.template.resources[queue_logical_id].get("Properties", {})
        redrive = self.resources.resolve(props.get("RedrivePolicy") or {})
        sqs = self.resources.client("sqs")
        receives: dict[str, int] = {}
        for batch_number in range(max_batches):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch_size, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                return batch_number
            event = {"Records": [self._sqs_record(queue_logical_id, m, receives) for m in messages]}
            loops = self.runner.loops
            lineage = loops.next_hop(loops.lineage_of([m["MessageId"] for m in messages]), logical_id)
            stopped = loops.stops(lineage, logical_id) and self.runner.functions[logical_id].recursive_loop != "Allow"
            if stopped:
                self.runner.log(
                    logical_id,
                    f"Lambda stopped a recursive loop: this chain of events invoked {logical_id} more than "
                    f"{HOP_LIMIT} times (set RecursiveLoop: Allow on the function if the loop is by design)",
                )
                failed = {m["MessageId"] for m in messages}
            else:
                try:
                    result = self.runner.invoke(logical_id, event, lineage=lineage) or {}
                    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                except Exception:
                    failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                elif stopped and not redrive:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # dropped
                elif redrive and (stopped or receives[message["MessageId"]] >= int(redrive["maxReceiveCount"])):
                    dlq = self.resources.queue_url(redrive["deadLetterTargetArn"])
                    sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
        raise RuntimeError(f"{queue_logical_id} did not drain in {max_batches} batches")

    def poller(self, queue_logical_id: str) -> tuple[str, int]:
        """The function whose SQS event polls this queue, and its batch size."""
        for logical_id, spec in self.runner.functions.items():
            for ev in spec.events.values():
                queue = ev.get("Properties", {}).get("Queue")
                if ev.get("Type") == "SQS" and isinstance(queue, dict) and queue_logical_id in str(queue):
                    return logical_id, int(ev["Properties"].get("BatchSize", 10))
        raise LookupError(f"no function polls {queue_logical_id}")

    def _sqs_record(self, queue_logical_id: str, message: dict[str, Any], receives: dict[str, int]) -> dict[str, Any]:
        receives[message["MessageId"]] = receives.get(message["MessageId"], 0) + 1
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {"ApproximateReceiveCount": str(receives[message["MessageId"]])},
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.resources.attributes[(queue_logical_id, "Arn")],
            "awsRegion": self.resources.region,
        }
