"""What the import pipeline needs from the outside, as protocols: the object store holding the dropped files, the
ledger that makes every step safe to repeat, and the queue of parts. The adapters (`aws/objects.py`,
`aws/import_ledger.py`, `aws/queue.py`) implement them; tests give in-memory ones.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, Protocol

from listrak_kit.core.import_files import (
    ABANDONED,
    FAILED,
    FINAL_STATES,
    IMPORTED,
    IMPORTED_WITH_REJECTS,
    IMPORTING,
    FileTotals,
    ObjectInfo,
    PartState,
    SourceGone,
)

__all__ = [
    "ABANDONED",
    "FAILED",
    "FINAL_STATES",
    "IMPORTED",
    "IMPORTED_WITH_REJECTS",
    "IMPORTING",
    "FileTotals",
    "ImportLedger",
    "ObjectInfo",
    "ObjectStore",
    "PartState",
    "SourceGone",
    "Tasks",
]


class ObjectStore(Protocol):
    def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        """The object's current version (or the one named), None when it is not there."""
        ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """The current version of every object under the prefix (size and ETag; no version id)."""
        ...

    def open(self, info: ObjectInfo, *, start: int = 0, end: int | None = None) -> io.RawIOBase:
        """The version's bytes [start, end); raises SourceGone when that version was deleted."""
        ...

    def put_file(self, key: str, path: str, content_type: str) -> None: ...

    def put_json(self, key: str, document: Any) -> None: ...


class ImportLedger(Protocol):
    def claim_file(
        self, key: str, version: str, *, owner: str, entity: str, parts: int, part_lines: list[int] | None = None
    ) -> bool:
        """True for the first trigger of this file version (or a retry by the same owner while importing)."""
        ...

    def take_key(self, key: str, version: str) -> str | None:
        """Makes this version the key's active one; returns the other version still importing, if one is."""
        ...

    def reopen_file(self, key: str, version: str, *, owner: str) -> dict[str, Any] | None:
        """A failed or abandoned file version back to `importing`; None when it was neither."""
        ...

    def file_status(self, key: str, version: str) -> dict[str, Any] | None: ...

    def part_state(self, key: str, version: str, part: int) -> PartState: ...

    def chunk_sent(self, key: str, version: str, part: int, chunk: int, info: dict[str, Any]) -> None:
        """Recorded right after Listrak took the chunk, so a retry of the part skips it."""
        ...

    def finish_part(
        self, key: str, version: str, part: int, *, records: int, accepted: int, rejected: int, rejects_key: str | None
    ) -> FileTotals | None:
        """Marks the part done once and adds its counts to the file; None when it was already done."""
        ...

    def part_summaries(self, key: str, version: str, parts: int) -> list[dict[str, Any]]: ...

    def close_file(
        self, key: str, version: str, state: str, *, manifest_key: str, reason: str | None = None
    ) -> None: ...


class Tasks(Protocol):
    def send(self, task: dict[str, Any]) -> None: ...
