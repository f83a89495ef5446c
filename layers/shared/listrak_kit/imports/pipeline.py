"""The import path: a dropped file is claimed once, planned into parts, and each part streamed, validated, chunked
and sent to Listrak's Data Import API, with the ledger making every step safe to repeat.

Triggers (the schedule, an S3 event) only plan: they claim the file version and queue its parts on SQS. The same
function then works the parts. A part that runs out of time queues itself again and resumes after the last chunk
Listrak accepted; a part that fails is retried by SQS the same way. Invalid records never reach Listrak: they go
to a rejects file, and the valid ones are still imported.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from listrak_kit.aws.import_ledger import DynamoImportLedger, PartState
from listrak_kit.aws.objects import ObjectInfo, S3Objects, SourceGone
from listrak_kit.imports.chunks import Chunk, ChunkLimits, DataImports, serialize_checked
from listrak_kit.imports.contacts import ContactSync
from listrak_kit.imports.records import ENTITIES, complete, validate_record
from listrak_kit.imports.sources import (
    ENTITY_PREFIXES,
    ITEMS_SUFFIXES,
    RESULTS_PREFIX,
    OrderItemsIndex,
    RawRecord,
    classify,
    csv_header,
    csv_records,
    items_key_for,
    jsonl_records,
    orders_key_for,
    text_stream,
)
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import logger

CONTINUE_MARGIN_SECONDS = 90.0  # seconds left in the invocation below which a part hands over to a fresh one


class PartTask(BaseModel):
    key: str
    etag: str
    entity: str
    format: Literal["jsonl", "csv"]
    gzipped: bool
    part: int = 0
    parts: int = 1
    start: int = 0
    end: int | None = None
    firstLine: int = 1
    itemsKey: str | None = None


class Tasks(Protocol):
    def send(self, task: dict[str, Any]) -> None: ...


@dataclass
class PartOutcome:
    status: Literal["done", "continues", "already-done", "abandoned"]
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    chunks_sent: int = 0
    chunks_skipped: int = 0
    file_done: bool = False
    manifest_key: str | None = None


class ImportPipeline:
    def __init__(
        self,
        *,
        objects: S3Objects,
        data_api: DataImports,
        ledger: DynamoImportLedger,
        tasks: Tasks,
        limits: ChunkLimits | None = None,
        part_bytes: int = 256 * 1024 * 1024,
        count: Callable[[str, int], None] | None = None,
        contacts: ContactSync | None = None,
        contacts_limits: ChunkLimits | None = None,
    ):
        self._objects = objects
        self._data = data_api
        self._ledger = ledger
        self._tasks = tasks
        self.limits = limits or ChunkLimits()
        self._part_bytes = part_bytes
        self._count = count or (lambda _name, _n: None)
        self._contacts = contacts
        # A ListImport is one file per chunk: far fewer, larger chunks than the Data API takes.
        self.contacts_limits = contacts_limits or ChunkLimits(max_records=50_000, max_bytes=20_000_000)

    # -- triggers ----------------------------------------------------------------------------------------

    def scan(self, *, owner: str) -> list[tuple[str, str]]:
        """The schedule: every import file in the bucket not yet imported (in this version) is planned."""
        outcomes = []
        for prefix in ENTITY_PREFIXES:
            for info in self._objects.list(prefix):
                if classify(info.key) is None or self._ledger.file_status(info.key, info.etag) is not None:
                    continue
                outcomes.append((info.key, self.plan(info.key, owner=owner)))
        return outcomes

    def plan(self, key: str, *, owner: str) -> str:
        """Claims the file version once and queues its parts; returns what happened, for the log."""
        if key.endswith(ITEMS_SUFFIXES):
            key = orders_key_for(key)  # the items file arrived: its orders file may have been waiting for it
        kind = classify(key)
        if kind is None:
            return "ignored: not an import file (see the drop layout)"
        if kind.entity == "contacts" and self._contacts is None:
            return "ignored: contacts imports need CONTACTS_LIST_ID or CONTACTS_LIST_NAME"
        info = self._objects.head(key)
        if info is None:
            return "ignored: the object is gone"
        items_key = None
        if kind.entity == "orders" and kind.format == "csv" and not self._has_items_column(info, kind.gzipped):
            items_key = items_key_for(key)
            if self._objects.head(items_key) is None:
                return f"waiting: the orders file has no items column and {items_key} is not there yet"
        parts = self._split(info, kind.entity, kind.format, kind.gzipped, items_key)
        if not self._ledger.claim_file(key, info.etag, owner=owner, entity=kind.entity, parts=len(parts)):
            return "skipped: this version of the file is already imported or being imported"
        for part in parts:
            self._tasks.send(part.model_dump())
        self._count("ImportFilesPlanned", 1)
        return f"queued in {len(parts)} part(s)"

    def _has_items_column(self, info: ObjectInfo, gzipped: bool) -> bool:
        with text_stream(self._objects.open(info.key, etag=info.etag), gzipped=gzipped) as text:
            return "items" in csv_header(text)

    def _split(self, info: ObjectInfo, entity: str, fmt: str, gzipped: bool, items_key: str | None) -> list[PartTask]:
        base = {"key": info.key, "etag": info.etag, "entity": entity, "format": fmt, "gzipped": gzipped}
        # Only plain JSON Lines can be cut at byte offsets: a gzip stream has no random access, and a CSV
        # record may span lines. Those run as one part that continues itself across invocations instead.
        if fmt != "jsonl" or gzipped or info.size <= self._part_bytes:
            return [PartTask(**base, itemsKey=items_key)]
        parts: list[PartTask] = []
        start, offset, first_line = 0, 0, 1
        lines = self._objects.open(info.key, etag=info.etag).iter_lines(keepends=True)
        for line, raw_line in enumerate(lines, start=1):
            offset += len(raw_line)
            if offset - start >= self._part_bytes:
                parts.append(PartTask(**base, part=len(parts), start=start, end=offset, firstLine=first_line))
                start, first_line = offset, line + 1
        if offset > start:
            parts.append(PartTask(**base, part=len(parts), start=start, end=None, firstLine=first_line))
        return [p.model_copy(update={"parts": len(parts)}) for p in parts]

    # -- work ----------------------------------------------------------------------------------------------

    def run_part(
        self,
        task: PartTask,
        *,
        time_left: Callable[[], float] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> PartOutcome:
        state = self._ledger.part_state(task.key, task.etag, task.part)
        if state.done:
            return PartOutcome(status="already-done")
        try:
            return self._run_part(task, state, time_left, progress)
        except SourceGone as exc:
            # Retrying cannot bring the object back: the file version is closed as abandoned, with the reason.
            self._ledger.abandon_file(task.key, task.etag, str(exc))
            self._count("ImportSourceGone", 1)
            logger.error("import abandoned", extra={"key": task.key, "part": task.part, "reason": str(exc)})
            return PartOutcome(status="abandoned")

    def _run_part(
        self,
        task: PartTask,
        state: PartState,
        time_left: Callable[[], float] | None,
        progress: Callable[[int], None] | None,
    ) -> PartOutcome:
        key_field = "emailAddress" if task.entity == "contacts" else ENTITIES[task.entity].key_field
        limits = self.contacts_limits if task.entity == "contacts" else self.limits
        outcome = PartOutcome(status="done")
        with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", encoding="utf-8", delete=False) as rejects:
            try:
                chunk = Chunk(index=0)
                for raw in self._records(task):
                    outcome.records += 1
                    if progress is not None and outcome.records % 1000 == 0:
                        progress(outcome.records)
                    serialized = self._check(task.entity, raw, key_field, rejects)
                    if serialized is None:
                        outcome.rejected += 1
                        continue
                    outcome.accepted += 1
                    size = len(serialized.encode("utf-8")) + 1
                    if chunk.body and (len(chunk.body) >= limits.max_records or chunk.size + size > limits.max_bytes):
                        if not self._flush(task, chunk, state, outcome, time_left):
                            return PartOutcome(status="continues", records=outcome.records)
                        chunk = Chunk(index=chunk.index + 1)
                    chunk.add(serialized)
                if chunk.body and not self._flush(task, chunk, state, outcome, time_left):
                    return PartOutcome(status="continues", records=outcome.records)
                if progress is not None:
                    progress(outcome.records)
                rejects_key = self._upload_rejects(task, rejects) if outcome.rejected else None
            finally:
                rejects.close()
                os.unlink(rejects.name)

        totals = self._ledger.finish_part(
            task.key,
            task.etag,
            task.part,
            records=outcome.records,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            rejects_key=rejects_key,
        )
        self._count("ImportRecordsAccepted", outcome.accepted)
        self._count("ImportRecordsRejected", outcome.rejected)
        if totals is not None and totals.parts_done == totals.parts:
            outcome.manifest_key = self._finish_file(task, totals)
            outcome.file_done = True
        return outcome

    def _records(self, task: PartTask) -> Iterator[RawRecord]:
        array_fields = () if task.entity == "contacts" else ENTITIES[task.entity].array_fields
        stream = self._objects.open(task.key, etag=task.etag, start=task.start, end=task.end)
        with text_stream(stream, gzipped=task.gzipped) as text:
            bound = self.limits.record_max_chars
            if task.format == "jsonl":
                yield from jsonl_records(text, first_line=task.firstLine, max_chars=bound)
                return
            # Contacts' columns are profile field names, which may hold dots ("Group.Field"): kept flat.
            records = csv_records(
                text,
                array_fields=array_fields,
                first_line=task.firstLine,
                nested=task.entity != "contacts",
                max_chars=bound,
            )
            if task.itemsKey is None:
                yield from records
                return
            index = self._items_index(task)
            try:
                for problem in index.problems:
                    yield RawRecord(problem.line, None, (f"{task.itemsKey} line {problem.line}", problem.error[1]))
                for raw in records:
                    if raw.data is not None and "items" not in raw.data:
                        items = index.items_for(str(raw.data.get("orderNumber", "")), max_chars=bound)
                        if items is None:
                            raw = RawRecord(raw.line, None, ("items", f"{task.itemsKey}: {_too_long(bound)}"))
                        else:
                            raw.data["items"] = items
                    yield raw
            finally:
                index.close()

    def _items_index(self, task: PartTask) -> OrderItemsIndex:
        assert task.itemsKey is not None
        info = self._objects.head(task.itemsKey)
        if info is None:
            raise FileNotFoundError(f"{task.itemsKey} disappeared before its orders were imported")
        with text_stream(self._objects.open(info.key, etag=info.etag), gzipped=info.key.endswith(".gz")) as text:
            return OrderItemsIndex(csv_records(text, array_fields=(), max_chars=self.limits.record_max_chars))

    def _check(self, entity: str, raw: RawRecord, key_field: str, rejects: Any) -> str | None:
        if raw.data is None:
            assert raw.error is not None
            problems = [raw.error]
        elif entity == "contacts":
            assert self._contacts is not None
            row, problems = self._contacts.validate(raw.data)
            if row is not None:
                return json.dumps(row, separators=(",", ":"), ensure_ascii=False)
        else:
            record, problems = validate_record(entity, complete(entity, raw.data))
            if record is not None:
                serialized, problem = serialize_checked(record)
                if serialized is not None:
                    return serialized
                problems = [problem]
        key = raw.data.get(key_field) if raw.data else None
        for field_name, reason in problems:
            rejects.write(
                json.dumps(
                    {
                        "line": raw.line,
                        # An address as natural key (customers, contacts) is masked: the line names the record.
                        key_field: mask_addresses(key) if isinstance(key, str) else None,
                        "field": field_name,
                        "reason": mask_addresses(reason),
                    }
                )
                + "\n"
            )
        return None

    def _flush(
        self,
        task: PartTask,
        chunk: Chunk,
        state: PartState,
        outcome: PartOutcome,
        time_left: Callable[[], float] | None,
    ) -> bool:
        """Sends a chunk unless Listrak already has it; False when the part must continue elsewhere."""
        earlier = state.chunks.get(chunk.index)
        if earlier is not None and not earlier.get("pending"):
            outcome.chunks_skipped += 1  # accepted by Listrak on an earlier run: never sent twice
            return True
        if time_left is not None and time_left() < CONTINUE_MARGIN_SECONDS:
            return self._hand_over(task, chunk)
        if task.entity == "contacts":
            assert self._contacts is not None
            rows = [json.loads(item) for item in chunk.body]
            info = self._contacts.send(
                rows, chunk=chunk.index, file_name=task.key.rsplit("/", 1)[-1], resume=earlier, time_left=time_left
            )
            self._ledger.chunk_sent(task.key, task.etag, task.part, chunk.index, {**info, "at": int(time.time())})
            if info.get("pending"):
                return self._hand_over(task, chunk)  # Listrak is still importing it: poll from a fresh invocation
            outcome.chunks_sent += 1
            return True
        route = ENTITIES[task.entity].route
        resource_id = self._data.import_records(route, chunk.payload())
        self._ledger.chunk_sent(
            task.key,
            task.etag,
            task.part,
            chunk.index,
            {"records": len(chunk.body), "bytes": chunk.size, "resourceId": resource_id, "at": int(time.time())},
        )
        outcome.chunks_sent += 1
        return True

    def _hand_over(self, task: PartTask, chunk: Chunk) -> bool:
        self._tasks.send(task.model_dump())
        logger.info("import part continues", extra={"key": task.key, "part": task.part, "chunk": chunk.index})
        return False

    def _upload_rejects(self, task: PartTask, rejects: Any) -> str:
        rejects.flush()
        suffix = f".part-{task.part:04d}" if task.parts > 1 else ""
        key = f"{RESULTS_PREFIX}{task.key}{suffix}.rejects.jsonl"
        self._objects.put_file(key, rejects.name, "application/x-ndjson")
        return key

    def _finish_file(self, task: PartTask, totals: Any) -> str:
        parts = self._ledger.part_summaries(task.key, task.etag, task.parts)
        manifest_key = f"{RESULTS_PREFIX}{task.key}.manifest.json"
        self._objects.put_json(
            manifest_key,
            {
                "key": task.key,
                "etag": task.etag,
                "entity": task.entity,
                "format": task.format + (".gz" if task.gzipped else ""),
                "records": totals.records,
                "accepted": totals.accepted,
                "rejected": totals.rejected,
                "rejects": [p["rejectsKey"] for p in parts if p.get("rejectsKey")],
                "parts": [
                    {
                        "part": p["part"],
                        "records": p.get("records"),
                        "accepted": p.get("accepted"),
                        "rejected": p.get("rejected"),
                        "chunks": [
                            {"chunk": int(c), **info}
                            for c, info in sorted((p.get("chunks") or {}).items(), key=lambda kv: int(kv[0]))
                        ],
                    }
                    for p in parts
                ],
                "finishedAt": int(time.time()),
            },
        )
        self._ledger.finish_file(task.key, task.etag, manifest_key)
        logger.info("import done", extra={"key": task.key, "accepted": totals.accepted, "rejected": totals.rejected})
        return manifest_key


def _too_long(bound: int) -> str:
    return f"the order's items are over {bound} characters (IMPORT_RECORD_MAX_CHARS); not read"
