"""The import ledger on DynamoDB (moto in-process): each file version is claimed once, and parts resume."""

from __future__ import annotations

import contextlib
import threading

import pytest

from listrak_kit.aws.clients import aws_client
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


class ReadsMeet:
    """DynamoDB reads of the key's active version that wait for each other: both takers read before either writes."""

    def __init__(self, client, takers: int):
        self._get_item, self._barrier, self._seen = client.get_item, threading.Barrier(takers, timeout=5), set()

    def __call__(self, **kwargs):
        answer = self._get_item(**kwargs)
        me = threading.get_ident()
        if kwargs["Key"]["id"]["S"].endswith("#@active") and me not in self._seen:
            self._seen.add(me)
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()
        return answer


def test_two_versions_taking_the_key_at_once_import_one_after_the_other(aws, monkeypatch):  # noqa: F811
    ledger, client = DynamoImportLedger(TABLE), aws_client("dynamodb")
    monkeypatch.setattr(client, "get_item", ReadsMeet(client, takers=2))
    answers: dict[str, str | None] = {}

    def take(version: str) -> None:
        answers[version] = ledger.take_key(KEY, version)

    threads = [threading.Thread(target=take, args=(v,)) for v in ("v1", "v2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # One takes the key; the other waits for it (its file not even claimed yet), whichever came first.
    winner = next(v for v, blocking in answers.items() if blocking is None)
    assert sorted(answers.values(), key=str) == [None, winner], answers


def test_a_version_that_took_the_key_and_never_claimed_its_file_stops_blocking_after_the_grace(aws):  # noqa: F811
    from listrak_kit.aws.import_ledger import TAKE_GRACE_SECONDS

    clock = {"now": 1_000_000.0}
    ledger = DynamoImportLedger(TABLE, now=lambda: clock["now"])
    assert ledger.take_key(KEY, "v1") is None
    assert ledger.take_key(KEY, "v2") == "v1"  # v1 is still planning
    clock["now"] += TAKE_GRACE_SECONDS + 1  # v1's invocation is long over and it never claimed its file
    assert ledger.take_key(KEY, "v2") is None
    assert ledger.take_key(KEY, "v2") is None  # the same version again: still its key


def test_a_finished_version_gives_the_key_to_the_next_and_an_importing_one_keeps_it(aws):  # noqa: F811
    ledger = DynamoImportLedger(TABLE)
    assert ledger.take_key(KEY, "v1") is None
    ledger.claim_file(KEY, "v1", owner="a", entity="customers", parts=1)
    assert ledger.take_key(KEY, "v2") == "v1"
    ledger.close_file(KEY, "v1", "imported", manifest_key="results/m")
    assert ledger.take_key(KEY, "v2") is None


def test_a_taker_that_keeps_losing_the_race_fails_for_its_trigger_to_retry(aws, monkeypatch):  # noqa: F811
    ledger = DynamoImportLedger(TABLE)
    monkeypatch.setattr(ledger, "_put", lambda *_args: False)  # another version's write lands first, every time
    with pytest.raises(RuntimeError, match="kept taking its import key"):
        ledger.take_key(KEY, "v1")
