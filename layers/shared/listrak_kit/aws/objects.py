"""S3: the drop bucket's objects, read as streams (memory stays flat whatever the size) and results written back.

A file is pinned by its object version (`VersionId`; the bucket is versioned), so a file replaced mid-import is
still read as the version that was claimed. In a bucket without versioning the ETag pins it instead. A stream that
drops mid-read is resumed with a ranged GET from the byte it reached.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError
from urllib3.exceptions import ProtocolError

from listrak_kit.aws.clients import aws_client
from listrak_kit.core.import_files import ObjectInfo, SourceGone

__all__ = ["ObjectInfo", "ResumingStream", "S3Objects", "SourceGone"]

STREAM_ERRORS = (ResponseStreamingError, IncompleteReadError, ReadTimeoutError, BotocoreConnectionError, ProtocolError)
STREAM_RESUMES = 8  # ranged re-reads one stream may take before its part fails (and SQS delivers it again)


class ResumingStream(io.RawIOBase):
    """The bytes [start, end) of one object version; a dropped connection re-opens at the current offset."""

    def __init__(
        self, opener: Callable[[int], Any], start: int, end: int | None, resumes: int = STREAM_RESUMES
    ) -> None:
        self._body: Any = None
        self._open = opener
        self._offset = start
        self._end = end
        self._resumes_left = resumes
        self.resumed = 0
        self._body = opener(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._end is not None and self._offset >= self._end:
            return 0
        while True:
            try:
                data = self._body.read(len(buffer))
                break
            except STREAM_ERRORS:
                if self._resumes_left <= 0:
                    raise
                self._resumes_left -= 1
                self.resumed += 1
                self._body = self._open(self._offset)
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def close(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()
        super().close()


class S3Objects:
    """The object store (imports/ports.py) on S3."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        s3 = aws_client("s3")
        try:
            answer = s3.head_object(Bucket=self.bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "400"):
                return None
            raise
        return ObjectInfo(key, answer["ETag"].strip('"'), int(answer["ContentLength"]), _version(answer))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """The current version of every object under the prefix."""
        pages = aws_client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"], item["ETag"].strip('"'), int(item["Size"]))

    def open(self, info: ObjectInfo, *, start: int = 0, end: int | None = None) -> ResumingStream:
        """A stream of the version's bytes [start, end): what a replaced or re-uploaded object holds is not mixed in."""
        return ResumingStream(lambda offset: self._get(info, offset, end), start, end)

    def _get(self, info: ObjectInfo, start: int, end: int | None) -> BinaryIO:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": info.key}
        if info.version_id:
            params["VersionId"] = info.version_id
        else:
            params["IfMatch"] = f'"{info.etag}"'
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        s3 = aws_client("s3")
        try:
            return s3.get_object(**params)["Body"]
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "PreconditionFailed", "404", "412"):
                raise SourceGone(
                    f"s3://{self.bucket}/{info.key} (version {info.version}) was deleted during its import; the "
                    "chunks sent so far are recorded, and a new upload is imported as a new version"
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


def _version(answer: dict[str, Any]) -> str | None:
    version = answer.get("VersionId")
    return None if version in (None, "null") else str(version)
