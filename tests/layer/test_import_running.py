"""Working a part with in-memory ports: chunks, rejects, a hand-over short of time, a refused chunk bisected,
a failure with and without progress."""

from __future__ import annotations

import json

import pytest

from listrak_kit.imports.chunks import ChunkLimits
from listrak_kit.imports.part import PartTask
from listrak_kit.imports.ports import ABANDONED, FAILED
from listrak_kit.imports.sinks import BISECT_MAX_CALLS
from listrak_kit.listrak.errors import ListrakUnavailable
from tests.layer.import_fakes import MemoryData, MemoryLedger, MemoryObjects, MemoryTasks, jsonl, pipeline

KEY = "products/2026-11-22.jsonl"


@pytest.fixture
def world() -> tuple[MemoryObjects, MemoryLedger, MemoryTasks, MemoryData]:
    return MemoryObjects(), MemoryLedger(), MemoryTasks(), MemoryData()


def planned(world, body: bytes, **options) -> PartTask:
    objects, _, tasks, _ = world
    objects.put(KEY, body)
    assert pipeline(*world, **options).plan(KEY, owner="t").startswith("queued")
    return PartTask.model_validate(tasks.pop(0))


def rejects(objects: MemoryObjects, key: str = KEY) -> list[dict]:
    return [json.loads(line) for line in objects.files[f"results/{key}.rejects.jsonl"].splitlines()]


def test_valid_records_go_in_chunks_and_invalid_ones_to_the_rejects_file(world):
    objects, ledger, _, data = world
    task = planned(world, jsonl({"sku": "S-1"}, {"sku": "S-2", "price": "cheap"}, {"sku": "S-3"}, {"sku": "S-4"}))
    outcome = pipeline(*world).run_part(task)
    assert (outcome.status, outcome.records, outcome.accepted, outcome.rejected) == ("done", 4, 3, 1)
    assert [(route, [r["sku"] for r in body]) for route, body in data.calls] == [
        ("Product", ["S-1", "S-3"]),
        ("Product", ["S-4"]),
    ]
    assert rejects(objects) == [{"line": 2, "sku": "S-2", "field": "price", "reason": "must be a number"}]
    assert outcome.file_done and objects.documents[outcome.manifest_key]["state"] == "imported with rejects"
    assert pipeline(*world).run_part(task).status == "already-done" and len(data.calls) == 2


def test_a_part_short_of_time_hands_over_and_the_next_run_skips_what_listrak_has(world):
    _, _, tasks, data = world
    task = planned(world, jsonl(*[{"sku": f"S-{n}"} for n in range(5)]))
    seconds = iter([600.0, 1.0])
    first = pipeline(*world).run_part(task, time_left=lambda: next(seconds, 1.0))
    assert first.status == "continues"
    [handed] = [PartTask.model_validate(t) for t in tasks]
    assert handed.chunksDone == 1
    done = pipeline(*world).run_part(handed, time_left=lambda: 600.0)
    assert (done.status, done.chunks_skipped, done.chunks_sent) == ("done", 1, 2)
    assert data.accepted() == [f"S-{n}" for n in range(5)]  # each once, in order


def test_a_chunk_listrak_refuses_whole_is_bisected_to_the_records_it_refuses(world):
    objects, _, _, _ = world
    data = world[3]
    data.refused = {"S-3", "S-11"}
    task = planned(world, jsonl(*[{"sku": f"S-{n}"} for n in range(16)]))
    outcome = pipeline(*world, limits=ChunkLimits(max_records=16)).run_part(task)
    assert (outcome.status, outcome.accepted, outcome.rejected) == ("done", 14, 2)
    assert sorted(data.accepted()) == sorted(f"S-{n}" for n in range(16) if n not in (3, 11))
    assert len(data.calls) <= 1 + 2 * 2 * 4  # two refused records in a chunk of 16: at most two paths of halves
    assert [(r["line"], r["sku"], r["field"]) for r in rejects(objects)] == [
        (4, "S-3", "(record)"),
        (12, "S-11", "(record)"),
    ]
    assert all("ERROR_INVALID_PARAMETER" in r["reason"] for r in rejects(objects))


