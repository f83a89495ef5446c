"""The import path: a dropped file is claimed once, planned into parts, and each part streamed, validated, chunked
and sent to its entity's sink (Listrak's Data Import API, or a contacts list), with the ledger making every step
safe to repeat.

Triggers (the schedule, an S3 event) only plan (planning.py): they claim the file version and queue its parts on
SQS. The same function then works the parts (running.py). Each file version's manifest (manifest.py) says where
it stands. `ImportPipeline` puts these together, with one sink per entity (sinks.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from listrak_kit.imports.chunks import ChunkLimits, DataImports
from listrak_kit.imports.manifest import manifest_key_for
from listrak_kit.imports.part import PartOutcome, PartTask
from listrak_kit.imports.planning import Planner
from listrak_kit.imports.ports import ImportLedger, ObjectInfo, ObjectStore, Tasks
from listrak_kit.imports.records import ENTITIES
from listrak_kit.imports.running import PartRunner
from listrak_kit.imports.sinks import ContactsSink, DataApiSink, Sink

if TYPE_CHECKING:  # built by services.py only when a contacts list is configured
    from listrak_kit.core.forgotten import ForgottenCheck
    from listrak_kit.imports.contacts import ContactSync

__all__ = ["ImportPipeline", "PartOutcome", "PartTask", "manifest_key_for"]

CONTACTS_NEED = "contacts imports need CONTACTS_LIST_ID or CONTACTS_LIST_NAME"


class ImportPipeline:
    def __init__(
        self,
        *,
        objects: ObjectStore,
        data_api: DataImports,
        ledger: ImportLedger,
        tasks: Tasks,
        limits: ChunkLimits | None = None,
        part_bytes: int = 256 * 1024 * 1024,
        count: Callable[[str, int], None] | None = None,
        contacts: ContactSync | None = None,
        contacts_limits: ChunkLimits | None = None,
        max_deliveries: int = 0,
    ) -> None:
        self._objects = objects
        self._ledger = ledger
        self.limits = limits or ChunkLimits()
        # A ListImport is one file per chunk: far fewer, larger chunks than the Data API takes.
        self.contacts_limits = contacts_limits or ChunkLimits(max_records=50_000, max_bytes=20_000_000)
        counter = count or (lambda _name, _n: None)
        self._data_sinks = [DataApiSink(spec, data_api, self.limits) for spec in ENTITIES.values()]
        sinks: dict[str, Sink] = {sink.spec.name: sink for sink in self._data_sinks}
        unavailable: dict[str, str] = {}
        if contacts is not None:
            sinks["contacts"] = ContactsSink(contacts, self.contacts_limits)
        else:
            unavailable["contacts"] = CONTACTS_NEED
        self.planner = Planner(
            objects=objects,
            ledger=ledger,
            tasks=tasks,
            sinks=sinks,
            unavailable=unavailable,
            part_bytes=part_bytes,
            count=counter,
        )
        self.runner = PartRunner(
            objects=objects,
            ledger=ledger,
            tasks=tasks,
            sinks=sinks,
            close=self.planner.close,
            limits=self.limits,
            count=counter,
            max_deliveries=max_deliveries,
        )

    @property
    def forgotten(self) -> ForgottenCheck | None:
        """Privacy: set by the composition root; a record that names a forgotten person is a reject ("forgotten")."""
        return self.runner.forgotten

    @forgotten.setter
    def forgotten(self, check: ForgottenCheck | None) -> None:
        self.runner.forgotten = check

    def scan(self, *, owner: str) -> list[tuple[str, str]]:
        return self.planner.scan(owner=owner)

    def plan(self, key: str, *, owner: str) -> str:
        return self.planner.plan(key, owner=owner)

    def resume(self, key: str, *, version: str | None = None, owner: str) -> str:
        return self.planner.resume(key, version=version, owner=owner)

    def parts_of(self, info: ObjectInfo) -> list[PartTask]:
        return self.planner.parts_of(info)

    def run_part(
        self,
        task: PartTask,
        *,
        time_left: Callable[[], float] | None = None,
        progress: Callable[[int], None] | None = None,
        delivery: int = 1,
    ) -> PartOutcome:
        return self.runner.run_part(task, time_left=time_left, progress=progress, delivery=delivery)

    @property
    def max_deliveries(self) -> int:
        return self.runner.max_deliveries

    @property
    def _data(self) -> DataImports:
        return self._data_sinks[0].api

    @_data.setter
    def _data(self, api: DataImports) -> None:
        # A tool or a test may wrap the Data API of a built pipeline (to count or fail its calls).
        for sink in self._data_sinks:
            sink.api = api
