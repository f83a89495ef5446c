"""Erasing one person from the product's own stores, a page at a time, each page's end returned as a cursor that
the caller records: an erasure cut off anywhere resumes from its last recorded page and redoes at most that page
(every step is idempotent: an item or object already without the person is left as it is).

- The table: every item but the privacy feature's own is scanned. A send record that names the person keeps what
  exactly-once needs (reference, status, attempts, resendKey, payloadHash) and loses the payload, the masked
  address and the fingerprint; an unsettled one is settled `failed` ("forgotten") so that nothing sends it again.
  Any other item has the person's identifiers replaced where they appear.
- The bucket: every version of every object. The current version of an object that names the person is
  rewritten without the lines that name them (a JSON document: with the identifiers replaced), then every
  version that names them is deleted; exports made for them are deleted whole.
- Dead-letter queues: a parked message that names the person is parked again redacted, and the original deleted.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.table import KEY, TTL_ATTRIBUTE, from_attribute, to_attribute
from listrak_kit.core.forgotten import FORGOTTEN_REASON, REDACTED, Person
from listrak_kit.masking import email_fingerprint

OWN_PREFIX = "privacy#"
EXPORTS_PREFIX = "privacy/exports/"
_UNSETTLED = ("sending", "pending")
# `recipient` (list/message/fingerprint) keys the index of sends by recipient: an unkeyed hash, so it goes too.
_SEND_DROPS = ("payload", "reconcileAt", "reconcileQueue", "emailFingerprint", "recipient")
_READ = 1024 * 1024


# -- the table --------------------------------------------------------------------------------------------------


def forgotten_send(item: dict[str, Any]) -> dict[str, Any]:
    """A send record with the person gone: what exactly-once needs stays, the rest is dropped or replaced."""
    kept = {k: v for k, v in item.items() if k not in _SEND_DROPS}
    kept["emailMasked"] = REDACTED
    kept["emailFingerprint"] = ""
    kept["resends"] = [{**entry, "toMasked": REDACTED} for entry in kept.get("resends") or []]
    if kept.get("status") in _UNSETTLED:
        kept["status"] = "failed"
        kept["failure"] = FORGOTTEN_REASON
    kept["forgotten"] = True
    return kept


class TableEraser:
    def __init__(self, table_name: str, page_size: int = 200):
        self._table = table_name
        self._page_size = page_size

    def _page(self, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        params: dict[str, Any] = {"TableName": self._table, "Limit": self._page_size, "ConsistentRead": True}
        if cursor:
            params["ExclusiveStartKey"] = cursor
        answer = aws_client("dynamodb").scan(**params)
        return answer.get("Items", []), answer.get("LastEvaluatedKey")

    @staticmethod
    def _names(person: Person, item_id: str, values: dict[str, Any]) -> bool:
        fingerprint = email_fingerprint(person.email) if person.email else None
        if item_id.startswith("send#") and values.get("emailFingerprint") == fingerprint:
            return True
        return person.in_value(values)

    def erase_page(self, person: Person, cursor: dict[str, Any] | None) -> tuple[dict[str, Any] | None, int]:
        """Erases the person from one page of items; returns the next page's cursor (None: done) and the count."""
        items, next_cursor = self._page(cursor)
        erased = 0
        for raw in items:
            item_id = raw[KEY]["S"]
            if item_id.startswith(OWN_PREFIX):
                continue
            values = {k: from_attribute(v) for k, v in raw.items() if k != KEY}
            if not self._names(person, item_id, values):
                continue
            changed = forgotten_send(values) if item_id.startswith("send#") else values
            changed = person.redact_value(changed)
            self._replace(item_id, raw, changed)
            erased += 1
        return next_cursor, erased

    def find(self, person: Person) -> list[dict[str, Any]]:
        """Every item (but the privacy feature's own) that names the person, as stored."""
        found, cursor = [], None
        while True:
            items, cursor = self._page(cursor)
            for raw in items:
                item_id = raw[KEY]["S"]
                if item_id.startswith(OWN_PREFIX):
                    continue
                values = {k: from_attribute(v) for k, v in raw.items() if k != KEY}
                if self._names(person, item_id, values):
                    found.append({"id": item_id, **values})
            if not cursor:
                return found

    def _replace(self, item_id: str, raw: dict[str, Any], values: dict[str, Any]) -> None:
        # Only if nobody changed the item since it was read (a send settling meanwhile is re-read on resumption).
        condition, names, expected = "attribute_exists(#id)", {"#id": KEY}, {}
        for name in ("status", "attemptToken"):
            if name in raw:
                condition += f" AND #{name} = :{name}"
                names[f"#{name}"] = name
                expected[f":{name}"] = raw[name]
        item = {KEY: {"S": item_id}, **{k: to_attribute(v) for k, v in values.items()}}
        if TTL_ATTRIBUTE in raw:
            item[TTL_ATTRIBUTE] = raw[TTL_ATTRIBUTE]
        params: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        params["ExpressionAttributeNames"] = names
        if expected:
            params["ExpressionAttributeValues"] = expected
        aws_client("dynamodb").put_item(**params)


# -- the bucket -------------------------------------------------------------------------------------------------