def test_a_chunk_whose_refusals_bisection_cannot_isolate_in_bounds_fails_the_file(world):
    objects, _, _, data = world
    records = [{"sku": f"S-{n:03d}"} for n in range(128)]
    data.refused = {r["sku"] for r in records[::2]}  # every other record: far more calls than the bound allows
    task = planned(world, jsonl(*records))
    outcome = pipeline(*world, limits=ChunkLimits(max_records=128)).run_part(task)
    assert outcome.status == "failed"
    assert len(data.calls) <= 1 + BISECT_MAX_CALLS + 1
    manifest = objects.documents[f"results/{KEY}.manifest.json"]
    assert manifest["state"] == FAILED and f"{BISECT_MAX_CALLS} calls did not isolate" in manifest["reason"]


class FailAfter(MemoryData):
    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok

    def import_records(self, route, body, *, budget_seconds=None):
        if self.ok <= 0:
            raise ListrakUnavailable("Listrak unavailable (HTTP 503)")
        self.ok -= 1
        return super().import_records(route, body, budget_seconds=budget_seconds)


def test_a_failure_after_progress_continues_in_a_fresh_message_and_one_without_fails_on_the_last_delivery(world):
    objects, ledger, tasks, _ = world
    data = FailAfter(ok=1)
    world = (objects, ledger, tasks, data)
    task = planned(world, jsonl(*[{"sku": f"S-{n}"} for n in range(5)]))
    assert pipeline(*world).run_part(task).status == "continues"
    [fresh] = [PartTask.model_validate(t) for t in tasks]
    with pytest.raises(ListrakUnavailable):
        pipeline(*world, max_deliveries=2).run_part(fresh, delivery=1)
    assert ledger.file_status(KEY, "v1")["status"] == "importing"
    with pytest.raises(ListrakUnavailable):
        pipeline(*world, max_deliveries=2).run_part(fresh, delivery=2)
    manifest = objects.documents[f"results/{KEY}.manifest.json"]
    assert manifest["state"] == FAILED and manifest["notImported"] == [{"part": 0, "fromLine": 3, "toLine": None}]


def test_a_file_deleted_mid_import_is_abandoned(world):
    objects, ledger, _, _ = world
    task = planned(world, jsonl({"sku": "S-1"}))
    objects.delete(KEY)
    assert pipeline(*world).run_part(task).status == "abandoned"
    assert ledger.file_status(KEY, "v1")["status"] == ABANDONED


def test_a_csv_order_gets_its_items_from_the_items_file(world):
    objects, _, tasks, data = world
    objects.put("orders/o.csv", b"orderNumber,status\n1,Completed\n2,Completed\n")
    objects.put("orders/o.items.csv", b"orderNumber,sku,quantity\n1,A,1\n2,B,2\n1,C,3\n")
    pipeline(*world).plan("orders/o.csv", owner="t")
    outcome = pipeline(*world).run_part(PartTask.model_validate(tasks[0]))
    assert (outcome.status, outcome.accepted) == ("done", 2)
    orders = [r for _, body in data.calls for r in body]
    assert [[i["sku"] for i in o["items"]] for o in orders] == [["A", "C"], ["B"]]


def test_contacts_are_an_entity_like_the_others_through_their_own_sink(world):
    from tests.layer.test_contacts import MemoryContacts, sync

    objects, ledger, tasks, data = world
    api = MemoryContacts(unsubscribed=("gone@example.com",))
    body = b"emailAddress,Account.FirstName\nann@example.com,Ann\nnot-an-address,Bob\ngone@example.com,Gone\n"
    objects.put("contacts/c.csv", body)
    assert pipeline(*world, contacts=sync(api)).plan("contacts/c.csv", owner="t") == "queued in 1 part(s)"
    outcome = pipeline(*world, contacts=sync(api)).run_part(PartTask.model_validate(tasks[0]))
    assert (outcome.status, outcome.records, outcome.accepted, outcome.rejected) == ("done", 3, 1, 2)
    assert [b["emailAddress"] for b, _ in api.upserts] == ["ann@example.com"] and not data.calls
    listed = rejects(objects, "contacts/c.csv")
    assert [(r["line"], r["field"]) for r in listed] == [(3, "emailAddress"), (4, "(record)")]
    assert "gone@example.com" not in json.dumps(listed) and "ERROR_UNSUBSCRIBED" in listed[1]["reason"]
    assert ledger.part_state("contacts/c.csv", "v1", 0).chunks[0]["mode"] == "contact"
