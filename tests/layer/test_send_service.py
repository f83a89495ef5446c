"""SendService.prepare and delivery with fakes: catalog resolution and outcome recording, no AWS."""

from __future__ import annotations

import pytest

from listrak_kit.catalog.model import load_catalog
from listrak_kit.errors import InvalidRequest
from listrak_kit.listrak.email_api import SendReceipt
from listrak_kit.listrak.errors import ListrakOutcomeUnknown, ListrakUnavailable
from listrak_kit.send.models import SendRequest
from listrak_kit.send.service import SendService
from tests.conftest import FIXTURE_CATALOG

CATALOG = load_catalog(FIXTURE_CATALOG)


class FakeEmailApi:
    def __init__(self, outcome):
        self.outcome, self.calls = outcome, []

    def send_transactional(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class Records:
    def __init__(self, fail=False):
        self.fail, self.items = fail, []

    def put(self, record):
        if self.fail:
            raise RuntimeError("dynamodb down")
        self.items.append(record)


class Clock:
    def now(self):
        return 1_795_000_000.0


def once_per_reference():
    """The contract Powertools Idempotency gives: a reference delivers once, a raise lets it retry."""
    done = {}

    def wrap(fn):
        def call(*, data):
            if data.reference in done:
                return {**done[data.reference], "__replayed__": True}
            done[data.reference] = fn(data)
            return done[data.reference]

        return call

    return wrap


RECEIPT = SendReceipt("0f8fad5b-d9cb-469f-a165-70867728950e")


def service(outcome=RECEIPT, records=None):
    api = FakeEmailApi(outcome)
    records = records if records is not None else Records()
    return SendService(catalog=CATALOG, email_api=api, records=records, once=once_per_reference(), clock=Clock()), api


def request(**overrides):
    body = {"emailAddress": "jane@example.com", "message": "password-reset", "reference": "r-1"}
    body.update(overrides)
    return SendRequest(**body)


def test_named_fields_become_segmentation_field_ids():
    sender, _ = service()
    prepared = sender.prepare(request(fields={"firstName": "Jane", "passwordResetLink": "https://r"}))
    assert prepared.segmentationFieldValues == [
        {"segmentationFieldId": 5101, "value": "Jane"},
        {"segmentationFieldId": 5109, "value": "https://r"},
    ]
    assert (prepared.listId, prepared.transactionalMessageId) == (300001, 7003)


def test_numbers_and_booleans_are_sent_as_listrak_strings():
    sender, _ = service()
    prepared = sender.prepare(
        request(message="loyalty-tier-upgrade", fields={"approvedPoints": 2450, "firstName": True})
    )
    assert {v["value"] for v in prepared.segmentationFieldValues} == {"2450", "true"}


def test_every_problem_is_reported_at_once():
    sender, _ = service()
    with pytest.raises(InvalidRequest) as caught:
        sender.prepare(
            request(
                fields={"shoeSize": 9, "firstName": "x"},
                items=[{"a": 1}],
                segmentationFieldValues=[{"segmentationFieldId": 5101, "value": "dup"}],
            )
        )
    assert {p.field for p in caught.value.problems} == {"fields.shoeSize", "items", "segmentationFieldValues"}


def test_raw_ids_refuse_named_fields():
    sender, _ = service()
    with pytest.raises(InvalidRequest) as caught:
        sender.prepare(SendRequest(emailAddress="a@example.com", listId=1, transactionalMessageId=2, fields={"a": 1}))
    assert caught.value.problems[0].field == "fields"


def test_a_send_is_recorded_with_the_resend_key_and_a_30_day_window():
    records = Records()
    sender, api = service(records=records)
    outcome = sender.send(request())
    assert outcome.result.status == "sent" and not outcome.replayed
    assert outcome.result.resendKey == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert (outcome.result.sentAt, outcome.result.resendableUntil) == ("2026-11-18T11:06:40Z", "2026-12-18T11:06:40Z")
    [record] = records.items
    assert record.emailMasked == "j***@example.com" and len(record.emailFingerprint) == 64


def test_listrak_answering_without_a_resend_key_records_none():
    sender, _ = service(outcome=SendReceipt("null"))
    assert sender.send(request()).result.resendKey is None


def test_an_unknown_outcome_is_recorded_and_never_repeated():
    sender, api = service(outcome=ListrakOutcomeUnknown("late"))
    first = sender.send(request())
    again = sender.send(request())
    assert first.result.status == "unknown" and again.replayed
    assert len(api.calls) == 1


def test_an_unavailable_listrak_raises_so_the_reference_can_be_retried():
    sender, _ = service(outcome=ListrakUnavailable("down"))
    with pytest.raises(ListrakUnavailable):
        sender.send(request())


def test_a_failed_record_write_does_not_undo_a_delivered_send():
    sender, api = service(records=Records(fail=True))
    assert sender.send(request()).result.status == "sent"
    assert sender.send(request()).replayed
    assert len(api.calls) == 1
