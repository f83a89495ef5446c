"""Where an entity's records go: the Data Import API for Listrak's record types, the Email API's list for contacts.

The pipeline reads, checks, chunks and records every entity the same way; a sink says how one entity's records
are checked and sent, and what the ledger keeps of a sent chunk (`pending` while Listrak is still taking it,
`refused` for the records it refused).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from listrak_kit.imports.chunks import Chunk, ChunkLimits, DataImports, ImportFailed
from listrak_kit.imports.fast import record_bytes
from listrak_kit.imports.records import EntitySpec
from listrak_kit.listrak.errors import ListrakRejected

if TYPE_CHECKING:  # built by services.py only when a contacts list is configured
    from listrak_kit.imports.contacts import ContactSync

BISECT_MAX_CALLS = 64  # extra calls one refused chunk may take to find the records Listrak refuses
Problems = list[tuple[str, str]]


class Sink(Protocol):
    @property
    def key_field(self) -> str:
        """The natural key that names a record in reject reports."""
        ...

    @property
    def array_fields(self) -> tuple[str, ...]:
        """CSV cells that hold a JSON array."""
        ...

    @property
    def nested_columns(self) -> bool:
        """Whether a dotted CSV column ("billingAddress.city") is a field of a nested object."""
        ...

    @property
    def limits(self) -> ChunkLimits: ...

    def check(self, data: dict[str, Any], line: int) -> tuple[bytes | None, Problems]:
        """The record as it goes into a chunk, or None and every problem with it."""
        ...

    def send(
        self,
        chunk: Chunk,
        *,
        file_name: str,
        lines: dict[str, Any],
        earlier: dict[str, Any] | None,
        time_left: Callable[[], float] | None,
        budget: float | None,
    ) -> dict[str, Any]:
        """Sends one chunk; returns what the ledger records of it (with `lines`, where the chunk is in the file).

        `earlier` is what an earlier run recorded of a chunk still pending; `budget` the seconds its retries may
        take."""
        ...


@dataclass
class DataApiSink:
    """One Data Import record type: records as their model checks them, chunks as JSON arrays."""

    spec: EntitySpec
    api: DataImports
    limits: ChunkLimits
    nested_columns: bool = True

    @property
    def key_field(self) -> str:
        return self.spec.key_field

    @property
    def array_fields(self) -> tuple[str, ...]:
        return self.spec.array_fields

    def check(self, data: dict[str, Any], line: int) -> tuple[bytes | None, Problems]:
        return record_bytes(self.spec.name, data)

    def send(
        self,
        chunk: Chunk,
        *,
        file_name: str,
        lines: dict[str, Any],
        earlier: dict[str, Any] | None,
        time_left: Callable[[], float] | None,
        budget: float | None,
    ) -> dict[str, Any]:
        resource_id, refused = self._send_records(chunk, budget)
        info = {"records": len(chunk.body), "bytes": chunk.size, "resourceId": resource_id, **lines}
        if refused:
            info["refused"] = refused
        return info

    def _send_records(self, chunk: Chunk, budget: float | None) -> tuple[str | None, list[dict[str, Any]]]:
        """One chunk to the Data API. A 400 that names no record splits it in halves until the records Listrak
        refuses are found (at most BISECT_MAX_CALLS extra calls); those become rejects, with Listrak's answer."""
        route, key_field = self.spec.route, self.spec.key_field
        refused: list[dict[str, Any]] = []
        calls = 0
        resource_id = None

        def send(items: list[tuple[int, bytes]]) -> None:
            nonlocal calls, resource_id
            body = b"[" + b",".join(text for _, text in items) + b"]"
            try:
                resource_id = self.api.import_records(route, body, budget_seconds=budget) or resource_id
            except ListrakRejected as exc:
                if exc.status != 400:
                    raise ImportFailed(str(exc)) from exc
                if len(items) == 1:
                    line, text = items[0]
                    key = json.loads(text).get(key_field)
                    said = (exc.code or f"HTTP_{exc.status}") + (f": {exc.detail}" if exc.detail else "")
                    refused.append({"line": line, key_field: key, "reason": f"Listrak refused it: {said}"})
                    return
                calls += 2
                if calls > BISECT_MAX_CALLS:
                    raise ImportFailed(
                        f"Listrak refused a {route} chunk ({exc}) and {BISECT_MAX_CALLS} calls did not isolate the "
                        "records it refuses"
                    ) from exc
                middle = len(items) // 2
                send(items[:middle])
                send(items[middle:])

        send(list(zip(chunk.lines, chunk.body, strict=True)))
        return resource_id, refused


@dataclass
class ContactsSink:
    """Contacts into one Listrak list: rows checked against the list's profile fields, sent by ContactSync."""

    contacts: ContactSync
    # A ListImport is one file per chunk: far fewer, larger chunks than the Data API takes.
    limits: ChunkLimits
    key_field: str = "emailAddress"
    array_fields: tuple[str, ...] = ()
    nested_columns: bool = False  # columns are profile field names, which may hold dots ("Group.Field")

    def check(self, data: dict[str, Any], line: int) -> tuple[bytes | None, Problems]:
        row, problems = self.contacts.validate(data)
        if row is None:
            return None, problems
        return json.dumps({**row, "line": line}, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), []

    def send(
        self,
        chunk: Chunk,
        *,
        file_name: str,
        lines: dict[str, Any],
        earlier: dict[str, Any] | None,
        time_left: Callable[[], float] | None,
        budget: float | None,
    ) -> dict[str, Any]:
        rows = [json.loads(item) for item in chunk.body]
        info = self.contacts.send(rows, chunk=chunk.index, file_name=file_name, resume=earlier, time_left=time_left)
        return {**info, **lines}
