"""Working one part: its records streamed, checked, chunked and sent through the entity's sink, with the ledger
making every step safe to repeat.

A part that runs out of time queues itself again and resumes after the last chunk Listrak accepted; a part that
fails is retried by SQS the same way. Invalid records never reach Listrak: they go to a rejects file, and the
valid ones are still imported.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Protocol

from listrak_kit.core.forgotten import FORGOTTEN_REASON, ForgottenCheck
from listrak_kit.imports.chunks import Chunk, ChunkLimits, ImportFailed
from listrak_kit.imports.part import PartOutcome, PartTask
from listrak_kit.imports.ports import (
    ABANDONED,
    FAILED,
    IMPORTED,
    IMPORTED_WITH_REJECTS,
    ImportLedger,
    ObjectInfo,
    ObjectStore,
    PartState,
    SourceGone,
    Tasks,
)
from listrak_kit.imports.sinks import Sink
from listrak_kit.imports.sources import (
    RESULTS_PREFIX,
    UNREADABLE,
    OrderItemsIndex,
    RawRecord,
    csv_records,
    jsonl_records,
    text_stream,
    unreadable_reason,
)
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import logger

CONTINUE_MARGIN_SECONDS = 90.0  # seconds left in the invocation below which a part hands over to a fresh one
HANDOVER_RESERVE_SECONDS = 30.0  # what a chunk's retries leave of the invocation, to record it and hand over


class Close(Protocol):
    def __call__(self, task: PartTask, state: str, *, reason: str | None = None) -> str: ...


class PartRunner:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        ledger: ImportLedger,
        tasks: Tasks,
        sinks: Mapping[str, Sink],
        close: Close,
        limits: ChunkLimits,
        count: Callable[[str, int], None],
        max_deliveries: int = 0,
    ) -> None:
        self._objects = objects
        self._ledger = ledger
        self._tasks = tasks
        self._sinks = sinks
        self._close = close  # the file version's end: its manifest, the ledger, the key's next version
        self.limits = limits  # record_max_chars bounds what is read, whatever the sink
        self._count = count
        self.max_deliveries = max_deliveries  # the queue's maxReceiveCount (0: unknown)
        self.forgotten: ForgottenCheck | None = None  # privacy: a record naming a forgotten person is a reject

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

    def _sink(self, entity: str) -> Sink:
        sink = self._sinks.get(entity)
        if sink is None:
            raise LookupError(f"no sink for {entity} imports here (a setting it needs is missing)")
        return sink

    def _run_part(
        self,
        task: PartTask,
        state: PartState,
        time_left: Callable[[], float] | None,
        progress: Callable[[int], None] | None,
    ) -> PartOutcome:
        sink = self._sink(task.entity)
        limits = sink.limits
        outcome = PartOutcome(status="done")
        with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", encoding="utf-8", delete=False) as rejects:
            try:
                chunk = Chunk(index=0)
                try:
                    for raw in self._records(task, sink):
                        outcome.records += 1
                        if progress is not None and outcome.records % 1000 == 0:
                            progress(outcome.records)
                        serialized = self._check(sink, raw, rejects, self.forgotten)
                        if serialized is None:
                            outcome.rejected += 1
                            continue
                        outcome.accepted += 1
                        size = len(serialized) + 1
                        full = len(chunk.body) >= limits.max_records or chunk.size + size > limits.max_bytes
                        if chunk.body and full:
                            if not self._flush(task, sink, chunk, state, outcome, time_left, rejects):
                                return PartOutcome(status="continues", records=outcome.records)
                            chunk = Chunk(index=chunk.index + 1)
                        chunk.add(serialized, raw.line)
                except UNREADABLE as exc:
                    raise ImportFailed(f"{task.key} cannot be read: {unreadable_reason(exc, task.gzipped)}") from None
                if chunk.body and not self._flush(task, sink, chunk, state, outcome, time_left, rejects):
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

    def _records(self, task: PartTask, sink: Sink) -> Iterator[RawRecord]:
        stream = self._objects.open(task.source(), start=task.start, end=task.end)
        with text_stream(stream, gzipped=task.gzipped) as text:
            bound = self.limits.record_max_chars
            if task.format == "jsonl":
                yield from jsonl_records(text, first_line=task.firstLine, max_chars=bound)
                return
            records = csv_records(
                text,
                array_fields=sink.array_fields,
                first_line=task.firstLine,
                nested=sink.nested_columns,
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

    @staticmethod
    def _check(sink: Sink, raw: RawRecord, rejects: IO[str], forgotten: ForgottenCheck | None) -> bytes | None:
        if raw.data is None:
            assert raw.error is not None
            problems = [raw.error]
        elif forgotten is not None and forgotten.holds(raw.data):  # privacy: see core/forgotten.py
            problems = [(sink.key_field, FORGOTTEN_REASON)]
        else:
            serialized, problems = sink.check(raw.data, raw.line)
            if serialized is not None:
                return serialized
        key_field = sink.key_field
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
        sink: Sink,
        chunk: Chunk,
        state: PartState,
        outcome: PartOutcome,
        time_left: Callable[[], float] | None,
        rejects: IO[str],
    ) -> bool:
        """Sends a chunk unless Listrak already has it; False when the part must continue elsewhere."""
        earlier = state.chunks.get(chunk.index)
        if earlier is not None and not earlier.get("pending"):
            outcome.chunks_skipped += 1  # accepted by Listrak on an earlier run: never sent twice
            self._refused(earlier.get("refused") or [], outcome, rejects, sink.key_field)
            return True
        left = None if time_left is None else time_left()
        if left is not None and left < CONTINUE_MARGIN_SECONDS:
            return self._hand_over(task, chunk)
        info = sink.send(
            chunk,
            file_name=task.key.rsplit("/", 1)[-1],
            lines={"firstLine": chunk.lines[0], "lastLine": chunk.lines[-1], "at": int(time.time())},
            earlier=earlier,
            time_left=time_left,
            budget=None if left is None else left - HANDOVER_RESERVE_SECONDS,
        )
        self._ledger.chunk_sent(task.key, task.version, task.part, chunk.index, info)
        if info.get("pending"):
            return self._hand_over(task, chunk)  # Listrak is still importing it: poll from a fresh invocation
        self._refused(info.get("refused") or [], outcome, rejects, sink.key_field)
        outcome.chunks_sent += 1
        return True

    @staticmethod
    def _refused(refused: list[dict[str, Any]], outcome: PartOutcome, rejects: IO[str], key_field: str) -> None:
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

    def _upload_rejects(self, task: PartTask, rejects: IO[str]) -> str:
        rejects.flush()
        suffix = f".part-{task.part:04d}" if task.parts > 1 else ""
        key = f"{RESULTS_PREFIX}{task.key}{suffix}.rejects.jsonl"
        self._objects.put_file(key, rejects.name, "application/x-ndjson")
        return key


def _too_long(bound: int) -> str:
    return f"the order's items are over {bound} characters (IMPORT_RECORD_MAX_CHARS); not read"
