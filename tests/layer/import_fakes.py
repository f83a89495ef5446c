"""The import pipeline's ports in memory (no moto, no network): the object store, the ledger, the queue, the
Data API. The ledger keeps the same conditions the DynamoDB one does (claim once, a part finished once)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from listrak_kit.imports.ports import (
    ABANDONED,
    FAILED,
    FINAL_STATES,
    IMPORTING,
    FileTotals,
    ObjectInfo,
    PartState,
    SourceGone,
)
from listrak_kit.listrak.errors import ListrakRejected


class MemoryObjects:
    """A versioned bucket: every put is a new version; `documents` holds what the pipeline wrote as JSON."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[str, bytes]]] = {}
        self.documents: dict[str, Any] = {}
        self.files: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> str:
        versions = self.versions.setdefault(key, [])
        version = f"v{len(versions) + 1}"
        versions.append((version, body))
        return version

    def delete(self, key: str) -> None:
        self.versions.pop(key, None)

    def _info(self, key: str, version: str, body: bytes) -> ObjectInfo:
        return ObjectInfo(key, hashlib.md5(body).hexdigest(), len(body), version)  # noqa: S324 (an ETag)

    def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        for version, body in reversed(self.versions.get(key, [])):
            if version_id in (None, version):
                return self._info(key, version, body)
        return None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        for key in sorted(self.versions):
            if key.startswith(prefix) and self.versions[key]:
                info = self.head(key)
                assert info is not None
                yield ObjectInfo(key, info.etag, info.size)

    def open(self, info: ObjectInfo, *, start: int = 0, end: int | None = None) -> io.RawIOBase:
        found = self.head(info.key, version_id=info.version_id)
        if found is None:
            raise SourceGone(f"{info.key} (version {info.version}) was deleted during its import")
        body = next(b for v, b in self.versions[info.key] if v == found.version_id)
        return io.BytesIO(body[start:end])  # type: ignore[return-value] (readable as a raw stream is)

    def put_file(self, key: str, path: str, content_type: str) -> None:
        self.files[key] = Path(path).read_bytes()

    def put_json(self, key: str, document: Any) -> None:
        self.documents[key] = json.loads(json.dumps(document))


class MemoryLedger:
    def __init__(self) -> None:
        self.files: dict[tuple[str, str], dict[str, Any]] = {}
        self.parts: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.active: dict[str, str] = {}

    def claim_file(
        self, key: str, version: str, *, owner: str, entity: str, parts: int, part_lines: list[int] | None = None
    ) -> bool:
        found = self.files.get((key, version))
        if found is not None and not (found["owner"] == owner and found["status"] == IMPORTING):
            return False
        self.files[(key, version)] = {
            "key": key,
            "version": version,
            "entity": entity,
            "owner": owner,
            "status": IMPORTING,
            "parts": parts,
            "partLines": part_lines or [1],
            "partsDone": 0,
            "records": 0,
            "accepted": 0,
            "rejected": 0,
            "startedAt": 1_700_000_000,
        }
        return True

    def take_key(self, key: str, version: str) -> str | None:
        holder = self.active.get(key)
        if holder not in (None, version):
            status = self.files.get((key, holder))
            if status is None or status["status"] == IMPORTING:
                return holder
        self.active[key] = version
        return None

    def reopen_file(self, key: str, version: str, *, owner: str) -> dict[str, Any] | None:
        found = self.files.get((key, version))
        if found is None or found["status"] not in (FAILED, ABANDONED):
            return None
        found.update(status=IMPORTING, owner=owner)
        found.pop("reason", None)
        found.pop("finishedAt", None)
        return copy.deepcopy(found)

    def file_status(self, key: str, version: str) -> dict[str, Any] | None:
        found = self.files.get((key, version))
        return copy.deepcopy(found) if found else None

    def part_state(self, key: str, version: str, part: int) -> PartState:
        found = self.parts.get((key, version, part), {})
        return PartState(done=found.get("status") == "done", chunks=copy.deepcopy(found.get("chunks") or {}))

    def chunk_sent(self, key: str, version: str, part: int, chunk: int, info: dict[str, Any]) -> None:
        self.parts.setdefault((key, version, part), {}).setdefault("chunks", {})[chunk] = copy.deepcopy(info)

    def finish_part(
        self, key: str, version: str, part: int, *, records: int, accepted: int, rejected: int, rejects_key: str | None
    ) -> FileTotals | None:
        item = self.parts.setdefault((key, version, part), {})
        if item.get("status") == "done":
            return None
        item.update(status="done", records=records, accepted=accepted, rejected=rejected, rejectsKey=rejects_key)
        file = self.files[(key, version)]
        file["partsDone"] += 1
        file["records"] += records
        file["accepted"] += accepted
        file["rejected"] += rejected
        return FileTotals(file["partsDone"], file["parts"], file["records"], file["accepted"], file["rejected"])

    def part_summaries(self, key: str, version: str, parts: int) -> list[dict[str, Any]]:
        return [{"part": n, **copy.deepcopy(self.parts.get((key, version, n), {}))} for n in range(parts)]

    def close_file(self, key: str, version: str, state: str, *, manifest_key: str, reason: str | None = None) -> None:
        assert state in FINAL_STATES
        file = self.files[(key, version)]
        file.update(status=state, manifestKey=manifest_key, finishedAt=1_700_000_100)
        if reason is not None:
            file["reason"] = reason


class MemoryTasks(list[dict[str, Any]]):
    def send(self, task: dict[str, Any]) -> None:
        self.append(task)


class MemoryData:
    """The Data API: each call's route and records; a call holding a `refused` key is a 400 naming no record."""

    def __init__(self, refused: set[str] | None = None, key_field: str = "sku") -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.refused, self.key_field = refused or set(), key_field

    def import_records(self, route: str, body: bytes, *, budget_seconds: float | None = None) -> str | None:
        records = json.loads(body)
        self.calls.append((route, records))
        if any(r.get(self.key_field) in self.refused for r in records):
            raise ListrakRejected("Listrak answered 400", status=400, code="ERROR_INVALID_PARAMETER")
        return f"import-{len(self.calls)}"

    def accepted(self) -> list[str]:
        """The keys of the records in the calls Listrak accepted, in order."""
        return [
            r[self.key_field]
            for _, records in self.calls
            if not any(r.get(self.key_field) in self.refused for r in records)
            for r in records
        ]


def pipeline(objects: MemoryObjects, ledger: MemoryLedger, tasks: MemoryTasks, data: MemoryData, **options: Any) -> Any:
    from listrak_kit.imports.chunks import ChunkLimits
    from listrak_kit.imports.pipeline import ImportPipeline

    options.setdefault("limits", ChunkLimits(max_records=2))
    return ImportPipeline(objects=objects, data_api=data, ledger=ledger, tasks=tasks, **options)


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()
