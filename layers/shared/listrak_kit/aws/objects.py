"""S3: the drop bucket's objects, read as streams (memory stays flat whatever the size) and results written back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from listrak_kit.aws.clients import aws_client


class SourceGone(Exception):
    """The object being imported was deleted or overwritten mid-import."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int


class S3Objects:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def head(self, key: str) -> ObjectInfo | None:
        s3 = aws_client("s3")
        try:
            answer = s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(key, answer["ETag"].strip('"'), int(answer["ContentLength"]))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        pages = aws_client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"], item["ETag"].strip('"'), int(item["Size"]))

    def open(self, key: str, *, etag: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """A stream of the object's bytes [start, end), pinned to the ETag so a replaced object is not mixed in."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "IfMatch": f'"{etag}"'}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        s3 = aws_client("s3")
        try:
            return s3.get_object(**params)["Body"]
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "PreconditionFailed", "404", "412"):
                raise SourceGone(
                    f"s3://{self.bucket}/{key} (ETag {etag}) was deleted or replaced during its import; the chunks "
                    "sent so far are recorded, and a new upload is imported as a new version"
                ) from exc
            raise

    def put_file(self, key: str, path: str, content_type: str) -> None:
        aws_client("s3").upload_file(path, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def put_json(self, key: str, document: Any) -> None:
        aws_client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(document, indent=2).encode("utf-8"),
            ContentType="application/json",
        )
