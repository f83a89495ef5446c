"""`results/<key>.manifest.json`: a file version's state, counts and chunks, and the lines Listrak does not have.

`manifest_document` is a pure function of what the ledger holds; `write_manifest` reads the ledger and writes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from listrak_kit.imports.part import PartTask
from listrak_kit.imports.ports import ABANDONED, FAILED, IMPORTING, ImportLedger, ObjectStore
from listrak_kit.imports.sources import RESULTS_PREFIX


def manifest_key_for(key: str) -> str:
    return f"{RESULTS_PREFIX}{key}.manifest.json"


def resume_command(key: str, version: str) -> str:
    """What an operator runs to import a failed or abandoned file version again."""
    return f"listrak-sam imports resume {key} --version-id {version}"


def write_manifest(
    objects: ObjectStore,
    ledger: ImportLedger,
    task: PartTask,
    state: str,
    *,
    reason: str | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """Writes the file version's manifest as the ledger has it now; returns its key."""
    status = ledger.file_status(task.key, task.version) or {}
    parts = ledger.part_summaries(task.key, task.version, int(status.get("parts") or task.parts))
    key = manifest_key_for(task.key)
    objects.put_json(key, manifest_document(task, state, status, parts, reason=reason, now=int(now())))
    return key


def manifest_document(
    task: PartTask,
    state: str,
    status: Mapping[str, Any],
    parts: list[dict[str, Any]],
    *,
    reason: str | None = None,
    now: int,
) -> dict[str, Any]:
    """The manifest of the file version `task` belongs to, from its ledger file item (`status`) and part items."""
    starts = [int(n) for n in status.get("partLines") or [task.firstLine]]
    if task.format == "csv":
        starts[0] = max(starts[0], 2)  # line 1 is the header
    listed = []
    missing: list[dict[str, Any]] = []
    for number, p in enumerate(parts):
        chunks = [
            {"chunk": int(c), **info} for c, info in sorted((p.get("chunks") or {}).items(), key=lambda kv: int(kv[0]))
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
            missing += gaps(p["part"], first, last, chunks)
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
        document["resume"] = resume_command(task.key, task.version)
    if state != IMPORTING:
        document["finishedAt"] = now
    return document


def gaps(part: int, first: int, last: int | None, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The part's line ranges no accepted chunk covers (`toLine` None: to the end of the file)."""
    found = []
    line = first
    for chunk in chunks:
        if chunk.get("pending") or chunk.get("firstLine") is None:
            continue
        if chunk["firstLine"] > line:
            found.append({"part": part, "fromLine": line, "toLine": chunk["firstLine"] - 1})
        line = max(line, int(chunk["lastLine"]) + 1)
    if last is None or line <= last:
        found.append({"part": part, "fromLine": line, "toLine": last})
    return found
