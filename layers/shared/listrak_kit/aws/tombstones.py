"""Tombstones: the keyed hashes of forgotten people, in 256 items of the table (`privacy#tombstone#<00..ff>`, a
string set each) so that an import reads them all in three BatchGetItem calls and checks each record in memory."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY
from listrak_kit.core.forgotten import keyed_hash, record_identifiers

PREFIX = "privacy#tombstone#"
SHARDS = [f"{n:02x}" for n in range(256)]
_BATCH = 100  # BatchGetItem's limit
RELOAD_SECONDS = 5.0  # a running import sees a new tombstone within 5 s (3 small reads per reload)


def _shard_id(hashed: str) -> str:
    return PREFIX + hashed[:2]


class DynamoTombstones:
    def __init__(self, table_name: str):
        self._table = table_name

    def add(self, hashes: Iterable[str]) -> None:
        self._change("ADD", hashes)

    def remove(self, hashes: Iterable[str]) -> None:
        self._change("DELETE", hashes)

    def _change(self, action: str, hashes: Iterable[str]) -> None:
        by_shard: dict[str, set[str]] = {}
        for hashed in hashes:
            by_shard.setdefault(_shard_id(hashed), set()).add(hashed)
        for shard, values in by_shard.items():
            aws_client("dynamodb").update_item(
                TableName=self._table,
                Key={KEY: {"S": shard}},
                UpdateExpression=f"{action} hashes :values",
                ExpressionAttributeValues={":values": {"SS": sorted(values)}},
            )

    def contains(self, hashed: str) -> bool:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": _shard_id(hashed)}}, ConsistentRead=True
        )
        return hashed in set((answer.get("Item") or {}).get("hashes", {}).get("SS", []))

    def load(self) -> frozenset[str]:
        client = aws_client("dynamodb")
        found: set[str] = set()
        for start in range(0, len(SHARDS), _BATCH):
            keys: list[dict[str, Any]] = [{KEY: {"S": PREFIX + s}} for s in SHARDS[start : start + _BATCH]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ProjectionExpression": "hashes"}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    found.update(item.get("hashes", {}).get("SS", []))
                request = answer.get("UnprocessedKeys") or {}
        return frozenset(found)


class TombstoneCheck:
    """ForgottenCheck over the tombstones: reloaded at most once a minute, matched in memory."""

    def __init__(
        self, tombstones: DynamoTombstones, key: Callable[[], bytes], monotonic: Callable[[], float] = time.monotonic
    ):
        self._tombstones = tombstones
        self._key = key
        self._monotonic = monotonic
        self._hashes: frozenset[str] = frozenset()
        self._loaded_at: float | None = None

    def holds(self, record: Mapping[str, Any]) -> bool:
        now = self._monotonic()
        if self._loaded_at is None or now - self._loaded_at > RELOAD_SECONDS:
            self._hashes = self._tombstones.load()
            self._loaded_at = now
        if not self._hashes:
            return False
        key = self._key()
        return any(keyed_hash(key, kind, value) in self._hashes for kind, value in record_identifiers(record))