class ObjectEraser:
    def __init__(self, bucket: str, page_size: int = 200):
        self.bucket = bucket
        self._page_size = page_size

    def _page(self, cursor: dict[str, str] | None) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        params: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": self._page_size}
        if cursor:
            params.update(cursor)
        answer = aws_client("s3").list_object_versions(**params)
        versions = [
            {"Key": v["Key"], "VersionId": v.get("VersionId") or "null", "IsLatest": bool(v.get("IsLatest"))}
            for v in answer.get("Versions", [])
        ]
        if not answer.get("IsTruncated"):
            return versions, None
        following = {"KeyMarker": answer["NextKeyMarker"]}
        if answer.get("NextVersionIdMarker"):
            following["VersionIdMarker"] = answer["NextVersionIdMarker"]
        return versions, following

    def erase_page(self, person: Person, cursor: dict[str, str] | None) -> tuple[dict[str, str] | None, int]:
        versions, next_cursor = self._page(cursor)
        erased = 0
        for version in versions:
            key, version_id = version["Key"], version["VersionId"]
            with self._download(key, version_id) as local:
                if local is None or not _file_names(local.name, person, key.endswith(".gz")):
                    continue
                if version["IsLatest"] and not key.startswith(EXPORTS_PREFIX):
                    self._rewrite(key, local.name, person)
            self._delete(key, version_id)
            erased += 1
        return next_cursor, erased

    def find(self, person: Person, max_lines: int = 1000) -> list[dict[str, Any]]:
        """The lines of the current objects that name the person (outside the exports), for an export."""
        found: list[dict[str, Any]] = []
        paginator = aws_client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                if key.startswith(EXPORTS_PREFIX):
                    continue
                with self._download(key, None) as local:
                    if local is None:
                        continue
                    with _text(local.name, key.endswith(".gz")) as text:
                        for number, line in enumerate(text, 1):
                            if person.in_text(line) and len(found) < max_lines:
                                found.append({"key": key, "line": number, "text": line.rstrip("\n")})
        return found

    def _download(self, key: str, version_id: str | None) -> Any:
        return _Download(self.bucket, key, version_id)

    def _rewrite(self, key: str, path: str, person: Person) -> None:
        gzipped = key.endswith(".gz")
        with tempfile.NamedTemporaryFile("wb", delete=False) as out:
            target = out.name
        try:
            with _text(path, gzipped) as text:
                content = text.read() if key.endswith(".json") else None
            opener: Callable[..., Any] = gzip.open if gzipped else open
            with opener(target, "wt", encoding="utf-8", newline="") as writer:
                if content is not None and _is_document(content):
                    writer.write(json.dumps(person.redact_value(json.loads(content)), indent=2))
                else:
                    with _text(path, gzipped) as text:
                        for line in text:
                            if not person.in_text(line):
                                writer.write(line)
            aws_client("s3").upload_file(target, self.bucket, key)
        finally:
            os.unlink(target)

    def _delete(self, key: str, version_id: str) -> None:
        params = {"Bucket": self.bucket, "Key": key}
        if version_id != "null":
            params["VersionId"] = version_id
        aws_client("s3").delete_object(**params)


class _Download:
    """A version's bytes in a temporary file (streamed: memory stays flat), removed on exit; None if it is gone."""

    def __init__(self, bucket: str, key: str, version_id: str | None):
        self._params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id and version_id != "null":
            self._params["VersionId"] = version_id
        self._file: Any = None

    def __enter__(self) -> Any:
        try:
            body = aws_client("s3").get_object(**self._params)["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "404"):
                return None
            raise
        self._file = tempfile.NamedTemporaryFile("wb", delete=False)  # noqa: SIM115 - removed in __exit__
        try:
            with self._file:
                shutil.copyfileobj(body, self._file, _READ)
        finally:
            body.close()
        return self._file

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            os.unlink(self._file.name)


def _text(path: str, gzipped: bool) -> Any:
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _file_names(path: str, person: Person, gzipped: bool) -> bool:
    with _text(path, gzipped) as text:
        return any(person.in_text(line) for line in text)


def _is_document(content: str) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


# -- dead-letter queues -----------------------------------------------------------------------------------------


class QueueRedactor:
    # Messages taken stay hidden this long, so one pass sees each message once.
    HIDE_SECONDS = 300

    def __init__(self, queue_urls: list[str]):
        self._urls = queue_urls

    def redact(self, person: Person) -> int:
        sqs = aws_client("sqs")
        redacted = 0
        for url in self._urls:
            held: list[str] = []
            empty = 0
            while empty < 2:  # short polling samples the queue's servers: two empty answers end the pass
                messages = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=self.HIDE_SECONDS,
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not messages:
                    empty += 1
                    continue
                for message in messages:
                    if not person.in_text(message["Body"]):
                        held.append(message["ReceiptHandle"])
                        continue
                    attributes = message.get("MessageAttributes")
                    extra = {"MessageAttributes": attributes} if attributes else {}
                    sqs.send_message(QueueUrl=url, MessageBody=person.redact(message["Body"]), **extra)
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    redacted += 1
            for handle in held:  # the others are visible again at once, for a redrive or the operator
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return redacted
