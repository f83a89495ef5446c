"""The import path: a dropped file is claimed once, planned into parts, and each part streamed, validated, chunked
and sent to Listrak's Data Import API, with the ledger making every step safe to repeat.

Triggers (the schedule, an S3 event) only plan: they claim the file version and queue its parts on SQS. The same
function then works the parts. A part that runs out of time queues itself again and resumes after the last chunk
Listrak accepted; a part that fails is retried by SQS the same way. Invalid records never reach Listrak: they go
to a rejects file, and the valid ones are still imported.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel

from listrak_kit.aws.import_ledger import (
    ABANDONED,
    FAILED,
    IMPORTED,
    IMPORTED_WITH_REJECTS,
    IMPORTING,
    DynamoImportLedger,
    PartState,
)
from listrak_kit.aws.objects import ObjectInfo, S3Objects, SourceGone
from listrak_kit.core.forgotten import FORGOTTEN_REASON, ForgottenCheck
from listrak_kit.imports.chunks import Chunk, ChunkLimits, DataImports, ImportFailed
from listrak_kit.imports.fast import record_bytes
from listrak_kit.imports.records import ENTITIES
from listrak_kit.imports.sources import (
    ENTITY_PREFIXES,
    ITEMS_SUFFIXES,
    RESULTS_PREFIX,
    UNREADABLE,
    OrderItemsIndex,
    RawRecord,
    classify,
    csv_header,
    csv_header_problem,
    csv_records,
    items_key_for,
    jsonl_records,
    orders_key_for,
    text_stream,
)
from listrak_kit.listrak.errors import ListrakRejected
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import logger

if TYPE_CHECKING:  # built by services.py only when a contacts list is configured
    from listrak_kit.imports.contacts import ContactSync

CONTINUE_MARGIN_SECONDS = 90.0  # seconds left in the invocation below which a part hands over to a fresh one
HANDOVER_RESERVE_SECONDS = 30.0  # what a chunk's retries leave of the invocation, to record it and hand over
BISECT_MAX_CALLS = 64  # extra calls one refused chunk may take to find the records Listrak refuses


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


class Tasks(Protocol):
    def send(self, task: dict[str, Any]) -> None: ...


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


def manifest_key_for(key: str) -> str:
    return f"{RESULTS_PREFIX}{key}.manifest.json"


class ImportPipeline:
    # Privacy: the composition root sets it; a record that names a forgotten person is a reject ("forgotten").
    forgotten: ForgottenCheck | None = None

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
        max_deliveries: int = 0,
    ):
        self._objects = objects
        self._data = data_api
        self._ledger = ledger
        self._tasks = tasks
        self.limits = limits or ChunkLimits()
        self._part_bytes = part_bytes
        self._count = count or (lambda _name, _n: None)
        self._contacts = contacts
        self.max_deliveries = max_deliveries  # the queue's maxReceiveCount (0: unknown)
        # A ListImport is one file per chunk: far fewer, larger chunks than the Data API takes.
        self.contacts_limits = contacts_limits or ChunkLimits(max_records=50_000, max_bytes=20_000_000)

    # -- triggers ----------------------------------------------------------------------------------------

    def scan(self, *, owner: str) -> list[tuple[str, str]]:
        """The schedule: every import file in the bucket not yet imported (in its current version) is planned."""
        outcomes = []
        for prefix in ENTITY_PREFIXES:
            for listed in self._objects.list(prefix):
                if classify(listed.key) is None:
                    continue
                info = self._objects.head(listed.key)
                if info is None or self._ledger.file_status(info.key, info.version) is not None:
                    continue
                outcomes.append((info.key, self.plan(info.key, owner=owner)))
        return outcomes

    def plan(self, key: str, *, owner: str) -> str:
        """Claims the file's current version once and queues its parts; returns what happened, for the log."""
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
        items: ObjectInfo | None = None
        problem = None
        if kind.format == "csv":
            try:
                header = self._header(info, kind.gzipped)
            except UNREADABLE as exc:
                header, problem = [], f"the file cannot be read: {_unreadable(exc, kind.gzipped)}"
            problem = problem or csv_header_problem(header)
            if problem is None and kind.entity == "orders" and "items" not in header:
                items = self._objects.head(items_key_for(key))
                if items is None:
                    return f"waiting: the orders file has no items column and {items_key_for(key)} is not there yet"
        blocking = self._ledger.take_key(key, info.version)
        if blocking is not None:
            return f"waiting: version {blocking} of {key} is still importing; this version is imported after it"
        parts = [PartTask(**kind.__dict__, key=key, etag=info.etag, versionId=info.version_id)]
        if problem is None:
            parts = self._split(info, kind.entity, kind.format, kind.gzipped, items)
        claimed = self._ledger.claim_file(
            key,
            info.version,
            owner=owner,
            entity=kind.entity,
            parts=len(parts),
            part_lines=[p.firstLine for p in parts],
        )
        if not claimed:
            return "skipped: this version of the file is already imported or being imported"
        if problem is not None:
            self._close(parts[0], FAILED, reason=problem)
            self._count("ImportFilesFailed", 1)
            return f"failed: {problem}"
        self._write_manifest(parts[0], IMPORTING)
        for part in parts:
            self._tasks.send(part.model_dump())
        self._count("ImportFilesPlanned", 1)
        return f"queued in {len(parts)} part(s)"

    def resume(self, key: str, *, version: str | None = None, owner: str) -> str:
        """A failed or abandoned file version imported again from its last accepted chunks (the ledger skips them)."""
        info = self._objects.head(key, version_id=version) if version else self._objects.head(key)
        if info is None:
            return f"not resumed: {key} (version {version or 'current'}) is not in the bucket"
        kind = classify(key)
        if kind is None:
            return "not resumed: not an import file"
        status = self._ledger.reopen_file(key, info.version, owner=owner)
        if status is None:
            found = self._ledger.file_status(key, info.version)
            state = found.get("status") if found else "never imported"
            return f"not resumed: version {info.version} of {key} is {state}, not failed or abandoned"
        items = self._objects.head(items_key_for(key)) if kind.entity == "orders" and kind.format == "csv" else None
        if items is not None and self._header_has_items(info, kind.gzipped):
            items = None
        parts = self._split(info, kind.entity, kind.format, kind.gzipped, items)
        self._write_manifest(parts[0], IMPORTING)
        queued = 0
        for part in parts:
            state = self._ledger.part_state(key, info.version, part.part)
            if not state.done:
                self._tasks.send(part.model_copy(update={"chunksDone": len(state.chunks)}).model_dump())
                queued += 1
        return f"resumed: {queued} part(s) of version {info.version} queued again"

    def _header(self, info: ObjectInfo, gzipped: bool) -> list[str]:
        with text_stream(self._objects.open(info), gzipped=gzipped) as text:
            return csv_header(text)

    def _header_has_items(self, info: ObjectInfo, gzipped: bool) -> bool:
        return "items" in self._header(info, gzipped)

    def _split(
        self, info: ObjectInfo, entity: str, fmt: str, gzipped: bool, items: ObjectInfo | None
    ) -> list[PartTask]:
        base = {
            "key": info.key,
            "etag": info.etag,
            "versionId": info.version_id,
            "entity": entity,
            "format": fmt,
            "gzipped": gzipped,
        }
        # Only plain JSON Lines can be cut at byte offsets: a gzip stream has no random access, and a CSV
        # record may span lines. Those run as one part that continues itself across invocations instead.
        if fmt != "jsonl" or gzipped or info.size <= self._part_bytes:
            return [
                PartTask(
                    **base,
                    itemsKey=items.key if items else None,
                    itemsVersionId=items.version_id if items else None,
                )
            ]
        parts: list[PartTask] = []
        start, offset, first_line = 0, 0, 1
        with self._objects.open(info) as stream:
            for line, raw_line in enumerate(io.BufferedReader(stream, 1 << 20), start=1):
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
        delivery: int = 1,
    ) -> PartOutcome:
        """Imports one part. A failure after the part moved its ledger forward hands the part over in a fresh
        message (a fresh delivery budget); a failure without progress is raised, for SQS to count. On the last
        `delivery` SQS allows (`max_deliveries`), the file version is closed as failed first, so its manifest
        says so and which lines Listrak does not have."""
        state = self._ledger.part_state(task.key, task.version, task.part)
        if state.done:
            return PartOutcome(status="already-done")
        try:
            return self._run_part(task, state, time_left, progress)
        except SourceGone as exc:
            # Retrying cannot bring the object back: the file version is closed as abandoned, with the reason.
            self._close(task, ABANDONED, reason=str(exc))
            self._count("ImportSourceGone", 1)
            self._count("ImportFilesFailed", 1)
            logger.error("import abandoned", extra={"key": task.key, "part": task.part, "reason": str(exc)})
            return PartOutcome(status="abandoned")
        except ImportFailed as exc:
            self._close(task, FAILED, reason=str(exc))
            self._count("ImportFilesFailed", 1)
            logger.error("import failed", extra={"key": task.key, "part": task.part, "reason": str(exc)})
            return PartOutcome(status="failed")
        except Exception as exc:
            done = len(self._ledger.part_state(task.key, task.version, task.part).chunks)
            if done > task.chunksDone:
                logger.warning(
                    "import part failed after progress; it continues in a fresh message",
                    extra={"key": task.key, "part": task.part, "chunks": done, "error": str(exc)},
                )
                self._tasks.send(task.model_copy(update={"chunksDone": done}).model_dump())
                return PartOutcome(status="continues")
            if self.max_deliveries and delivery >= self.max_deliveries:
                self._close(task, FAILED, reason=f"{type(exc).__name__}: {exc}")
                self._count("ImportFilesFailed", 1)
            raise

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
                try:
                    for raw in self._records(task):
                        outcome.records += 1
                        if progress is not None and outcome.records % 1000 == 0:
                            progress(outcome.records)
                        serialized = self._check(task.entity, raw, key_field, rejects)
                        if serialized is None:
                            outcome.rejected += 1
                            continue
                        outcome.accepted += 1
                        size = len(serialized) + 1
                        full = len(chunk.body) >= limits.max_records or chunk.size + size > limits.max_bytes
                        if chunk.body and full:
                            if not self._flush(task, chunk, state, outcome, time_left, rejects, key_field):
                                return PartOutcome(status="continues", records=outcome.records)
                            chunk = Chunk(index=chunk.index + 1)
                        chunk.add(serialized, raw.line)
                except UNREADABLE as exc:
                    raise ImportFailed(f"{task.key} cannot be read: {_unreadable(exc, task.gzipped)}") from None
                if chunk.body and not self._flush(task, chunk, state, outcome, time_left, rejects, key_field):
                    return PartOutcome(status="continues", records=outcome.records)
                if progress is not None:
                    progress(outcome.records)
                rejects_key = self._upload_rejects(task, rejects) if outcome.rejected else None
            finally:
                rejects.close()
                os.unlink(rejects.name)

        totals = self._ledger.finish_part(
            task.key,
            task.version,
            task.part,
            records=outcome.records,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            rejects_key=rejects_key,
        )
        self._count("ImportRecordsAccepted", outcome.accepted)
        self._count("ImportRecordsRejected", outcome.rejected)
        if totals is not None and totals.parts_done == totals.parts:
            outcome.manifest_key = self._close(task, IMPORTED_WITH_REJECTS if totals.rejected else IMPORTED)
            outcome.file_done = True
        return outcome

    def _records(self, task: PartTask) -> Iterator[RawRecord]:
        array_fields = () if task.entity == "contacts" else ENTITIES[task.entity].array_fields
        stream = self._objects.open(task.source(), start=task.start, end=task.end)
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
                    yield RawRecord(problem.line, None, problem.error, source=task.itemsKey)
                for raw in records:
                    data = raw.data
                    if data is not None and "items" not in data:
                        items = index.items_for(str(data.get("orderNumber", "")), max_chars=bound)
                        if items is None:
                            raw = RawRecord(raw.line, None, ("items", f"{task.itemsKey}: {_too_long(bound)}"))
                        else:
                            data["items"] = items
                    yield raw
            finally:
                index.close()

    def _items_index(self, task: PartTask) -> OrderItemsIndex:
        assert task.itemsKey is not None
        info = ObjectInfo(task.itemsKey, "", 0, task.itemsVersionId)
        if task.itemsVersionId is None:
            found = self._objects.head(task.itemsKey)
            if found is None:
                raise ImportFailed(f"{task.itemsKey} disappeared before its orders were imported")
            info = found
        with text_stream(self._objects.open(info), gzipped=info.key.endswith(".gz")) as text:
            return OrderItemsIndex(csv_records(text, array_fields=(), max_chars=self.limits.record_max_chars))

    def _check(self, entity: str, raw: RawRecord, key_field: str, rejects: Any) -> bytes | None:
        if raw.data is None:
            assert raw.error is not None
            problems = [raw.error]
        elif self.forgotten is not None and self.forgotten.holds(raw.data):  # privacy: see core/forgotten.py
            problems = [(key_field, FORGOTTEN_REASON)]
        elif entity == "contacts":
            assert self._contacts is not None
            row, problems = self._contacts.validate(raw.data)
            if row is not None:
                return json.dumps({**row, "line": raw.line}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        else:
            serialized, problems = record_bytes(entity, raw.data)
            if serialized is not None:
                return serialized
        key = raw.data.get(key_field) if raw.data else None
        for field_name, reason in problems:
            entry = {
                "line": raw.line,
                # An address as natural key (customers, contacts) is masked: the line names the record.
                key_field: mask_addresses(key) if isinstance(key, str) else None,
                "field": field_name,
            }
            if raw.source is not None:
                entry["file"] = raw.source
            rejects.write(json.dumps({**entry, "reason": mask_addresses(reason)}) + "\n")
        return None

    def _flush(
        self,
        task: PartTask,
        chunk: Chunk,
        state: PartState,
        outcome: PartOutcome,
        time_left: Callable[[], float] | None,
        rejects: Any,
        key_field: str,
    ) -> bool:
        """Sends a chunk unless Listrak already has it; False when the part must continue elsewhere."""
        earlier = state.chunks.get(chunk.index)
        if earlier is not None and not earlier.get("pending"):
            outcome.chunks_skipped += 1  # accepted by Listrak on an earlier run: never sent twice
            self._refused(earlier.get("refused") or [], outcome, rejects, key_field)
            return True
        left = None if time_left is None else time_left()
        if left is not None and left < CONTINUE_MARGIN_SECONDS:
            return self._hand_over(task, chunk)
        lines = {"firstLine": chunk.lines[0], "lastLine": chunk.lines[-1], "at": int(time.time())}
        if task.entity == "contacts":
            assert self._contacts is not None
            rows = [json.loads(item) for item in chunk.body]
            info = self._contacts.send(
                rows, chunk=chunk.index, file_name=task.key.rsplit("/", 1)[-1], resume=earlier, time_left=time_left
            )
            self._ledger.chunk_sent(task.key, task.version, task.part, chunk.index, {**info, **lines})
            if info.get("pending"):
                return self._hand_over(task, chunk)  # Listrak is still importing it: poll from a fresh invocation
            self._refused(info.get("refused") or [], outcome, rejects, key_field)
            outcome.chunks_sent += 1
            return True
        route = ENTITIES[task.entity].route
        budget = None if left is None else left - HANDOVER_RESERVE_SECONDS
        resource_id, refused = self._send_records(route, chunk, budget, key_field)
        info = {"records": len(chunk.body), "bytes": chunk.size, "resourceId": resource_id, **lines}
        if refused:
            info["refused"] = refused
        self._ledger.chunk_sent(task.key, task.version, task.part, chunk.index, info)
        self._refused(refused, outcome, rejects, key_field)
        outcome.chunks_sent += 1
        return True

    def _send_records(
        self, route: str, chunk: Chunk, budget: float | None, key_field: str
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """One chunk to the Data API. A 400 that names no record splits it in halves until the records Listrak
        refuses are found (at most BISECT_MAX_CALLS extra calls); those become rejects, with Listrak's answer."""
        refused: list[dict[str, Any]] = []
        calls = 0
        resource_id = None

        def send(items: list[tuple[int, bytes]]) -> None:
            nonlocal calls, resource_id
            body = b"[" + b",".join(text for _, text in items) + b"]"
            try:
                resource_id = self._data.import_records(route, body, budget_seconds=budget) or resource_id
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

    @staticmethod
    def _refused(refused: list[dict[str, Any]], outcome: PartOutcome, rejects: Any, key_field: str) -> None:
        """Records Listrak itself refused (a banned address, a record its rules refuse): rejects, with its reason."""
        for item in refused:
            key = item.get(key_field)
            entry = {"line": item.get("line"), key_field: mask_addresses(key) if isinstance(key, str) else key}
            entry["field"] = "(record)"
            rejects.write(json.dumps({**entry, "reason": mask_addresses(str(item.get("reason")))}) + "\n")
        outcome.accepted -= len(refused)
        outcome.rejected += len(refused)

    def _hand_over(self, task: PartTask, chunk: Chunk) -> bool:
        done = len(self._ledger.part_state(task.key, task.version, task.part).chunks)
        self._tasks.send(task.model_copy(update={"chunksDone": done}).model_dump())
        logger.info("import part continues", extra={"key": task.key, "part": task.part, "chunk": chunk.index})
        return False

    def _upload_rejects(self, task: PartTask, rejects: Any) -> str:
        rejects.flush()
        suffix = f".part-{task.part:04d}" if task.parts > 1 else ""
        key = f"{RESULTS_PREFIX}{task.key}{suffix}.rejects.jsonl"
        self._objects.put_file(key, rejects.name, "application/x-ndjson")
        return key

    # -- results -------------------------------------------------------------------------------------------

    def _close(self, task: PartTask, state: str, *, reason: str | None = None) -> str:
        """The file version's final state, in its manifest and the ledger; then the key's next version, if any."""
        manifest_key = self._write_manifest(task, state, reason=reason)
        self._ledger.close_file(task.key, task.version, state, manifest_key=manifest_key, reason=reason)
        logger.info("import closed", extra={"key": task.key, "state": state})
        newer = self._objects.head(task.key)
        if (
            newer is not None
            and newer.version != task.version
            and not self._ledger.file_status(newer.key, newer.version)
        ):
            outcome = self.plan(task.key, owner=f"after-{task.version}")
            logger.info("import of the newer version", extra={"key": task.key, "outcome": outcome})
        return manifest_key

    def _write_manifest(self, task: PartTask, state: str, *, reason: str | None = None) -> str:
        """`results/<key>.manifest.json`: the version's state, counts, chunks, and the lines Listrak does not have."""
        status = self._ledger.file_status(task.key, task.version) or {}
        parts_count = int(status.get("parts") or task.parts)
        starts = [int(n) for n in status.get("partLines") or [task.firstLine]]
        if task.format == "csv":
            starts[0] = max(starts[0], 2)  # line 1 is the header
        parts = self._ledger.part_summaries(task.key, task.version, parts_count)
        listed = []
        missing: list[dict[str, Any]] = []
        for number, p in enumerate(parts):
            chunks = [
                {"chunk": int(c), **info}
                for c, info in sorted((p.get("chunks") or {}).items(), key=lambda kv: int(kv[0]))
            ]
            done = p.get("status") == "done"
            sent = sum(int(c.get("records") or 0) - len(c.get("refused") or []) for c in chunks if not c.get("pending"))
            listed.append(
                {
                    "part": p["part"],
                    "state": "done" if done else state if state in (FAILED, ABANDONED) else IMPORTING,
                    "records": p.get("records"),
                    "accepted": p.get("accepted") if done else sent,
                    "rejected": p.get("rejected"),
                    "chunks": chunks,
                }
            )
            if not done and state in (FAILED, ABANDONED):
                first = starts[number] if number < len(starts) else 1
                last = starts[number + 1] - 1 if number + 1 < len(starts) else None
                missing += _gaps(p["part"], first, last, chunks)
        document: dict[str, Any] = {
            "key": task.key,
            "versionId": task.versionId,
            "etag": task.etag,
            "entity": task.entity,
            "format": task.format + (".gz" if task.gzipped else ""),
            "state": state,
            "records": status.get("records", 0),
            "accepted": sum(int(p["accepted"] or 0) for p in listed),
            "rejected": sum(int(p["rejected"] or 0) for p in listed),
            "rejects": [p["rejectsKey"] for p in parts if p.get("rejectsKey")],
            "parts": listed,
            "startedAt": status.get("startedAt"),
        }
        if state in (FAILED, ABANDONED):
            document["reason"] = reason
            document["notImported"] = missing
            document["resume"] = f"python -m listrak_kit.operations resume {task.key} --version {task.version}"
        if state != IMPORTING:
            document["finishedAt"] = int(time.time())
        key = manifest_key_for(task.key)
        self._objects.put_json(key, document)
        return key


def _gaps(part: int, first: int, last: int | None, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The part's line ranges no accepted chunk covers (`toLine` None: to the end of the file)."""
    gaps = []
    line = first
    for chunk in chunks:
        if chunk.get("pending") or chunk.get("firstLine") is None:
            continue
        if chunk["firstLine"] > line:
            gaps.append({"part": part, "fromLine": line, "toLine": chunk["firstLine"] - 1})
        line = max(line, int(chunk["lastLine"]) + 1)
    if last is None or line <= last:
        gaps.append({"part": part, "fromLine": line, "toLine": last})
    return gaps


def _unreadable(exc: BaseException, gzipped: bool) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start} of a block: {exc.reason})"
    return f"{'not a valid gzip file' if gzipped else 'unreadable'} ({exc})"


def _too_long(bound: int) -> str:
    return f"the order's items are over {bound} characters (IMPORT_RECORD_MAX_CHARS); not read"
