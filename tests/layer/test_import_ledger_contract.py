"""One contract, two ledgers: the in-memory one the pipeline tests use and the DynamoDB adapter (moto in-process)
keep the same conditions, so what the fakes let the pipeline tests prove holds for the real ledger."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from listrak_kit.aws.import_ledger import DynamoImportLedger
from listrak_kit.imports.ports import ABANDONED, FAILED, IMPORTED, IMPORTING
from tests.layer.aws_fakes import TABLE, aws  # noqa: F401
from tests.layer.import_fakes import MemoryLedger

KEY = "orders/2026-11-22.csv"


@pytest.fixture(params=["memory", "dynamodb"])
def ledger(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryLedger()
    else:
        request.getfixturevalue("aws")
        yield DynamoImportLedger(TABLE)


def test_a_version_is_claimed_once_except_by_its_own_owner_while_importing(ledger):
    assert ledger.claim_file(KEY, "v1", owner="a", entity="orders", parts=2, part_lines=[1, 50])
    assert not ledger.claim_file(KEY, "v1", owner="b", entity="orders", parts=2)
    assert ledger.claim_file(KEY, "v1", owner="a", entity="orders", parts=2, part_lines=[1, 50])  # a's retry
    status = ledger.file_status(KEY, "v1")
    assert (status["status"], status["parts"], status["partLines"], status["owner"]) == (IMPORTING, 2, [1, 50], "a")
    assert ledger.file_status(KEY, "v2") is None


def test_chunks_are_kept_and_a_part_finishes_once_adding_to_the_file(ledger):
    ledger.claim_file(KEY, "v1", owner="a", entity="orders", parts=2)
    ledger.chunk_sent(KEY, "v1", 0, 0, {"records": 2, "firstLine": 2, "lastLine": 3})
    ledger.chunk_sent(KEY, "v1", 0, 1, {"pending": True})
    ledger.chunk_sent(KEY, "v1", 0, 1, {"records": 1, "firstLine": 4, "lastLine": 4})
    state = ledger.part_state(KEY, "v1", 0)
    assert not state.done
    assert state.chunks == {
        0: {"records": 2, "firstLine": 2, "lastLine": 3},
        1: {"records": 1, "firstLine": 4, "lastLine": 4},
    }
    first = ledger.finish_part(KEY, "v1", 0, records=4, accepted=3, rejected=1, rejects_key="results/r")
    assert (first.parts_done, first.parts, first.records, first.accepted, first.rejected) == (1, 2, 4, 3, 1)
    assert ledger.finish_part(KEY, "v1", 0, records=4, accepted=3, rejected=1, rejects_key=None) is None
    assert ledger.part_state(KEY, "v1", 0).done
    [summary, untouched] = ledger.part_summaries(KEY, "v1", 2)
    assert (summary["part"], summary["status"], summary["rejectsKey"], untouched) == (
        0,
        "done",
        "results/r",
        {"part": 1},
    )


@pytest.mark.parametrize("final", [FAILED, ABANDONED])
def test_only_a_failed_or_abandoned_version_reopens(ledger, final):
    ledger.claim_file(KEY, "v1", owner="a", entity="orders", parts=1)
    assert ledger.reopen_file(KEY, "v1", owner="ops") is None  # importing
    ledger.close_file(KEY, "v1", final, manifest_key="results/m", reason="down")
    assert ledger.file_status(KEY, "v1")["reason"] == "down"
    reopened = ledger.reopen_file(KEY, "v1", owner="ops")
    assert (reopened["status"], reopened["owner"], "reason" in reopened) == (IMPORTING, "ops", False)
    ledger.close_file(KEY, "v1", IMPORTED, manifest_key="results/m")
    assert ledger.reopen_file(KEY, "v1", owner="ops") is None


def test_a_newer_version_waits_for_the_one_importing(ledger):
    assert ledger.take_key(KEY, "v1") is None
    ledger.claim_file(KEY, "v1", owner="a", entity="orders", parts=1)
    assert ledger.take_key(KEY, "v2") == "v1"
    assert ledger.take_key(KEY, "v1") is None  # its own key
    ledger.close_file(KEY, "v1", IMPORTED, manifest_key="results/m")
    assert ledger.take_key(KEY, "v2") is None
