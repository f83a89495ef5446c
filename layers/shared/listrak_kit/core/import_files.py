"""What an import file's version is, and what the ledger knows of it: shared by the import feature (which
defines the ports in `imports/ports.py`) and its adapters in `aws/`, which sit below it.

A file version's state is `importing`, then `imported`, `imported with rejects`, `failed` or `abandoned`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IMPORTING, IMPORTED, IMPORTED_WITH_REJECTS, FAILED, ABANDONED = (
    "importing",
    "imported",
    "imported with rejects",
    "failed",
    "abandoned",
)
FINAL_STATES = (IMPORTED, IMPORTED_WITH_REJECTS, FAILED, ABANDONED)


class SourceGone(Exception):
    """The object version being imported was deleted mid-import."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int
    version_id: str | None = None  # None in a bucket that never had versioning

    @property
    def version(self) -> str:
        """What pins this file: its VersionId, or its ETag where the bucket is not versioned."""
        return self.version_id or self.etag


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
