"""Planning with in-memory ports: a file version is claimed once and cut into parts; a failed one resumes."""

from __future__ import annotations

import pytest

from listrak_kit.imports.part import PartTask
from listrak_kit.imports.ports import FAILED, IMPORTING
from tests.layer.import_fakes import MemoryData, MemoryLedger, MemoryObjects, MemoryTasks, jsonl, pipeline

KEY = "products/2026-11-22.jsonl"


@pytest.fixture
def world() -> tuple[MemoryObjects, MemoryLedger, MemoryTasks, MemoryData]:
    return MemoryObjects(), MemoryLedger(), MemoryTasks(), MemoryData()


def test_a_file_version_is_claimed_once_and_its_manifest_says_importing(world):
    objects, ledger, tasks, data = world
    version = objects.put(KEY, jsonl({"sku": "S-1"}))
    assert pipeline(*world).plan(KEY, owner="a") == "queued in 1 part(s)"
    assert pipeline(*world).plan(KEY, owner="b").startswith("skipped")
    assert [PartTask.model_validate(t).versionId for t in tasks] == [version]
    assert objects.documents[f"results/{KEY}.manifest.json"]["state"] == IMPORTING
    assert ledger.file_status(KEY, version)["owner"] == "a"


def test_a_large_jsonl_file_is_cut_at_line_ends_into_parts_that_know_their_first_line(world):
    objects, ledger, tasks, data = world
    lines = [{"sku": f"S-{n:02d}"} for n in range(10)]  # 16 bytes a line
    objects.put(KEY, jsonl(*lines))
    assert pipeline(*world, part_bytes=48).plan(KEY, owner="a") == "queued in 4 part(s)"
    parts = [PartTask.model_validate(t) for t in tasks]
    assert [(p.part, p.parts, p.start, p.end, p.firstLine) for p in parts] == [
        (0, 4, 0, 48, 1),
        (1, 4, 48, 96, 4),
        (2, 4, 96, 144, 7),
        (3, 4, 144, None, 10),
    ]
    assert ledger.file_status(KEY, "v1")["partLines"] == [1, 4, 7, 10]


def test_gzip_and_csv_files_are_one_part_whatever_their_size(world):
    objects, _, tasks, _ = world
    objects.put("products/a.csv", b"sku\n" + b"".join(b"S-%d\n" % n for n in range(50)))
    assert pipeline(*world, part_bytes=10).plan("products/a.csv", owner="a") == "queued in 1 part(s)"
    assert PartTask.model_validate(tasks[0]).end is None


def test_a_csv_file_without_a_header_fails_at_once_with_its_reason(world):
    objects, ledger, tasks, _ = world
    objects.put("orders/semi.csv", b"orderNumber;status\n1;Completed\n")
    outcome = pipeline(*world).plan("orders/semi.csv", owner="a")
    assert outcome.startswith("failed: the header is one column") and not tasks
    manifest = objects.documents["results/orders/semi.csv.manifest.json"]
    assert manifest["state"] == FAILED and manifest["reason"] == outcome.removeprefix("failed: ")


def test_an_orders_csv_without_items_waits_for_its_items_file(world):
    objects, _, tasks, _ = world
    objects.put("orders/o.csv", b"orderNumber,status\n1,Completed\n")
    assert pipeline(*world).plan("orders/o.csv", owner="a").startswith("waiting: the orders file has no items")
    objects.put("orders/o.items.csv", b"orderNumber,sku\n1,S-1\n")
    assert pipeline(*world).plan("orders/o.items.csv", owner="a") == "queued in 1 part(s)"  # the orders file
    assert PartTask.model_validate(tasks[0]).itemsKey == "orders/o.items.csv"


def test_contacts_without_a_list_are_ignored_and_other_files_are_not_import_files(world):
    objects, _, tasks, _ = world
    objects.put("contacts/c.csv", b"emailAddress\na@example.com\n")
    assert pipeline(*world).plan("contacts/c.csv", owner="a") == (
        "ignored: contacts imports need CONTACTS_LIST_ID or CONTACTS_LIST_NAME"
    )
    assert pipeline(*world).plan("notes/readme.txt", owner="a").startswith("ignored: not an import file")
    assert not tasks


def test_a_newer_version_waits_for_the_one_importing_and_follows_it(world):
    objects, ledger, tasks, data = world
    objects.put(KEY, jsonl({"sku": "S-1"}))
    assert pipeline(*world).plan(KEY, owner="a") == "queued in 1 part(s)"
    objects.put(KEY, jsonl({"sku": "S-2"}))
    assert pipeline(*world).plan(KEY, owner="b").startswith(f"waiting: version v1 of {KEY} is still importing")
    first = pipeline(*world).run_part(PartTask.model_validate(tasks.pop(0)))
    assert first.file_done and [PartTask.model_validate(t).versionId for t in tasks] == ["v2"]  # planned on close


def test_the_scan_plans_every_import_file_not_yet_imported(world):
    objects, _, tasks, _ = world
    objects.put("products/a.jsonl", jsonl({"sku": "S-1"}))
    objects.put("reviews/b.jsonl", jsonl({"sku": "S-1"}))
    objects.put("products/readme.txt", b"not an import file")
    assert pipeline(*world).scan(owner="s") == [
        ("products/a.jsonl", "queued in 1 part(s)"),
        ("reviews/b.jsonl", "queued in 1 part(s)"),
    ]
    assert pipeline(*world).scan(owner="s") == []  # claimed: nothing new


def test_a_failed_file_resumes_with_only_its_unfinished_parts_from_their_last_chunk(world):
    objects, ledger, tasks, data = world
    objects.put(KEY, jsonl(*[{"sku": f"S-{n:02d}"} for n in range(10)]))
    pipeline(*world, part_bytes=80).plan(KEY, owner="a")
    first, second = (PartTask.model_validate(t) for t in tasks)
    tasks.clear()
    assert pipeline(*world).run_part(first).status == "done"
    ledger.chunk_sent(KEY, "v1", 1, 0, {"records": 2, "firstLine": 6, "lastLine": 7})
    assert pipeline(*world).resume(KEY, owner="ops").startswith("not resumed: version v1")  # still importing
    ledger.close_file(KEY, "v1", FAILED, manifest_key="m", reason="Listrak down")

    # Resumed with the same part size, the file is cut as it was; the finished part stays finished.
    assert pipeline(*world, part_bytes=80).resume(KEY, owner="ops") == "resumed: 1 part(s) of version v1 queued again"
    [again] = [PartTask.model_validate(t) for t in tasks]
    assert (again.part, again.chunksDone, again.firstLine) == (1, 1, second.firstLine)
    assert ledger.file_status(KEY, "v1")["status"] == IMPORTING
    assert pipeline(*world).resume("products/gone.jsonl", owner="ops").startswith("not resumed: products/gone")
