"""The delivery poller over the DynamoDB adapter (moto, the template's indexes) and a scripted Activity: what a
row of recipient activity does to its send, the events the store gets, and each fault Activity can show."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from listrak_kit.aws.clients import aws_client
from listrak_kit.aws.delivery_records import DynamoDeliveryRecords
from listrak_kit.clock import from_iso, to_iso
from listrak_kit.core.delivery import delivery_of
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, Attempt, SendRecord
from listrak_kit.delivery.poller import DeliveryPoller, PollPolicy
from listrak_kit.errors import BusUnavailable
from listrak_kit.listrak.errors import ListrakNotFound, ListrakUnauthorized, ListrakUnavailable
from listrak_kit.masking import email_fingerprint, mask_email
from tests.layer.test_send_records_contract import _dynamo_table

NOW = 1_795_000_000.0
LIST, MESSAGE, OTHER = 300001, 7001, 7002
ANN = "ann.buyer@example.com"


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def now(self) -> float:
        return self.t


class Activity:
    """Rows by message; pages of `page_size`; each call may first raise the next scripted fault."""

    def __init__(self) -> None:
        self.rows: dict[int, list[dict[str, Any]]] = {MESSAGE: [], OTHER: []}
        self.faults: list[Exception] = []
        self.calls: list[dict[str, Any]] = []
        self.deleted: set[int] = set()

    def activity_page(self, **kw: Any) -> tuple[list[dict[str, Any]], str | None]:
        self.calls.append(kw)
        if self.faults:
            raise self.faults.pop(0)
        if kw["transactional_message_id"] in self.deleted:
            raise ListrakNotFound("gone", status=404)
        assert kw["date_type"] == "Activity"
        lo, hi = from_iso(kw["start_date"]), from_iso(kw["end_date"])
        rows = [r for r in self.rows[kw["transactional_message_id"]] if lo <= from_iso(r["activityDate"]) <= hi]
        first = 0 if kw["cursor"] == "Start" else int(kw["cursor"])
        page = rows[first : first + kw["page_size"]]
        following = str(first + kw["page_size"]) if first + kw["page_size"] < len(rows) else None
        return page, following

    def add(self, message: int, address: str, resend_key: str, sent: float, at: float, **flags: Any) -> None:
        row = {"emailAddress": address, "resendKey": resend_key, "sendDate": to_iso(sent), "activityDate": to_iso(at)}
        row.update(dict.fromkeys(("bounce", "abuse", "unsubscribe", "click", "open", "read"), False))
        row.update({"bounceReason": None, **flags})
        self.rows[message] = [r for r in self.rows[message] if r["resendKey"] != resend_key] + [row]


class Bus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.refuse = 0

    def put(self, *, source: str, detail_type: str, detail: str) -> str:
        if self.refuse:
            self.refuse -= 1
            raise BusUnavailable("bus down")
        self.events.append((detail_type, json.loads(detail)))
        return "id"


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDeliveryRecords]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws_client.cache_clear()
    with mock_aws():
        _dynamo_table("delivery-tests")
        yield DynamoDeliveryRecords("delivery-tests")
    aws_client.cache_clear()


class World:
    def __init__(self, records: DynamoDeliveryRecords, **policy: Any) -> None:
        self.records, self.clock, self.activity, self.bus = records, Clock(), Activity(), Bus()
        self.metrics: list[tuple[str, str]] = []
        self.poller = DeliveryPoller(
            email_api=self.activity,  # type: ignore[arg-type]
            records=records,
            bus=self.bus,
            names={(LIST, MESSAGE): "order-confirmation"},
            clock=self.clock,  # type: ignore[arg-type]
            count=lambda metric, message: self.metrics.append((metric, message)),
            policy=PollPolicy(**policy),
        )

    def sent(self, reference: str, address: str, at: float, *, message: int = MESSAGE, key: str | None = None) -> None:
        record = SendRecord(
            reference=reference,
            status="sent",
            message="order-confirmation" if message == MESSAGE else None,
            listId=LIST,
            transactionalMessageId=message,
            resendKey=key,
            emailMasked=mask_email(address),
            emailFingerprint=email_fingerprint(address),
            sentAt=to_iso(at),
            resendableUntil=to_iso(at + RESEND_WINDOW_SECONDS),
            attempts=[Attempt(n=1, startedAt=to_iso(at), outcome="accepted", resolvedBy="answer")],
            attemptToken="t",
        )
        assert self.records.begin(record)
        self.records.note_message(LIST, message, at)

    def delivery(self, reference: str) -> dict[str, Any]:
        record = self.records.get(reference)
        assert record is not None
        sent = record.status == "sent"
        return delivery_of(record.deliverySeen, record.bounceReason, sent=sent, sent_at=record.sentAt).model_dump()

    def later(self, seconds: float) -> None:
        self.clock.t += seconds


def test_a_bounce_settles_its_send_and_tells_the_store_once(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, bounce=True, bounceReason="Mailbox full")
    report = world.poller.run()
    assert (report.matched, report.unmatched, report.events) == (1, 0, 1)
    delivery = world.delivery("order-1")
    assert delivery["status"] == "bounced" and delivery["bounceReason"] == "Mailbox full"
    assert set(delivery["seen"]) == {"bounced", "sent"}
    [(detail_type, detail)] = world.bus.events
    assert detail_type == "Email Bounced"
    assert detail["reference"] == "order-1" and detail["status"] == "bounced"
    assert detail["message"] == "order-confirmation" and detail["bounceReason"] == "Mailbox full"
    assert ANN not in json.dumps(detail)
    assert ("DeliveryBounced", "order-confirmation") in world.metrics
    # The same row again (the windows overlap), and once more duplicated: nothing changes, no second event.
    world.later(120)
    world.activity.rows[MESSAGE].append(dict(world.activity.rows[MESSAGE][0]))
    again = world.poller.run()
    assert again.matched == 1 and again.changes == 0 and again.events == 0
    assert len(world.bus.events) == 1 and world.delivery("order-1") == delivery


def test_a_status_never_goes_backwards_and_precedence_decides(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, open=True)
    world.poller.run()
    assert world.delivery("order-1")["status"] == "opened"
    world.later(60)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, open=True, click=True, unsubscribe=True)
    world.poller.run()
    assert world.delivery("order-1")["status"] == "unsubscribed"
    world.later(60)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, open=True)  # a row showing less
    world.poller.run()
    delivery = world.delivery("order-1")
    assert delivery["status"] == "unsubscribed" and set(delivery["seen"]) >= {"opened", "clicked", "unsubscribed"}
    assert [t for t, _ in world.bus.events] == ["Email Opened", "Email Unsubscribed", "Email Clicked"]


def test_rows_for_addresses_never_sent_to_are_counted_not_guessed(records, caplog):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, "stranger@example.com", "k9", NOW - 299, NOW - 60, bounce=True)
    with caplog.at_level(logging.INFO):
        report = world.poller.run()
    assert (report.matched, report.unmatched, report.events) == (0, 1, 0)
    assert ("DeliveryRowsUnmatched", "order-confirmation") in world.metrics
    assert world.delivery("order-1")["status"] == "sent"
    assert "stranger@example.com" not in caplog.text


def test_a_row_two_sends_could_be_is_left_unmatched_until_its_key_is_known(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.sent("order-2", ANN, NOW - 290)
    world.activity.add(MESSAGE, ANN, "k2", NOW - 290, NOW - 60, bounce=True)
    report = world.poller.run()
    assert (report.matched, report.unmatched) == (0, 1)
    assert world.delivery("order-1")["status"] == world.delivery("order-2")["status"] == "sent"
    records.set_resend_key("order-2", "k2")  # the reconciler learned whose row it is
    world.later(60)
    world.poller.run()
    assert world.delivery("order-2")["status"] == "bounced" and world.delivery("order-1")["status"] == "sent"


@pytest.mark.parametrize(
    "fault",
    [
        ListrakUnavailable("503", status=503),
        ListrakUnavailable("429", status=429),
        ListrakUnauthorized("401", status=401),
    ],
    ids=["5xx", "429", "401"],
)
def test_activity_refusing_stops_the_run_and_loses_nothing(records, fault):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, bounce=True, bounceReason="Mailbox full")
    world.poller.run()
    world.later(60)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, bounce=True, open=True, bounceReason="Mailbox full")
    watermark = records.poll_state(LIST, MESSAGE)["watermark"]
    world.activity.faults.append(fault)
    report = world.poller.run()
    assert report.stopped == ("refused" if fault.status == 401 else "unavailable")
    assert records.poll_state(LIST, MESSAGE)["watermark"] == watermark
    assert world.delivery("order-1")["status"] == "bounced"
    world.later(60)
    world.poller.run()  # Activity answers again: the window it missed is read
    assert "opened" in world.delivery("order-1")["seen"]


def test_a_window_cut_short_by_the_call_budget_is_taken_up_at_its_cursor(records):
    world = World(records, max_calls=2, page_size=1)
    addresses = [f"buyer{i}@example.com" for i in range(3)]
    for i, address in enumerate(addresses):
        world.sent(f"order-{i}", address, NOW - 300 + i)
        world.activity.add(MESSAGE, address, f"k{i}", NOW - 300 + i, NOW - 60, open=True)
    first = world.poller.run()
    assert (first.calls, first.stopped, first.matched) == (2, "budget", 2)
    assert "watermark" not in records.poll_state(LIST, MESSAGE)
    world.later(60)
    second = world.poller.run()
    assert world.activity.calls[-1]["cursor"] == "2"
    assert all(world.delivery(f"order-{i}")["status"] == "opened" for i in range(3))
    assert second.stopped is None and "watermark" in records.poll_state(LIST, MESSAGE)


def test_rows_dated_behind_our_clock_are_read_by_the_overlap(records):
    world = World(records, overlap_seconds=900)
    world.sent("order-1", ANN, NOW - 300)
    world.poller.run()  # nothing yet; the watermark is now
    world.later(60)
    # Listrak's clock 10 s behind ours, and its rows late: an open at NOW shows only now, dated before the window
    # that was read at NOW ended.
    world.activity.add(MESSAGE, ANN, "k1", NOW - 310, NOW - 10, open=True)
    world.poller.run()
    assert world.delivery("order-1")["status"] == "opened"


def test_a_message_deleted_in_listrak_keeps_what_was_recorded(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.sent("raw-1", "bo@example.com", NOW - 300, message=OTHER)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, bounce=True)
    world.activity.add(OTHER, "bo@example.com", "k2", NOW - 299, NOW - 60, open=True)
    world.poller.run()
    world.activity.deleted.add(MESSAGE)
    world.later(60)
    report = world.poller.run()
    assert report.stopped is None and ("DeliveryMessageGone", "order-confirmation") in world.metrics
    assert world.delivery("order-1")["status"] == "bounced" and world.delivery("raw-1")["status"] == "opened"
    calls = len(world.activity.calls)
    world.later(60)
    world.poller.run()
    assert [c["transactional_message_id"] for c in world.activity.calls[calls:]] == [OTHER]


def test_an_event_the_bus_refused_is_put_on_the_next_run(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, complained=None, abuse=True)
    world.bus.refuse = 1
    report = world.poller.run()
    assert report.stopped == "bus" and world.bus.events == []
    assert world.delivery("order-1")["status"] == "complained"
    world.later(60)
    world.poller.run()
    world.later(60)
    world.poller.run()
    assert [t for t, _ in world.bus.events] == ["Email Complained"]


def test_an_accepted_send_is_counted_and_its_message_noted_once_an_hour(records):
    from listrak_kit.delivery.registry import MessageRegistry

    counted: list[tuple[str, str]] = []
    clock = Clock()
    registry = MessageRegistry(records, lambda metric, message: counted.append((metric, message)), clock.now)
    world = World(records)
    world.sent("raw-1", ANN, NOW, message=OTHER)
    record = records.get("raw-1")
    assert record is not None
    assert records.messages(NOW - 10) == [(LIST, OTHER)]
    clock.t += 7200
    registry.accepted(record)
    registry.accepted(record)
    assert counted == [("DeliverySent", f"{LIST}/{OTHER}")] * 2
    assert records.messages(NOW + 7000) == [(LIST, OTHER)]  # noted again, once
    assert records.messages(NOW + 7201) == []


def test_a_note_that_fails_never_fails_the_send():
    from listrak_kit.delivery.registry import MessageRegistry

    class Down:
        def note_message(self, *args: Any) -> None:
            raise RuntimeError("dynamodb down")

    record = SendRecord(
        reference="r",
        status="sent",
        listId=LIST,
        transactionalMessageId=MESSAGE,
        emailMasked="a***@example.com",
        emailFingerprint="f" * 64,
        sentAt=to_iso(NOW),
        resendableUntil=to_iso(NOW + RESEND_WINDOW_SECONDS),
    )
    MessageRegistry(Down(), lambda *_: None).accepted(record)


def test_a_window_whose_pages_end_early_is_read_again_from_its_start(records):
    world = World(records, page_size=1)
    for i in range(3):
        world.sent(f"order-{i}", f"buyer{i}@example.com", NOW - 300 + i)
        world.activity.add(MESSAGE, f"buyer{i}@example.com", f"k{i}", NOW - 300 + i, NOW - 60, bounce=True)
    real = world.activity.activity_page

    def second_page_fails(**kw: Any) -> tuple[list[dict[str, Any]], str | None]:
        if kw["cursor"] == "1":
            raise ListrakUnavailable("502 on page 2", status=502)
        return real(**kw)

    world.activity.activity_page = second_page_fails  # type: ignore[method-assign]
    report = world.poller.run()
    assert report.stopped == "unavailable" and report.matched == 1
    assert "watermark" not in records.poll_state(LIST, MESSAGE)
    world.activity.activity_page = real  # type: ignore[method-assign]
    world.later(60)
    world.poller.run()
    assert [world.delivery(f"order-{i}")["status"] for i in range(3)] == ["bounced"] * 3
    assert sorted(d["reference"] for _, d in world.bus.events) == ["order-0", "order-1", "order-2"]


def test_a_saved_cursor_listrak_refuses_restarts_its_window(records):
    from listrak_kit.listrak.errors import ListrakRejected

    world = World(records, max_calls=1, page_size=1)
    for i in range(2):
        world.sent(f"order-{i}", f"buyer{i}@example.com", NOW - 300 + i)
        world.activity.add(MESSAGE, f"buyer{i}@example.com", f"k{i}", NOW - 300 + i, NOW - 60, open=True)
    assert world.poller.run().stopped == "budget"
    world.activity.faults.append(ListrakRejected("The cursor parameter is invalid.", status=400))
    world.later(60)
    world.poller.run()
    assert ("DeliveryCursorRefused", "order-confirmation") in world.metrics
    assert "cursor" not in records.poll_state(LIST, MESSAGE) and "watermark" not in records.poll_state(LIST, MESSAGE)
    for _ in range(3):
        world.later(60)
        world.poller.run()
    assert [world.delivery(f"order-{i}")["status"] for i in range(2)] == ["opened", "opened"]


def test_a_send_recorded_before_deliveries_were_kept_gets_them(records):
    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    aws_client("dynamodb").update_item(
        TableName="delivery-tests",
        Key={"id": {"S": "send#order-1"}},
        UpdateExpression="REMOVE deliverySeen, deliveryNotified",
    )
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, bounce=True, bounceReason="Mailbox full")
    assert world.poller.run().events == 1
    assert world.delivery("order-1")["status"] == "bounced"
    assert records.add_delivery("never-sent", {"opened": to_iso(NOW)}, None) is None


def test_rows_dated_without_a_zone_still_find_their_only_send(records):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    world = World(records)
    world.sent("order-1", ANN, NOW - 300)
    world.activity.add(MESSAGE, ANN, "k1", NOW - 299, NOW - 60, open=True)
    local = datetime.fromtimestamp(NOW - 299, ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M:%S")
    world.activity.rows[MESSAGE][0]["sendDate"] = local  # Eastern time, no zone written
    assert world.poller.run().matched == 1
    assert world.delivery("order-1")["status"] == "opened"
