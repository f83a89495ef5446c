"""The manifest as a pure function of the ledger: states per part, counts, and the lines Listrak does not have."""

from __future__ import annotations

from listrak_kit.imports.manifest import gaps, manifest_document
from listrak_kit.imports.part import PartTask
from listrak_kit.imports.ports import FAILED, IMPORTED, IMPORTING

TASK = PartTask(key="orders/o.csv", etag="e1", versionId="v1", entity="orders", format="csv", gzipped=True, parts=2)
STATUS = {"parts": 2, "partLines": [1, 101], "records": 150, "startedAt": 1_700_000_000}


def chunk(first: int, last: int, records: int, **extra) -> dict:
    return {"records": records, "firstLine": first, "lastLine": last, **extra}


def test_a_failed_file_lists_each_unfinished_part_s_missing_lines_and_how_to_resume():
    parts = [
        {"part": 0, "status": "done", "records": 99, "accepted": 97, "rejected": 2, "rejectsKey": "results/r0"},
        {"part": 1, "chunks": {"1": chunk(121, 140, 20, refused=[{"line": 130}]), "0": chunk(101, 110, 10)}},
    ]
    document = manifest_document(TASK, FAILED, STATUS, parts, reason="Listrak down", now=1_700_000_500)
    assert document == {
        "key": "orders/o.csv",
        "versionId": "v1",
        "etag": "e1",
        "entity": "orders",
        "format": "csv.gz",
        "state": FAILED,
        "records": 150,
        "accepted": 97 + 10 + 19,
        "rejected": 2,
        "rejects": ["results/r0"],
        "parts": [
            {"part": 0, "state": "done", "records": 99, "accepted": 97, "rejected": 2, "chunks": []},
            {
                "part": 1,
                "state": FAILED,
                "records": None,
                "accepted": 29,
                "rejected": None,
                "chunks": [
                    {"chunk": 0, **chunk(101, 110, 10)},
                    {"chunk": 1, **chunk(121, 140, 20, refused=[{"line": 130}])},
                ],
            },
        ],
        "startedAt": 1_700_000_000,
        "reason": "Listrak down",
        "notImported": [
            {"part": 1, "fromLine": 111, "toLine": 120},
            {"part": 1, "fromLine": 141, "toLine": None},
        ],
        "resume": document["resume"],
        "finishedAt": 1_700_000_500,
    }
    assert "orders/o.csv" in document["resume"] and "v1" in document["resume"]


def test_an_importing_file_has_no_end_and_a_finished_one_no_gaps():
    importing = manifest_document(TASK, IMPORTING, STATUS, [{"part": 0}, {"part": 1}], now=5)
    assert "finishedAt" not in importing and "notImported" not in importing
    assert [p["state"] for p in importing["parts"]] == [IMPORTING, IMPORTING]
    done = [{"part": n, "status": "done", "records": 1, "accepted": 1, "rejected": 0} for n in range(2)]
    finished = manifest_document(TASK, IMPORTED, STATUS, done, now=5)
    assert (finished["state"], finished["accepted"], finished["finishedAt"]) == (IMPORTED, 2, 5)
    assert "notImported" not in finished and "reason" not in finished


def test_a_csv_file_s_first_missing_line_is_after_its_header():
    task = TASK.model_copy(update={"parts": 1})
    document = manifest_document(task, FAILED, {"parts": 1}, [{"part": 0}], reason="x", now=5)
    assert document["notImported"] == [{"part": 0, "fromLine": 2, "toLine": None}]


def test_gaps_skip_pending_chunks_and_end_at_the_part_s_last_line():
    chunks = [chunk(1, 10, 10), {"pending": True, "firstLine": 11, "lastLine": 20}, chunk(21, 30, 10)]
    assert gaps(0, 1, 40, chunks) == [
        {"part": 0, "fromLine": 11, "toLine": 20},
        {"part": 0, "fromLine": 31, "toLine": 40},
    ]
    assert gaps(0, 1, 30, [chunk(1, 30, 30)]) == []
