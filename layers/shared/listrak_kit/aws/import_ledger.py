"""The import ledger in DynamoDB: a file is imported once per ETag, and a chunk that reached Listrak is never resent.

Items (all in the project's table):
- `import#<key>#<etag>`: the file, claimed once (conditional put), with its totals when done;
- `import#<key>#<etag>#part#<n>`: one part, with a map of the chunks Listrak accepted (`chunks.<index>`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute

LEDGER_DAYS = 400  # long enough that a file re-dropped months later is recognised as already imported


@dataclass
class PartState:
    done: bool = False
    chunks: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class FileTotals:
    parts_done: int
    parts: int
    records: int
    accepted: int
    rejected: int


class DynamoImportLedger:
    def __init__(self, table_name: str, now=time.time):
        self._table = table_name
        self._now = now

    @staticmethod
    def file_id(key: str, etag: str) -> str:
        return f"import#{key}#{etag}"

    def _put(self, item: dict[str, Any], condition: str, names: dict[str, str], values: dict[str, Any]) -> bool:
        try:
            aws_client("dynamodb").put_item(
                TableName=self._table,
                Item={k: to_attribute(v) for k, v in item.items()},
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                **({"ExpressionAttributeValues": {k: to_attribute(v) for k, v in values.items()}} if values else {}),
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def claim_file(self, key: str, etag: str, *, owner: str, entity: str, parts: int) -> bool:
        """True for the first trigger of this file version (or a retry of that same invocation)."""
        now = int(self._now())
        return self._put(
            {
                KEY: self.file_id(key, etag),
                "kind": "import-file",
                "key": key,
                "etag": etag,
                "entity": entity,
                "owner": owner,
                "status": "importing",
                "parts": parts,
                "partsDone": 0,
                "records": 0,
                "accepted": 0,
                "rejected": 0,
                "startedAt": now,
                TTL_ATTRIBUTE: now + LEDGER_DAYS * 86400,
            },
            "attribute_not_exists(#id) OR (#owner = :owner AND #status <> :done)",
            {"#id": KEY, "#owner": "owner", "#status": "status"},
            {":owner": owner, ":done": "done"},
        )

    def file_status(self, key: str, etag: str) -> dict[str, Any] | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self.file_id(key, etag)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return {k: from_attribute(v) for k, v in item.items()} if item else None

    def part_state(self, key: str, etag: str, part: int) -> PartState:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self._part_id(key, etag, part)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return PartState()
        values = {k: from_attribute(v) for k, v in item.items()}
        return PartState(
            done=values.get("status") == "done",
            chunks={int(k): v for k, v in (values.get("chunks") or {}).items()},
        )

    def chunk_sent(self, key: str, etag: str, part: int, chunk: int, info: dict[str, Any]) -> None:
        """Recorded right after Listrak's 201, so a retry of the part skips this chunk."""
        part_id = self._part_id(key, etag, part)
        table = aws_client("dynamodb")
        names = {"#chunks": "chunks", "#c": str(chunk)}
        try:
            table.update_item(
                TableName=self._table,
                Key={KEY: {"S": part_id}},
                UpdateExpression="SET #chunks.#c = :info",
                ConditionExpression="attribute_exists(#chunks)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":info": to_attribute(info)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # First chunk of this part: create the map with it (another writer may have just done so).
            table.update_item(
                TableName=self._table,
                Key={KEY: {"S": part_id}},
                UpdateExpression="SET #chunks = if_not_exists(#chunks, :empty), #exp = :exp",
                ExpressionAttributeNames={"#chunks": "chunks", "#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":empty": {"M": {}},
                    ":exp": {"N": str(int(self._now()) + LEDGER_DAYS * 86400)},
                },
            )
            table.update_item(
                TableName=self._table,
                Key={KEY: {"S": part_id}},
                UpdateExpression="SET #chunks.#c = :info",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":info": to_attribute(info)},
            )

    def finish_part(
        self, key: str, etag: str, part: int, *, records: int, accepted: int, rejected: int, rejects_key: str | None
    ) -> FileTotals | None:
        """Marks the part done once and adds its counts to the file; None when it was already done (a redelivery)."""
        table = aws_client("dynamodb")
        try:
            table.update_item(
                TableName=self._table,
                Key={KEY: {"S": self._part_id(key, etag, part)}},
                UpdateExpression="SET #status = :done, records = :r, accepted = :a, rejected = :j, rejectsKey = :k, "
                "#exp = if_not_exists(#exp, :exp)",
                ConditionExpression="attribute_not_exists(#status) OR #status <> :done",
                ExpressionAttributeNames={"#status": "status", "#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":done": {"S": "done"},
                    ":r": {"N": str(records)},
                    ":a": {"N": str(accepted)},
                    ":j": {"N": str(rejected)},
                    ":k": to_attribute(rejects_key),
                    ":exp": {"N": str(int(self._now()) + LEDGER_DAYS * 86400)},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        answer = table.update_item(
            TableName=self._table,
            Key={KEY: {"S": self.file_id(key, etag)}},
            UpdateExpression="ADD partsDone :one, records :r, accepted :a, rejected :j",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":r": {"N": str(records)},
                ":a": {"N": str(accepted)},
                ":j": {"N": str(rejected)},
            },
            ReturnValues="ALL_NEW",
        )
        values = {k: from_attribute(v) for k, v in answer["Attributes"].items()}
        return FileTotals(
            values["partsDone"], values["parts"], values["records"], values["accepted"], values["rejected"]
        )

    def part_summaries(self, key: str, etag: str, parts: int) -> list[dict[str, Any]]:
        summaries = []
        for part in range(parts):
            answer = aws_client("dynamodb").get_item(
                TableName=self._table, Key={KEY: {"S": self._part_id(key, etag, part)}}, ConsistentRead=True
            )
            values = {k: from_attribute(v) for k, v in answer.get("Item", {}).items()}
            summaries.append({"part": part, **{k: v for k, v in values.items() if k not in (KEY, TTL_ATTRIBUTE)}})
        return summaries

    def finish_file(self, key: str, etag: str, manifest_key: str) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.file_id(key, etag)}},
            UpdateExpression="SET #status = :done, manifestKey = :m, finishedAt = :t",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":done": {"S": "done"},
                ":m": {"S": manifest_key},
                ":t": {"N": str(int(self._now()))},
            },
        )

    def abandon_file(self, key: str, etag: str, reason: str) -> None:
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.file_id(key, etag)}},
            UpdateExpression="SET #status = :abandoned, reason = :reason, finishedAt = :t",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":abandoned": {"S": "abandoned"},
                ":reason": {"S": reason},
                ":t": {"N": str(int(self._now()))},
            },
        )

    def _part_id(self, key: str, etag: str, part: int) -> str:
        return f"{self.file_id(key, etag)}#part#{part}"
