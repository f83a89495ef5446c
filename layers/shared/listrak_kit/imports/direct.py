"""Small direct loads (POST /imports): validate every record, send the valid ones in chunks, report the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from listrak_kit.core.forgotten import FORGOTTEN_REASON, ForgottenCheck
from listrak_kit.imports.chunks import Chunk, ChunkLimits, DataImports
from listrak_kit.imports.fast import record_bytes
from listrak_kit.imports.records import ENTITIES

MAX_LISTED_PROBLEMS = 500  # the answer must stay far below Lambda's 6 MB response limit
MAX_KEY_CHARS = 100


@dataclass
class DirectOutcome:
    entity: str
    received: int
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejectedRecords: int = 0
    problemsNotListed: int = 0
    chunks: int = 0

    def reject(self, index: int, key_field: str | None, key: Any, problems: list[tuple[str, str]]) -> None:
        self.rejectedRecords += 1
        for field_name, reason in problems:
            if len(self.rejected) >= MAX_LISTED_PROBLEMS:
                self.problemsNotListed += 1
                continue
            entry: dict[str, Any] = {"index": index, "field": field_name[:MAX_KEY_CHARS], "reason": reason}
            if key_field:
                entry[key_field] = key[:MAX_KEY_CHARS] if isinstance(key, str) else None
            self.rejected.append(entry)


class DirectImporter:
    # Privacy: the composition root sets it; a record that names a forgotten person is a reject ("forgotten").
    forgotten: ForgottenCheck | None = None

    def __init__(self, *, data_api: DataImports, limits: ChunkLimits):
        self._data = data_api
        self.limits = limits

    def import_records(self, entity: str, records: list[Any]) -> DirectOutcome:
        spec = ENTITIES[entity]
        outcome = DirectOutcome(entity=entity, received=len(records))
        chunk = Chunk(index=0)
        for index, raw in enumerate(records):
            if not isinstance(raw, dict):
                outcome.reject(index, None, None, [("(record)", "must be an object")])
                continue
            serialized, problems = record_bytes(entity, raw)
            if self.forgotten is not None and self.forgotten.holds(raw):  # privacy: see core/forgotten.py
                serialized, problems = None, [(spec.key_field, FORGOTTEN_REASON)]
            bound = self.limits.record_max_chars
            if serialized is not None and len(serialized) > bound and len(serialized.decode("utf-8")) > bound:
                serialized, problems = None, [("(record)", f"over {bound} characters (IMPORT_RECORD_MAX_CHARS)")]
            if serialized is None:
                outcome.reject(index, spec.key_field, raw.get(spec.key_field), problems)
                continue
            full = len(chunk.body) >= self.limits.max_records
            if chunk.body and (full or chunk.size + len(serialized) + 1 > self.limits.max_bytes):
                self._send(spec.route, chunk, outcome)
                chunk = Chunk(index=chunk.index + 1)
            chunk.add(serialized)
            outcome.accepted += 1
        if chunk.body:
            self._send(spec.route, chunk, outcome)
        return outcome

    def _send(self, route: str, chunk: Chunk, outcome: DirectOutcome) -> None:
        self._data.import_records(route, chunk.payload())
        outcome.chunks += 1
