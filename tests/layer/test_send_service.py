"""SendService with fakes: catalog resolution, and the send state machine over an in-memory record store."""

from __future__ import annotations

import pytest

from listrak_kit.catalog.model import load_catalog
from listrak_kit.errors import Conflict, InvalidRequest
from listrak_kit.listrak.email_api import SendReceipt
from listrak_kit.listrak.errors import ListrakOutcomeUnknown, ListrakUnavailable
from listrak_kit.send.models import SendRequest
from listrak_kit.send.service import SendPolicy, SendService
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
    """The send-record store in memory, with the conditions DynamoDB checks (attempt token, existence)."""

    def __init__(self, fail_on=()):
        self.fail_on, self.items = set(fail_on), {}

    def _check(self, operation):
        if operation in self.fail_on:
            raise RuntimeError("dynamodb down")

    def _held(self, reference, token):
        item = self.items.get(reference)
        if item is None or item.attemptToken != token:
            raise RuntimeError("ConditionalCheckFailed")
        return item

    @staticmethod
    def _attempt(item, n, **changes):
        return [a.model_copy(update=changes) if a.n == n else a for a in item.attempts]

    def begin(self, record):
        self._check("begin")
        if record.reference in self.items:
            return False
        self.items[record.reference] = record
        return True

    def get(self, reference):
        return self.items.get(reference)

    def settle_sent(self, reference, token, n, *, resend_key, outcome, resolved_by):
        self._check("settle_sent")
        item = self._held(reference, token)
        changes = {"resolvedBy": resolved_by, **({"outcome": outcome} if outcome else {})}
        self.items[reference] = item.model_copy(
            update={
                "status": "sent",
                "resendKey": resend_key or item.resendKey,
                "payload": None,
                "reconcileAt": None,
                "attempts": self._attempt(item, n, **changes),
            }
        )

    def mark_pending(self, reference, token, n, *, outcome, detail, reconcile_at):
        self._check("mark_pending")
        item = self._held(reference, token)
        self.items[reference] = item.model_copy(
            update={
                "status": "pending",
                "reconcileAt": reconcile_at,
                "attempts": self._attempt(item, n, outcome=outcome, detail=detail),
            }
        )

    def settle_failed(self, reference, token, *, failure, n, outcome=None):
        item = self._held(reference, token)
        self.items[reference] = item.model_copy(
            update={"status": "failed", "failure": failure, "payload": None, "reconcileAt": None}
        )

    def release(self, reference, token):
        self._check("release")
        if reference in self.items and self.items[reference].attemptToken == token:
            del self.items[reference]

    def claim(self, reference, reconcile_at, until):
        item = self.items[reference]
        if item.reconcileAt != reconcile_at:
            return False
        self.items[reference] = item.model_copy(update={"reconcileAt": until})
        return True

    def new_attempt(self, reference, token, *, new_token, attempt, previous, sent_at):
        item = self._held(reference, token)
        attempts = [*self._attempt(item, previous, resolvedBy="resend"), attempt]
        self.items[reference] = item.model_copy(
            update={"status": "sending", "attemptToken": new_token, "attempts": attempts, "sentAt": sent_at}
        )

    def due(self, now, limit):
        return [r for r, i in self.items.items() if i.reconcileAt is not None and i.reconcileAt <= now][:limit]

    def find_by_resend_key(self, resend_key):
        return next((i for i in self.items.values() if i.resendKey == resend_key), None)

    def by_recipient(self, list_id, transactional_message_id, fingerprint, since):
        return [
            i
            for i in self.items.values()
            if (i.listId, i.transactionalMessageId, i.emailFingerprint)
            == (list_id, transactional_message_id, fingerprint)
            and i.sentAt >= since
        ]

    # an account whose Activity has been seen to show a send 10 s after it was made
    model = {"observations": [{"lag": 10.0, "offset": 0.0, "naive": False}]}

    def activity_model(self):
        return self.model

    def save_activity_model(self, model):
        self.model = model

    def open_probe(self, probe):
        return False

    def mark_unconfirmed(self, reference, token, n, *, reason, reconcile_at):
        item = self._held(reference, token)
        self.items[reference] = item.model_copy(
            update={"status": "unconfirmed", "failure": reason, "reconcileAt": reconcile_at}
        )


class Clock:
    def __init__(self):
        self.at = 1_795_000_000.0

    def now(self):
        return self.at


