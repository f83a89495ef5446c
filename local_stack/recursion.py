"""Lambda's recursive loop detection: an event chain that invokes one function more than 16 times is stopped.

Lambda follows a message from the invocation that sent it to the invocation it triggers (SQS is the source this
template can loop through). Unless the function's recursion setting is `Allow` (SAM's `RecursiveLoop: Allow`),
the 17th invocation of a function in one chain does not happen: the message goes to the queue's dead-letter
queue, or nowhere. Locally, the chain is followed through the message ids the functions' SQS sends return.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import boto3

HOP_LIMIT = 16  # invocations of one function in one chain that Lambda lets through
_HOOK_ID = "local-stack-recursion"

Lineage = Mapping[str, int]  # function -> how many times the chain has invoked it


class LoopTracker:
    def __init__(self) -> None:
        self._sent: dict[str, dict[str, int]] = {}  # message id -> the lineage of the invocation that sent it
        self._running = threading.local()  # the lineage of the invocation running on this thread
        self._lock = threading.Lock()

    def install(self) -> None:
        """Follows the SQS sends of every boto3 client made from now on (the functions' clients among them)."""
        events = boto3._get_default_session().events
        events.register("after-call.sqs.SendMessage", self._sent_one, unique_id=f"{_HOOK_ID}-one")
        events.register("after-call.sqs.SendMessageBatch", self._sent_batch, unique_id=f"{_HOOK_ID}-batch")

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()

    def lineage_of(self, message_ids: list[str]) -> dict[str, int]:
        """The chain a batch of messages continues (the longest of theirs, per function)."""
        merged: dict[str, int] = {}
        with self._lock:
            for message_id in message_ids:
                for function, count in self._sent.get(message_id, {}).items():
                    merged[function] = max(merged.get(function, 0), count)
        return merged

    @staticmethod
    def next_hop(lineage: Lineage, function: str) -> dict[str, int]:
        return {**lineage, function: lineage.get(function, 0) + 1}

    @staticmethod
    def stops(lineage: Lineage, function: str) -> bool:
        """Whether Lambda stops this invocation (for a function whose recursion setting is Terminate)."""
        return lineage.get(function, 0) > HOP_LIMIT

    @contextlib.contextmanager
    def invocation(self, lineage: Lineage) -> Iterator[None]:
        """While a function runs: what it sends to SQS continues its chain."""
        previous = getattr(self._running, "lineage", None)
        self._running.lineage = dict(lineage)
        try:
            yield
        finally:
            self._running.lineage = previous

    def _record(self, message_ids: list[str]) -> None:
        lineage = getattr(self._running, "lineage", None)
        if lineage:
            with self._lock:
                for message_id in message_ids:
                    self._sent[message_id] = dict(lineage)

    def _sent_one(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        if parsed and parsed.get("MessageId"):
            self._record([parsed["MessageId"]])

    def _sent_batch(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        if parsed:
            self._record([entry["MessageId"] for entry in parsed.get("Successful", []) if "MessageId" in entry])
