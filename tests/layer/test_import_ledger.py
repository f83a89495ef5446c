"""The import ledger on DynamoDB (moto in-process): each file version is claimed once, and parts resume."""

from __future__ import annotations

from listrak_kit.aws.import_ledger import DynamoImportLedger
from tests.layer.aws_fakes import TABLE, aws  # noqa: F401

KEY, ETAG = "customers/2026-11-22.jsonl", '"e1"'


def test_a_file_version_is_claimed_once(aws):  # noqa: F811
    ledger = DynamoImportLedger(TABLE)
    assert ledger.file_status(KEY, ETAG) is None
    assert ledger.claim_file(KEY, ETAG, owner="a", entity="customers", parts=2)
    assert not ledger.claim_file(KEY, ETAG, owner="b", entity="customers", parts=2)
    assert ledger.file_status(KEY, ETAG) is not None
    assert ledger.claim_file(KEY, '"e2"', owner="b", entity="customers", parts=1)  # a new version is new work


def test_a_part_resumes_after_its_last_sent_chunk_and_totals_add_up(aws):  # noqa: F811
    ledger = DynamoImportLedger(TABLE)
    ledger.claim_file(KEY, ETAG, owner="a", entity="customers", parts=2)
    assert ledger.part_state(KEY, ETAG, 0).done is False
    ledger.chunk_sent(KEY, ETAG, 0, 0, {"records": 2})
    ledger.chunk_sent(KEY, ETAG, 0, 1, {"records": 1})
    assert set(ledger.part_state(KEY, ETAG, 0).chunks) == {0, 1}

    first = ledger.finish_part(KEY, ETAG, 0, records=4, accepted=3, rejected=1, rejects_key="results/r")
    assert first is not None and (first.parts_done, first.records, first.accepted) == (1, 4, 3)
    assert ledger.part_state(KEY, ETAG, 0).done
    assert ledger.finish_part(KEY, ETAG, 0, records=4, accepted=3, rejected=1, rejects_key=None) is None  # again
    second = ledger.finish_part(KEY, ETAG, 1, records=2, accepted=2, rejected=0, rejects_key=None)
    assert second is not None and (second.parts_done, second.parts, second.accepted, second.rejected) == (2, 2, 5, 1)
    summaries = ledger.part_summaries(KEY, ETAG, 2)
    assert [s["part"] for s in summaries] == [0, 1]
    assert summaries[0]["rejectsKey"] == "results/r"


def test_a_count_above_2_to_the_53_survives_the_round_trip(aws):  # noqa: F811
    ledger = DynamoImportLedger(TABLE)
    ledger.claim_file(KEY, ETAG, owner="a", entity="customers", parts=1)
    big = 2**53 + 1  # a float cannot hold it
    totals = ledger.finish_part(KEY, ETAG, 0, records=big, accepted=big, rejected=0, rejects_key=None)
    assert totals is not None and (totals.records, totals.accepted) == (big, big)
    assert ledger.part_summaries(KEY, ETAG, 1)[0]["records"] == big
