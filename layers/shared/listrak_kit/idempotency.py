"""Exactly-once work by a state item, as the send path does it: one DynamoDB item per key, written before the work.

Why not Powertools Idempotency: its in-progress record expires (after the function's timeout) into "run again",
so when the work ran (Listrak resent) and only the completion write failed, a repeat after that runs it a second
time. Listrak's resend has no idempotency key of its own, so nothing may make a claimed key run again:

- claim: a conditional put (`attribute_not_exists`) of the key, in state `working`, with a hash of the payload;
- the same key with another payload is a conflict; with the same payload, a `done` item replays its answer, and a
  `working` item (the work in flight, or done with its answer not recorded) is answered as such, never re-run;
- a raise inside the work deletes the claim (it proved nothing was done), so a retry runs it again;
- items live as long as Listrak's resend window, so a duplicate days later still does nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.errors import Conflict
from listrak_kit.observability import logger

REPLAY_MARKER = "__replayed__"


class Once:
    """Wraps a function of one keyword argument (`data`, a pydantic model) so that each key runs it at most once."""

    def __init__(
        self,
        table_name: str,
        *,
        key_prefix: str,
        key_field: str,
        payload_fields: tuple[str, ...],
        expires_after_seconds: int,
        noun: str,
    ):
        self._table = table_name
        self._prefix = key_prefix
        self._key_field = key_field
        self._payload_fields = payload_fields
        self._expires = expires_after_seconds
        self._noun = noun

    def register_lambda_context(self, context: Any) -> None:
        """Nothing to register: a claim never expires into "run again"."""

    def __call__(self, work: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        def run_once(*, data: Any) -> dict[str, Any]:
            key = getattr(data, self._key_field, None)
            if not key:
                return work(data=data)  # no key given: the caller asked for no duplicate protection
            # The key is the caller's text (it may hold anything): stored as a hash.
            item_id = f"{self._prefix}#{hashlib.sha256(str(key).encode('utf-8')).hexdigest()}"
            digest = self._digest(data)
            token = uuid.uuid4().hex
            if not self._claim(item_id, digest, token):
                return self._answer_existing(item_id, digest, key)
            try:
                result = work(data=data)
            except BaseException:
                self._release(item_id, token)
                raise
            try:
                self._complete(item_id, token, result)
            except Exception:
                # The work ran and only its answer was not recorded: answered as it happened; the claim stays
                # `working` for good, so a repeat is told so and never runs it again.
                logger.exception("idempotency record not completed", extra={"key": f"{self._key_field} {key!r}"})
            return result

        return run_once

    def _digest(self, data: Any) -> str:
        values = [getattr(data, name, None) for name in self._payload_fields]
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode("utf-8")).hexdigest()

    def _claim(self, item_id: str, digest: str, token: str) -> bool:
        item = {
            KEY: {"S": item_id},
            "state": {"S": "working"},
            "payloadHash": {"S": digest},
            "token": {"S": token},
            TTL_ATTRIBUTE: {"N": str(int(time.time()) + self._expires)},
        }
        try:
            aws_client("dynamodb").put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _answer_existing(self, item_id: str, digest: str, key: str) -> dict[str, Any]:
        answer = aws_client("dynamodb").get_item(TableName=self._table, Key={KEY: {"S": item_id}}, ConsistentRead=True)
        item = {k: from_attribute(v) for k, v in (answer.get("Item") or {}).items()}
        described = f"{self._key_field} {key!r}"
        if not item:
            raise Conflict(f"a {self._noun} with {described} is in progress; retry shortly", retry_after=2)
        if item.get("payloadHash") != digest:
            raise Conflict(f"{described} was already used for a different {self._noun}")
        if item.get("state") == "done" and isinstance(item.get("result"), dict):
            return {**item["result"], REPLAY_MARKER: True}
        raise Conflict(
            f"a {self._noun} with {described} was made and its outcome is not recorded yet; it is never made twice "
            "under one key",
            retry_after=30,
        )

    def _complete(self, item_id: str, token: str, result: dict[str, Any]) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": item_id}},
            UpdateExpression="SET #state = :done, #result = :result",
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#state": "state", "#result": "result", "#token": "token"},
            ExpressionAttributeValues={":done": {"S": "done"}, ":result": to_attribute(result), ":token": {"S": token}},
        )

    def _release(self, item_id: str, token: str) -> None:
        try:
            aws_client("dynamodb").delete_item(
                TableName=self._table,
                Key={KEY: {"S": item_id}},
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except Exception:
            logger.exception("idempotency claim not released")
