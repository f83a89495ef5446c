"""Parking an event that can never succeed: straight into the dead-letter queue, with its reason, not retried.

Lambda retries a failed asynchronous invocation twice before its on-failure destination parks it. For an event that
is wrong in itself (a required field missing, a message the catalog lacks) the retries change nothing, and an
operator redriving the queue would only see it fail again. Such an event is parked at once, in the shape of Lambda's
own failure record (so that one reader serves both), with `condition` set to PermanentError: the operator command
will not redrive it without --force, which is for after the catalog or the sender has been fixed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.masking import mask_addresses

PERMANENT = "PermanentError"


def failure_record(event: dict[str, Any], *, function_arn: str, request_id: str, error: Exception) -> dict[str, Any]:
    """A record shaped like Lambda's on-failure destination record, marked permanent."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": PERMANENT,
            "approximateInvokeCount": 1,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": function_arn.rsplit(":", 1)[-1]},
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": mask_addresses(str(error))[:1000]},
    }


class DeadLetterQueue:
    def __init__(self, queue_url: str):
        self._url = queue_url

    def park(self, record: dict[str, Any]) -> None:
        aws_client("sqs").send_message(QueueUrl=self._url, MessageBody=json.dumps(record, default=str))
