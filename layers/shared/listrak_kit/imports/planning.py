"""Planning an import: a dropped file version is claimed once and cut into parts, which go on the queue; a failed
one is queued again from where it stopped; a finished one is closed, and the key's next version planned.

Triggers (the schedule, an S3 event) only plan. Only plain JSON Lines can be cut at byte offsets: a gzip stream
has no random access, and a CSV record may span lines, so those run as one part that continues itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from listrak_kit.imports.manifest import write_manifest
from listrak_kit.imports.part import PartTask
from listrak_kit.imports.ports import FAILED, IMPORTING, ImportLedger, ObjectInfo, ObjectStore, Tasks
from listrak_kit.imports.sinks import Sink
from listrak_kit.imports.sources import (
    ENTITY_PREFIXES,
    ITEMS_SUFFIXES,
    UNREADABLE,
    classify,
    csv_header,
    csv_header_problem,
    items_key_for,
    orders_key_for,
    text_stream,
    unreadable_reason,
)
from listrak_kit.observability import logger


class Planner:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        ledger: ImportLedger,
        tasks: Tasks,
        sinks: Mapping[str, Sink],
        unavailable: Mapping[str, str],
        part_bytes: int,
        count: Callable[[str, int], None],
    ) -> None:
        self._objects = objects
        self._ledger = ledger
        self._tasks = tasks
        self._sinks = sinks
        self._unavailable = unavailable  # entity -> why it has no sink here (a setting it needs)
        self._part_bytes = part_bytes
        self._count = count

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
        if kind.entity not in self._sinks:
            return f"ignored: {self._unavailable.get(kind.entity, f'no {kind.entity} imports here')}"
        info = self._objects.head(key)
        if info is None:
            return "ignored: the object is gone"
        items: ObjectInfo | None = None
        problem = None
        if kind.format == "csv":
            try:
                header = self._header(info, kind.gzipped)
            except UNREADABLE as exc:
                header, problem = [], f"the file cannot be read: {unreadable_reason(exc, kind.gzipped)}"
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
            self.close(parts[0], FAILED, reason=problem)
            self._count("ImportFilesFailed", 1)
            return f"failed: {problem}"
        write_manifest(self._objects, self._ledger, parts[0], IMPORTING)
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
        parts = self.parts_of(info)
        write_manifest(self._objects, self._ledger, parts[0], IMPORTING)
        queued = 0
        for part in parts:
            state = self._ledger.part_state(key, info.version, part.part)
            if not state.done:
                self._tasks.send(part.model_copy(update={"chunksDone": len(state.chunks)}).model_dump())
                queued += 1
        return f"resumed: {queued} part(s) of version {info.version} queued again"

    def close(self, task: PartTask, state: str, *, reason: str | None = None) -> str:
        """The file version's final state, in its manifest and the ledger; then the key's next version, if any."""
        manifest_key = write_manifest(self._objects, self._ledger, task, state, reason=reason)
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

    def parts_of(self, info: ObjectInfo) -> list[PartTask]:
        """The parts an import file's version is cut into, as a resume cuts them (its items file found again)."""
        kind = classify(info.key)
        if kind is None:
            raise ValueError(f"{info.key} is not an import file")
        items = None
        if kind.entity == "orders" and kind.format == "csv":
            items = self._objects.head(items_key_for(info.key))
            if items is not None and "items" in self._header(info, kind.gzipped):
                items = None
        return self._split(info, kind.entity, kind.format, kind.gzipped, items)

    def _header(self, info: ObjectInfo, gzipped: bool) -> list[str]:
        with text_stream(self._objects.open(info), gzipped=gzipped) as text:
            return csv_header(text)

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
