"""ResendService with an injected clock and fakes: the 30-day rule, the activity lookup, Listrak's refusals."""

from __future__ import annotations

import pytest

from listrak_kit.clock import from_iso
from listrak_kit.core.send_record import SendRecord
from listrak_kit.errors import Conflict, Gone, NotFound
from listrak_kit.listrak.email_api import SendReceipt
from listrak_kit.listrak.errors import ListrakNotFound
from listrak_kit.masking import email_fingerprint
from listrak_kit.resend.service import ResendService

SENT_AT = "2026-11-01T12:00:00Z"
DAY = 86400


class Clock:
    def __init__(self, now):
        self.t = now

    def now(self):
        return self.t


class Records:
    def __init__(self, record):
        self.record, self.keys, self.resends = record, [], []

    def get(self, reference):
        return self.record if self.record and self.record.reference == reference else None

    def find_by_resend_key(self, key):
        return self.record if self.record and self.record.resendKey == key else None

    def set_resend_key(self, reference, key):
        self.keys.append(key)

    def add_resend(self, reference, entry):
        self.resends.append(entry)
        return len(self.resends)


class Api:
    def __init__(self, pages=(), refuse=False):
        self.pages, self.refuse, self.resent, self.activity_calls = list(pages), refuse, [], 0

    def activity(self, **kwargs):
        self.activity_calls += 1
        for page in self.pages:
            yield from page

    def resend_transactional(self, **kwargs):
        if self.refuse:
            raise ListrakNotFound("404", status=404, code="ERROR_UNABLE_TO_LOCATE_RESOURCE")
        self.resent.append(kwargs)
        return SendReceipt("r")


def record(resend_key="0f8fad5b-d9cb-469f-a165-70867728950e"):
    return SendRecord(
        reference="o-1",
        status="sent",
        listId=1,
        transactionalMessageId=2,
        resendKey=resend_key,
        emailMasked="j***@example.com",
        emailFingerprint=email_fingerprint("jane@example.com"),
        sentAt=SENT_AT,
        resendableUntil="2026-12-01T12:00:00Z",
    )


def service(rec, api, seconds_after_send):
    records = Records(rec)
    no_guard = lambda fn: lambda *, data: fn(data)  # noqa: E731
    clock = Clock(from_iso(SENT_AT) + seconds_after_send)
    return ResendService(email_api=api, records=records, once=no_guard, clock=clock), records


def test_day_29_resends():
    api = Api()
    resender, records = service(record(), api, 29 * DAY)
    result, replayed = resender.resend("o-1", email_address="jane@example.org", idempotency_key=None)
    assert (result.status, result.resendCount, replayed) == ("resent", 1, False)
    assert api.resent[0]["forward_address"] == "jane@example.org"
    assert records.resends[0].toMasked == "j***@example.org"


def test_exactly_30_days_still_resends_and_one_second_later_is_gone():
    resender, _ = service(record(), Api(), 30 * DAY)
    resender.resend("o-1", email_address=None, idempotency_key=None)
    api = Api()
    resender, _ = service(record(), api, 30 * DAY + 1)
    with pytest.raises(Gone, match="closed at 2026-12-01T12:00:00Z"):
        resender.resend("o-1", email_address=None, idempotency_key=None)
    assert api.resent == []


def test_an_unknown_reference_is_not_found():
    resender, _ = service(None, Api(), 0)
    with pytest.raises(NotFound):
        resender.resend("o-1", email_address=None, idempotency_key=None)


def test_the_activity_row_closest_to_the_send_for_that_address_gives_the_key():
    rows = [
        [{"emailAddress": "other@example.com", "sendDate": "2026-11-01T12:00:01Z", "resendKey": "k-other"}],
        [{"emailAddress": "JANE@example.com", "sendDate": "2026-11-01T14:00:00Z", "resendKey": "k-later"}],
        [{"emailAddress": "jane@example.com", "sendDate": "2026-11-01T12:00:02Z", "resendKey": "k-right"}],
    ]
    api = Api(pages=rows)
    resender, records = service(record(resend_key=None), api, DAY)
    resender.resend("o-1", email_address=None, idempotency_key=None)
    assert api.resent[0]["resend_key"] == "k-right"
    assert records.keys == ["k-right"]


def test_no_activity_row_yet_is_a_conflict_to_retry_later():
    resender, _ = service(record(resend_key=None), Api(pages=[[]]), 60)
    with pytest.raises(Conflict, match="not resendable yet") as caught:
        resender.resend("o-1", email_address=None, idempotency_key=None)
    assert caught.value.retry_after


def test_listrak_refusing_the_key_is_gone():
    resender, _ = service(record(), Api(refuse=True), DAY)
    with pytest.raises(Gone, match="no longer accepts"):
        resender.resend("o-1", email_address=None, idempotency_key=None)


def test_the_view_reports_the_window_from_sent_at():
    resender, _ = service(record(), Api(), 31 * DAY)
    view = resender.view("o-1")
    assert view.resendable is False and view.resendableUntil == "2026-12-01T12:00:00Z"
