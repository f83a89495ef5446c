"""Small direct loads (POST /imports): validate every record, send the valid ones in chunks, report the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from listrak_kit.imports.pipeline import Chunk, ChunkLimits, DataImports, serialize
from listrak_kit.imports.records import ENTITIES, complete, validate_record


@dataclass
class DirectOutcome:
    entity: str
    received: int
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    chunks: int = 0


class DirectImporter:
    def __init__(self, *, data_api: DataImports, limits: ChunkLimits):
        self._data = data_api
        self.limits = limits

    def import_records(self, entity: str, records: list[Any]) -> DirectOutcome:
        spec = ENTITIES[entity]
        outcome = DirectOutcome(entity=entity, received=len(records))
        chunk = Chunk(index=0)
        for index, raw in enumerate(records):
            if not isinstance(raw, dict):
                outcome.rejected.append({"index": index, "field": "(record)", "reason": "must be an object"})
                continue
            record, problems = validate_record(entity, complete(entity, raw))
            if record is None:
                key = raw.get(spec.key_field)
                outcome.rejected.extend(
                    {"index": index, spec.key_field: key if isinstance(key, str) else None, "field": f, "reason": r}
                    for f, r in problems
                )
                continue
            serialized = serialize(record)
            full = len(chunk.body) >= self.limits.max_records
            if chunk.body and (full or chunk.size + len(serialized.encode("utf-8")) + 1 > self.limits.max_bytes):
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
