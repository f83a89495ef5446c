"""Chunks of serialized records, as the Data Import API takes them; shared by file imports and direct loads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class ImportFailed(Exception):
    """A refusal that repeating the part cannot change: the file version ends as failed, with this reason."""


@dataclass(frozen=True)
class ChunkLimits:
    max_records: int = 1000
    max_bytes: int = 5_000_000
    record_max_chars: int = 1_000_000  # one record as read from a file, before it is parsed (IMPORT_RECORD_MAX_CHARS)


class DataImports(Protocol):
    def import_records(self, route: str, body: bytes, *, budget_seconds: float | None = None) -> str | None: ...


@dataclass
class Chunk:
    index: int
    body: list[bytes] = field(default_factory=list)  # each record as UTF-8 JSON
    size: int = 2  # the array's brackets
    lines: list[int] = field(default_factory=list)  # each record's line in the file (0 for a direct load)

    def add(self, serialized: bytes, line: int = 0) -> None:
        self.size += len(serialized) + (1 if self.body else 0)
        self.body.append(serialized)
        self.lines.append(line)

    def payload(self) -> bytes:
        return b"[" + b",".join(self.body) + b"]"


def serialize_checked(record: Any) -> tuple[bytes | None, tuple[str, str]]:
    """The record as compact UTF-8 JSON, or why it cannot be sent (text that is not valid Unicode)."""
    try:
        return json.dumps(record.to_listrak(), separators=(",", ":"), ensure_ascii=False).encode("utf-8"), ("", "")
    except UnicodeEncodeError:
        return None, ("(record)", "holds text that is not valid Unicode (a lone surrogate)")
