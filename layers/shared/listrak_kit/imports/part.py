"""One part of a file version, as it travels on the queue, and what working it came to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from listrak_kit.imports.ports import ObjectInfo


class PartTask(BaseModel):
    key: str
    etag: str
    versionId: str | None = None  # None only in a bucket without versioning (the ETag pins the file then)
    entity: str
    format: Literal["jsonl", "csv"]
    gzipped: bool
    part: int = 0
    parts: int = 1
    start: int = 0
    end: int | None = None
    firstLine: int = 1
    itemsKey: str | None = None
    itemsVersionId: str | None = None
    chunksDone: int = 0  # chunks in the ledger when this message was sent: more now means the part progressed

    @property
    def version(self) -> str:
        return self.versionId or self.etag

    def source(self) -> ObjectInfo:
        return ObjectInfo(self.key, self.etag, 0, self.versionId)


@dataclass
class PartOutcome:
    status: Literal["done", "continues", "already-done", "abandoned", "failed"]
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    chunks_sent: int = 0
    chunks_skipped: int = 0
    file_done: bool = False
    manifest_key: str | None = None
