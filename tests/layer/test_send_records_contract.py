"""One contract for the send-record store, held by both implementations: the in-memory one the send service's
tests run on, and the DynamoDB adapter (moto in-process, with the template's indexes). Each test runs on both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.send_records import DynamoSendRecords
from listrak_kit.clock import to_iso
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, Attempt, SendRecord
from listrak_kit.send.service import SendRecords
from local_stack import ROOT
from local_stack.template import Template
from tests.layer.test_send_service import Records as InMemoryRecords

NOW = 1_795_000_000


def _dynamo_table(name: str) -> None:
    """The send table as template.yaml declares it: its keys and its two sparse indexes."""
    resources = Template.load(ROOT / "template.yaml", {}).resources
    [props] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    boto3.client("dynamodb").create_table(
        TableName=name,
        **{k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")},
    )


@pytest.fixture(params=["in-memory", "dynamodb"])
def records(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendRecords]:
    if request.param == "in-memory":
        yield InMemoryRecords()
        return
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws_client.cache_clear()
    with mock_aws():
        _dynamo_table("listrak-contract")
        yield DynamoSendRecords("listrak-contract")
    aws_client.cache_clear()


def _record(reference: str = "r-1", *, reconcile_at: int = NOW + 60, **changes: Any) -> SendRecord:
    fields: dict[str, Any] = {
        "reference": reference,
        "status": "sending",
        "message": "password-reset",
        "listId": 300001,
        "transactionalMessageId": 7001,
        "emailMasked": "j***@example.com",
        "emailFingerprint": "f" * 64,
        "sentAt": to_iso(NOW),
        "resendableUntil": to_iso(NOW + RESEND_WINDOW_SECONDS),
        "attempts": [Attempt(n=1, startedAt=to_iso(NOW))],
        "payloadHash": "a" * 64,
        "payload": {"emailAddress": "jane@example.com", "segmentationFieldValues": []},
        "redirectAllowed": True,
        "attemptToken": uuid.uuid4().hex,
        "reconcileAt": reconcile_at,
    }
    return SendRecord(**(fields | changes))


def _get(records: SendRecords, reference: str = "r-1") -> SendRecord:
    found = records.get(reference)
    assert found is not None
    return found


def test_begin_takes_a_new_reference_once_and_get_reads_it_back(records: SendRecords) -> None:
    first = _record()
    assert records.begin(first) is True
    assert records.begin(_record()) is False  # the same reference, another attempt: refused
    assert _get(records) == first
    assert records.get("r-unknown") is None


def test_settle_sent_keeps_the_resend_key_and_drops_the_payload_and_the_due_time(records: SendRecords) -> None:
    first = _record()
    records.begin(first)
    records.settle_sent("r-1", first.attemptToken or "", 1, resend_key="k-1", outcome="accepted", resolved_by="answer")
    settled = _get(records)
    assert (settled.status, settled.resendKey, settled.payload, settled.reconcileAt) == ("sent", "k-1", None, None)
    assert (settled.attempts[0].outcome, settled.attempts[0].resolvedBy) == ("accepted", "answer")
    assert records.find_by_resend_key("k-1") == settled
    assert records.find_by_resend_key("k-other") is None
    assert records.due(NOW + 10_000, 10) == []


def test_mark_pending_records_the_attempts_outcome_and_when_it_is_due(records: SendRecords) -> None:
    first = _record()
    records.begin(first)
    records.mark_pending("r-1", first.attemptToken or "", 1, outcome="ambiguous", detail="no answer", reconcile_at=NOW)
    pending = _get(records)
    assert (pending.status, pending.reconcileAt, pending.payload) == ("pending", NOW, first.payload)
    assert (pending.attempts[0].outcome, pending.attempts[0].detail) == ("ambiguous", "no answer")


def test_settle_failed_keeps_the_failure_and_leaves_the_sweep(records: SendRecords) -> None:
    first = _record(reconcile_at=NOW)
    records.begin(first)
    records.settle_failed("r-1", first.attemptToken or "", failure="refused twice", n=1)
    failed = _get(records)
    assert (failed.status, failed.failure, failed.payload, failed.reconcileAt) == (
        "failed",
        "refused twice",
        None,
        None,
    )
    assert records.due(NOW + 10_000, 10) == []


def test_a_write_of_an_attempt_that_no_longer_holds_the_send_fails_and_changes_nothing(
    records: SendRecords,
) -> None:
    first = _record()
    records.begin(first)
    with pytest.raises(Exception):  # noqa: B017 - each store raises its own condition failure
        records.settle_sent("r-1", "another-token", 1, resend_key="k-1", outcome="accepted", resolved_by="answer")
    with pytest.raises(Exception):  # noqa: B017
        records.mark_pending("r-1", "another-token", 1, outcome="ambiguous", detail="x", reconcile_at=NOW)
    assert _get(records) == first


def test_release_frees_the_reference_only_for_the_attempt_that_holds_it(records: SendRecords) -> None:
    first = _record()
    records.begin(first)
    records.release("r-1", "another-token")
    assert _get(records) == first
    records.release("r-1", first.attemptToken or "")
    assert records.get("r-1") is None
    assert records.begin(_record()) is True


def test_claim_takes_a_due_send_once(records: SendRecords) -> None:
    first = _record(reconcile_at=NOW)
    records.begin(first)
    assert records.claim("r-1", NOW, NOW + 300) is True
    assert records.claim("r-1", NOW, NOW + 600) is False  # a peer saw the old due time: it lost
    assert _get(records).reconcileAt == NOW + 300


def test_new_attempt_closes_the_last_and_opens_the_next(records: SendRecords) -> None:
    first = _record()
    records.begin(first)
    second = Attempt(n=2, startedAt=to_iso(NOW + 700))
    records.new_attempt(
        "r-1", first.attemptToken or "", new_token="t-2", attempt=second, previous=1, sent_at=second.startedAt
    )
    again = _get(records)
    assert (again.status, again.attemptToken, again.sentAt) == ("sending", "t-2", second.startedAt)
    assert [(a.n, a.resolvedBy) for a in again.attempts] == [(1, "resend"), (2, None)]


def test_due_lists_the_unsettled_sends_whose_time_has_come_up_to_the_limit(records: SendRecords) -> None:
    for reference, at in (("r-late", NOW + 500), ("r-a", NOW - 20), ("r-b", NOW - 10), ("r-c", NOW)):
        records.begin(_record(reference, reconcile_at=at))
    assert sorted(records.due(NOW, 10)) == ["r-a", "r-b", "r-c"]
    assert len(records.due(NOW, 2)) == 2
    assert set(records.due(NOW, 2)) <= {"r-a", "r-b", "r-c"}
