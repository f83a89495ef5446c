"""The SMS state machine on its own, with in-memory records and Listrak: write 1 lost or repeated, an invocation
cut off before write 2, write 2 failing. None of them ever sends a second SMS."""

from __future__ import annotations

import pytest

from listrak_kit.catalog.model import Catalog
from listrak_kit.core.send_record import SendRecord
from listrak_kit.errors import SendRecordUncertain
from listrak_kit.listrak.sms_api import SmsReceipt
from listrak_kit.sms.models import SmsRequest
from listrak_kit.sms.service import STALE_SENDING_SECONDS, SmsService

RAW = SmsRequest(
    channel="sms",
    reference="r-1",
    phoneNumber="+15551234567",
    senderCodeId=1,
    phoneListId=2,
    transactionalMessageId=3,
    messageContent="hello",
)


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> float:
        return self.t


class Records:
    def __init__(self) -> None:
        self.items: dict[str, SendRecord] = {}
        self.fail_begin_after_write = False
        self.fail_get = False
        self.fail_settle = False

    def begin(self, record: SendRecord) -> bool:
        if record.reference in self.items:
            return False
        self.items[record.reference] = record
        if self.fail_begin_after_write:
            raise RuntimeError("the answer was lost")
        return True

    def get(self, reference: str) -> SendRecord | None:
        if self.fail_get:
            raise RuntimeError("unreadable")
        return self.items.get(reference)

    def settle_once(self, reference, token, n, *, status, outcome, failure=None) -> None:
        if self.fail_settle:
            raise RuntimeError("write 2 failed")
        item = self.items[reference]
        if item.attemptToken == token:
            self.items[reference] = item.model_copy(update={"status": status, "failure": failure, "payload": None})

    def release(self, reference, token) -> None:
        if self.items.get(reference) and self.items[reference].attemptToken == token:
            del self.items[reference]


class Listrak:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_transactional(self, **call) -> SmsReceipt:
        self.sent.append(call["phone_number"])
        return SmsReceipt("id")


@pytest.fixture
def parts():
    counted: list[str] = []
    records, listrak, clock = Records(), Listrak(), Clock()
    service = SmsService(
        catalog=Catalog.model_validate({"messages": {}}),
        sms_api=lambda: listrak,  # type: ignore[arg-type,return-value]
        records=records,
        clock=clock,
        count=counted.append,
    )
    return service, records, listrak, clock, counted


def test_write_1_whose_answer_was_lost_is_read_back_and_the_sms_goes_once(parts):
    service, records, listrak, _, _ = parts
    records.fail_begin_after_write = True

    assert service.send(RAW).result.status == "sent"
    records.fail_begin_after_write = False
    assert service.send(RAW).replayed
    assert listrak.sent == ["15551234567"]


def test_write_1_retried_after_it_applied_is_recognised_as_ours(parts):
    service, records, listrak, _, _ = parts
    original = records.begin

    def retried(record: SendRecord) -> bool:  # botocore's retry of an applied conditional put
        original(record)
        return False

    records.begin = retried  # type: ignore[method-assign]
    assert service.send(RAW).result.status == "sent"
    assert listrak.sent == ["15551234567"]


def test_write_1_lost_and_unreadable_sends_nothing_and_says_so(parts):
    service, records, listrak, _, _ = parts
    records.fail_begin_after_write = records.fail_get = True

    with pytest.raises(SendRecordUncertain, match="never sent twice"):
        service.send(RAW)
    assert listrak.sent == []


def test_a_send_cut_off_before_write_2_is_found_unconfirmed_by_a_later_repeat(parts):
    service, records, listrak, clock, counted = parts
    records.fail_settle = True
    service.send(RAW)  # Listrak sent it; the record still says `sending`
    records.fail_settle = False
    assert "SmsRecordWriteFailed" in counted

    assert service.send(RAW).result.status == "sending"  # too early to tell
    clock.t += STALE_SENDING_SECONDS + 1
    repeated = service.send(RAW).result
    assert repeated.status == "unconfirmed" and "ended before" in (repeated.failure or "")
    assert "SmsUnconfirmed" in counted
    assert service.send(RAW).result.status == "unconfirmed"
    assert listrak.sent == ["15551234567"]
