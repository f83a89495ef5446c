"""SQS: how a large import is fanned out, and how a long one continues in a fresh invocation."""

from __future__ import annotations

import json
from typing import Any

from listrak_kit.aws.clients import aws_client


class SqsTasks:
    def __init__(self, queue_url: str):
        self._url = queue_url

    def send(self, task: dict[str, Any]) -> None:
        aws_client("sqs").send_message(QueueUrl=self._url, MessageBody=json.dumps(task))