RECEIPT = SendReceipt("0f8fad5b-d9cb-469f-a165-70867728950e")


def service(outcome=RECEIPT, records=None, clock=None):
    api = FakeEmailApi(outcome)
    records = records if records is not None else Records()
    policy = SendPolicy(reconcile_after_seconds=60, max_attempts=2)
    sender = SendService(catalog=CATALOG, email_api=api, records=records, clock=clock or Clock(), policy=policy)
    return sender, api


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
    record = records.items["r-1"]
    assert record.emailMasked == "j***@example.com" and len(record.emailFingerprint) == 64
    assert record.payload is None and record.reconcileAt is None  # the address is gone once settled


def test_listrak_answering_without_a_resend_key_records_none():
    sender, _ = service(outcome=SendReceipt("null"))
    assert sender.send(request()).result.resendKey is None


def test_the_same_reference_with_another_payload_is_a_conflict():
    sender, api = service()
    sender.send(request())
    with pytest.raises(Conflict):
        sender.send(request(emailAddress="other@example.com"))
    assert len(api.calls) == 1


def test_an_ambiguous_outcome_is_pending_and_never_repeated_inside_the_window():
    sender, api = service(outcome=ListrakOutcomeUnknown("late"))
    first = sender.send(request())
    again = sender.send(request())
    assert first.result.status == "pending" and first.retry_after and again.replayed
    assert again.result.status == "pending"
    assert len(api.calls) == 1


def test_an_unavailable_listrak_frees_the_reference_so_it_can_be_retried():
    records = Records()
    sender, api = service(outcome=ListrakUnavailable("down"), records=records)
    with pytest.raises(ListrakUnavailable):
        sender.send(request())
    assert records.items == {}
    api.outcome = RECEIPT
    assert sender.send(request()).result.status == "sent"


def test_a_failed_settle_after_listrak_accepted_is_pending_never_sent_again():
    records = Records(fail_on={"settle_sent"})
    sender, api = service(records=records)
    assert sender.send(request()).result.status == "pending"
    again = sender.send(request())
    assert again.replayed and again.result.status == "sending" and again.retry_after
    assert len(api.calls) == 1 and records.items["r-1"].status == "sending"


class ActivityApi(FakeEmailApi):
    def __init__(self, outcome, rows=()):
        super().__init__(outcome)
        self.rows, self.lookups = list(rows), []

    def activity(self, **kwargs):
        self.lookups.append(kwargs)
        yield from self.rows


def test_reconciling_finds_the_send_in_activity_by_address_and_time():
    clock, records = Clock(), Records()
    api = ActivityApi(ListrakOutcomeUnknown("late"))
    sender, _ = service(records=records, clock=clock)
    sender._email_api = sender._witness._email_api = api
    sender.send(request())
    api.rows = [{"emailAddress": "jane@example.com", "sendDate": "2026-11-18T11:06:41Z", "resendKey": "k-1"}]
    clock.at += 10  # not due yet: nothing is looked up
    assert sender.reconcile("r-1").status == "pending" and api.lookups == []
    clock.at += 200
    assert sender.reconcile("r-1").status == "sent"
    assert records.items["r-1"].resendKey == "k-1" and records.items["r-1"].attempts[0].resolvedBy == "activity"
    assert api.lookups[0]["email_address"] == "jane@example.com" and len(api.calls) == 1


def test_reconciling_ignores_another_references_row_sends_again_then_gives_up():
    clock, records = Clock(), Records()
    api = ActivityApi(ListrakOutcomeUnknown("late"))
    sender, _ = service(records=records, clock=clock)
    sender._email_api = sender._witness._email_api = api
    sender.send(request(reference="r-0"))
    records.items["r-0"] = records.items["r-0"].model_copy(update={"status": "sent", "resendKey": "k-0"})
    sender.send(request())
    api.rows = [{"emailAddress": "jane@example.com", "sendDate": "2026-11-18T11:06:40Z", "resendKey": "k-0"}]
    clock.at += 200
    assert sender.reconcile("r-1").status == "pending"  # not r-0's row: attempt 2, ambiguous again
    assert len(api.calls) == 3
    clock.at += 400
    assert sender.reconcile("r-1").status == "failed"  # max_attempts=2: never shown, given up
    assert len(api.calls) == 3 and "never showed" in records.items["r-1"].failure
