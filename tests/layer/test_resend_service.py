"""ResendService with an injected clock and fakes: the 30-day rule, the activity lookup, Listrak's refusals."""

from __future__ import annotations

import pytest

from listrak_kit.clock import from_iso
from listrak_kit.core.send_record import SendRecord
from listrak_kit.errors import Conflict, Forbidden, Gone, NotFound, TooManyRequests
from listrak_kit.listrak.email_api import SendReceipt
from listrak_kit.listrak.errors import ListrakNotFound
from listrak_kit.masking import email_fingerprint
from listrak_kit.resend.redirect import Caller, RedirectLimits, RedirectPolicy
from listrak_kit.resend.service import ResendService

SENT_AT = "2026-11-01T12:00:00Z"
STOREFRONT = Caller.storefront("key-1")
SUPPORT = Caller.support_principal("arn:aws:iam::123456789012:user/support")
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

    def activity_model(self):
        return None

    def by_recipient(self, list_id, transactional_message_id, fingerprint, since):
        return [self.record, *getattr(self, "others", [])]

    def set_resend_key(self, reference, key):
        self.keys.append(key)

    def add_resend(self, reference, entry):
        self.resends.append(entry)
        return len(self.resends)

    def take_redirect(self, reference, *, now, window_seconds, limit):
        self.redirects = getattr(self, "redirects", 0) + 1
        return None if self.redirects <= limit else now


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


def record(resend_key="0f8fad5b-d9cb-469f-a165-70867728950e", redirect_allowed=True):
    return SendRecord(
        redirectAllowed=redirect_allowed,
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
    redirects = RedirectPolicy(counter=records, limits=RedirectLimits(per_reference=1), clock=clock)
    return ResendService(email_api=api, records=records, once=no_guard, clock=clock, redirects=redirects), records


def test_day_29_resends():
    api = Api()
    resender, records = service(record(), api, 29 * DAY)
    result, replayed = resender.resend("o-1", email_address="jane@example.org", idempotency_key=None, caller=SUPPORT)
    assert (result.status, result.resendCount, replayed) == ("resent", 1, False)
    assert api.resent[0]["forward_address"] == "jane@example.org"
    assert records.resends[0].toMasked == "j***@example.org"


def test_a_redirect_is_refused_to_the_storefront_key_and_for_a_redirect_false_send():
    api = Api()
    resender, _ = service(record(), api, DAY)
    with pytest.raises(Forbidden, match="support"):
        resender.resend("o-1", email_address="attacker@evil.example", idempotency_key=None, caller=STOREFRONT)
    resender, _ = service(record(redirect_allowed=False), api, DAY)
    with pytest.raises(Forbidden, match="redirect = false"):
        resender.resend("o-1", email_address="jane@example.org", idempotency_key=None, caller=SUPPORT)
    assert api.resent == []


def test_the_original_address_given_again_is_no_redirect_and_goes_as_the_original():
    api = Api()
    resender, records = service(record(redirect_allowed=False), api, DAY)
    resender.resend("o-1", email_address="Jane@Example.com", idempotency_key=None, caller=STOREFRONT)
    assert api.resent[0]["forward_address"] is None
    assert (records.resends[0].redirected, records.resends[0].credential) == (False, "api-key:key-1")


def test_a_redirect_is_charged_recorded_with_its_credential_and_limited():
    api = Api()
    resender, records = service(record(), api, DAY)
    resender.resend("o-1", email_address="jane@example.org", idempotency_key=None, caller=SUPPORT)
    [entry] = records.resends
    assert (entry.redirected, entry.credential) == (True, "arn:aws:iam::123456789012:user/support")
    with pytest.raises(TooManyRequests):
        resender.resend("o-1", email_address="jane@example.org", idempotency_key=None, caller=SUPPORT)
    assert len(api.resent) == 1
    resender.resend("o-1", email_address=None, idempotency_key=None, caller=SUPPORT)  # the original: not limited
    assert len(api.resent) == 2


def test_exactly_30_days_still_resends_and_one_second_later_is_gone():
    resender, _ = service(record(), Api(), 30 * DAY)
    resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)
    api = Api()
    resender, _ = service(record(), api, 30 * DAY + 1)
    with pytest.raises(Gone, match="closed at 2026-12-01T12:00:00Z"):
        resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)
    assert api.resent == []


def test_an_unknown_reference_is_not_found():
    resender, _ = service(None, Api(), 0)
    with pytest.raises(NotFound):
        resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)


def test_the_activity_row_only_this_send_can_be_gives_the_key():
    rows = [
        [{"emailAddress": "other@example.com", "sendDate": "2026-11-01T12:00:01Z", "resendKey": "k-other"}],
        [{"emailAddress": "JANE@example.com", "sendDate": "2026-11-01T14:00:00Z", "resendKey": "k-later"}],
        [{"emailAddress": "jane@example.com", "sendDate": "2026-11-01T12:00:02Z", "resendKey": "k-right"}],
    ]
    api = Api(pages=rows)
    resender, records = service(record(resend_key=None), api, DAY)
    # k-later is another send's, recorded here, of the same message to the same address
    later = record(resend_key="k-later").model_copy(update={"reference": "o-2", "sentAt": "2026-11-01T13:59:59Z"})
    records.others = [later]
    resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)
    assert api.resent[0]["resend_key"] == "k-right"
    assert records.keys == ["k-right"]


def test_no_activity_row_yet_is_a_conflict_to_retry_later():
    resender, _ = service(record(resend_key=None), Api(pages=[[]]), 60)
    with pytest.raises(Conflict, match="not resendable yet") as caught:
        resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)
    assert caught.value.retry_after


def test_listrak_refusing_the_key_is_gone():
    resender, _ = service(record(), Api(refuse=True), DAY)
    with pytest.raises(Gone, match="no longer accepts"):
        resender.resend("o-1", email_address=None, idempotency_key=None, caller=STOREFRONT)


def test_the_view_reports_the_window_from_sent_at():
    resender, _ = service(record(), Api(), 31 * DAY)
    view = resender.view("o-1")
    assert view.resendable is False and view.resendableUntil == "2026-12-01T12:00:00Z"
