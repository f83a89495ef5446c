"""The import ledger in DynamoDB: a file is imported once per object version, and a chunk that reached Listrak is
never resent.

Items (all in the project's table):
- `import#<key>#<version>`: the file version, claimed once (conditional put), with its state and totals;
- `import#<key>#<version>#part#<n>`: one part, with a map of the chunks Listrak accepted (`chunks.<index>`);
- `import#<key>#@active`: the version of the key being imported, so a newer version waits for it to finish.

A file version's state is `importing`, then `imported`, `imported with rejects`, `failed` or `abandoned`
(core/import_files.py); this is the ledger port of imports/ports.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.core.import_files import ABANDONED, FAILED, FINAL_STATES, IMPORTING, FileTotals, PartState

LEDGER_DAYS = 400  # long enough that a file re-dropped months later is recognised as already imported
# A version that took the key but has no file record yet is still planning (the claim comes after the parts are
# cut) for at most one invocation; after Lambda's longest, it will never claim, and a newer version takes over.
TAKE_GRACE_SECONDS = 900
TAKE_ROUNDS = 5  # reads and conditional writes a taker tries while other versions keep taking the key


class DynamoImportLedger:
    def __init__(self, table_name: str, now: Callable[[], float] = time.time) -> None:
        self._table = table_name
        self._now = now

    @staticmethod
    def file_id(key: str, version: str) -> str:
        return f"import#{key}#{version}"

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

    def claim_file(
        self, key: str, version: str, *, owner: str, entity: str, parts: int, part_lines: list[int] | None = None
    ) -> bool:
        """True for the first trigger of this file version (or a retry of that same invocation)."""
        now = int(self._now())
        return self._put(
            {
                KEY: self.file_id(key, version),
                "kind": "import-file",
                "key": key,
                "version": version,
                "entity": entity,
                "owner": owner,
                "status": IMPORTING,
                "parts": parts,
                "partLines": part_lines or [1],  # each part's first line, for the lines a failed file is missing
                "partsDone": 0,
                "records": 0,
                "accepted": 0,
                "rejected": 0,
                "startedAt": now,
                TTL_ATTRIBUTE: now + LEDGER_DAYS * 86400,
            },
            "attribute_not_exists(#id) OR (#owner = :owner AND #status = :importing)",
            {"#id": KEY, "#owner": "owner", "#status": "status"},
            {":owner": owner, ":importing": IMPORTING},
        )

    def take_key(self, key: str, version: str) -> str | None:
        """Makes this version the key's active one; returns the other version still importing, if one is.

        The takeover is one conditional write on what was read (nothing, or the version found): of two versions
        taking the key at once, one wins and the other reads the winner and waits for it."""
        active_id = f"import#{key}#@active"
        for _ in range(TAKE_ROUNDS):
            answer = aws_client("dynamodb").get_item(
                TableName=self._table, Key={KEY: {"S": active_id}}, ConsistentRead=True
            )
            item = {k: from_attribute(v) for k, v in answer.get("Item", {}).items()}
            holder = str(item["version"]) if item else None
            if holder not in (None, version) and self._still_importing(key, str(holder), item.get("takenAt")):
                return holder
            now = int(self._now())
            taken = self._put(
                {KEY: active_id, "version": version, "takenAt": now, TTL_ATTRIBUTE: now + LEDGER_DAYS * 86400},
                "attribute_not_exists(#id)" if holder is None else "#version = :holder",
                {"#id": KEY} if holder is None else {"#version": "version"},
                {} if holder is None else {":holder": holder},
            )
            if taken:
                return None
        # Other versions took the key between each read and write: the trigger fails, and is retried.
        raise RuntimeError(f"versions of {key} kept taking its import key; planning {version} is retried")

    def _still_importing(self, key: str, version: str, taken_at: Any) -> bool:
        status = self.file_status(key, version)
        if status is not None:
            return status.get("status") == IMPORTING
        return taken_at is not None and self._now() - int(taken_at) < TAKE_GRACE_SECONDS

    def reopen_file(self, key: str, version: str, *, owner: str) -> dict[str, Any] | None:
        """A failed or abandoned file version back to `importing`, for a resume; None when it was not failed."""
        try:
            answer = aws_client("dynamodb").update_item(
                TableName=self._table,
                Key={KEY: {"S": self.file_id(key, version)}},
                UpdateExpression="SET #status = :importing, #owner = :owner REMOVE reason, finishedAt",
                ConditionExpression="#status IN (:failed, :abandoned)",
                ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":importing": {"S": IMPORTING},
                    ":owner": {"S": owner},
                    ":failed": {"S": FAILED},
                    ":abandoned": {"S": ABANDONED},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return {k: from_attribute(v) for k, v in answer["Attributes"].items()}

    def file_status(self, key: str, version: str) -> dict[str, Any] | None:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self.file_id(key, version)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return {k: from_attribute(v) for k, v in item.items()} if item else None

    def part_state(self, key: str, version: str, part: int) -> PartState:
        answer = aws_client("dynamodb").get_item(
            TableName=self._table, Key={KEY: {"S": self._part_id(key, version, part)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return PartState()
        values = {k: from_attribute(v) for k, v in item.items()}
        return PartState(
            done=values.get("status") == "done",
            chunks={int(k): v for k, v in (values.get("chunks") or {}).items()},
        )

    def chunk_sent(self, key: str, version: str, part: int, chunk: int, info: dict[str, Any]) -> None:
        """Recorded right after Listrak's 201, so a retry of the part skips this chunk."""
        part_id = self._part_id(key, version, part)
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
        self, key: str, version: str, part: int, *, records: int, accepted: int, rejected: int, rejects_key: str | None
    ) -> FileTotals | None:
        """Marks the part done once and adds its counts to the file; None when it was already done (a redelivery)."""
        table = aws_client("dynamodb")
        try:
            table.update_item(
                TableName=self._table,
                Key={KEY: {"S": self._part_id(key, version, part)}},
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
            Key={KEY: {"S": self.file_id(key, version)}},
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

    def part_summaries(self, key: str, version: str, parts: int) -> list[dict[str, Any]]:
        summaries = []
        for part in range(parts):
            answer = aws_client("dynamodb").get_item(
                TableName=self._table, Key={KEY: {"S": self._part_id(key, version, part)}}, ConsistentRead=True
            )
            values = {k: from_attribute(v) for k, v in answer.get("Item", {}).items()}
            summaries.append({"part": part, **{k: v for k, v in values.items() if k not in (KEY, TTL_ATTRIBUTE)}})
        return summaries

    def close_file(self, key: str, version: str, state: str, *, manifest_key: str, reason: str | None = None) -> None:
        """The file version's final state (a failed one may be reopened by a resume)."""
        assert state in FINAL_STATES
        values = {":s": {"S": state}, ":m": {"S": manifest_key}, ":t": {"N": str(int(self._now()))}}
        expression = "SET #status = :s, manifestKey = :m, finishedAt = :t"
        if reason is not None:
            expression += ", reason = :reason"
            values[":reason"] = {"S": reason[:2000]}
        aws_client("dynamodb").update_item(
            TableName=self._table,
            Key={KEY: {"S": self.file_id(key, version)}},
            UpdateExpression=expression,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def _part_id(self, key: str, version: str, part: int) -> str:
        return f"{self.file_id(key, version)}#part#{part}"
