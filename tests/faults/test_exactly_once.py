"""Exactly once when Listrak's answers, AWS's answers or Listrak's Activity are ambiguous, late or silent.

Every test counts the emails (and resends) where they land, at the Listrak sandbox.
"""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURE_CATALOG, post_message
from tests.faults.aws_faults import Fault
from tests.faults.test_send_faults import emails, order, settle, state


def resends(sandbox, reference: str) -> int:
    return sum(1 for row in sandbox.resends if row["emailAddress"].split("@")[0] == reference)


# -- an answer Listrak may give after acting is never retried in place -----------------------------------


def test_a_503_after_listrak_acted_sends_one_email(stack, sandbox, clock):
    sandbox.inject("send", "503_after")
    status, answer = post_message(stack, order("r-1"))
    assert emails(sandbox)["r-1"] == 1
    assert status == 202 and answer["status"] == "pending"
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "sent"


def test_a_503_after_listrak_resent_resends_once(stack, sandbox, clock):
    from tests.handlers.test_resend_api import resend

    sandbox.resend_key_in_send_response = True
    assert post_message(stack, order("r-1"))[0] == 201
    sandbox.inject("resend", "503_after")
    status, answer = resend(stack, "r-1")
    assert resends(sandbox, "r-1") == 1
    assert status == 504 and answer["status"] == "unknown"


# -- a lost answer to write 1 -------------------------------------------------------------------------------


def test_write_1_applied_but_its_answer_lost_sends_now_and_says_so(stack, sandbox, clock):
    with Fault("dynamodb", "InternalServerError", status=500, operation="PutItem", applies_first=True) as fault:
        status, answer = post_message(stack, order("r-1"))
    assert fault.hits > 0
    assert (status, answer.get("status")) == (201, "sent"), answer  # the record is ours: the send goes now
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1


def test_write_1_unconfirmed_is_never_answered_nothing_was_sent(stack, sandbox, measured):
    clock = measured
    with (
        Fault("dynamodb", "InternalServerError", status=500, operation="PutItem", applies_first=True),
        Fault("dynamodb", "InternalServerError", status=500, operation="GetItem"),
    ):
        status, answer = post_message(stack, order("r-1"))
    assert status == 503 and "nothing was sent" not in answer["message"], answer
    assert "same reference" in answer["message"]
    assert emails(sandbox)["r-1"] == 0
    settle(stack, clock)  # the record was written: it is sent once, from the reconciler
    assert emails(sandbox)["r-1"] == 1
    assert post_message(stack, order("r-1"))[:1] == (200,)
    assert emails(sandbox)["r-1"] == 1


# -- Activity confirms a send only when no other send could be its row ----------------------------------

JANE = "jane@example.com"


def reset_link(reference: str) -> dict:
    """A password reset to one address; each reference carries its own link."""
    link = f"https://r/{reference}"
    return {
        "emailAddress": JANE,
        "message": "password-reset",
        "fields": {"passwordResetLink": link},
        "reference": reference,
    }


def links(sandbox) -> list[str]:
    """The reset link of every email Listrak sent, in order."""
    return [value["value"] for row in sandbox.sent_messages for value in row["segmentationFieldValues"]]


def key_of(sandbox, reference: str) -> str:
    [key] = [row["resendKey"] for row in sandbox.sent_messages if f"https://r/{reference}" in str(row)]
    return key


def test_two_sends_minutes_apart_the_first_ambiguous_each_get_their_own_email(stack, sandbox, measured):
    clock = measured
    from tests.handlers.test_resend_api import resend

    sandbox.inject("send", "502")  # before Listrak acted
    assert post_message(stack, reset_link("a"))[0] == 202
    clock.advance(120)
    assert post_message(stack, reset_link("b"))[0] == 201
    settle(stack, clock)
    assert sorted(links(sandbox)) == ["https://r/a", "https://r/b"]
    assert state(stack, "a")["status"] == "sent"
    assert resend(stack, "a")[0] == 201
    assert [row["resendKey"] for row in sandbox.resends] == [key_of(sandbox, "a")]  # a's own email, not b's


def test_two_sends_minutes_apart_the_later_ambiguous_is_never_reported_sent_unsent(stack, sandbox, measured):
    clock = measured
    sandbox.send_date_lag_seconds = 112  # Listrak dates a row when the email leaves its queue: inside b's span
    assert post_message(stack, reset_link("a"))[0] == 201
    clock.advance(110)
    sandbox.inject("send", "502")
    assert post_message(stack, reset_link("b"))[0] == 202
    settle(stack, clock)
    view = state(stack, "b")
    assert view["status"] in ("sent", "unconfirmed")
    if view["status"] == "sent":
        assert sorted(links(sandbox)) == ["https://r/a", "https://r/b"]


def test_a_resend_of_the_later_of_two_orders_before_its_row_shows_resends_nothing_else(stack, sandbox, clock):
    from tests.handlers.test_resend_api import resend

    assert post_message(stack, reset_link("a"))[0] == 201
    clock.advance(120)
    assert post_message(stack, reset_link("b"))[0] == 201
    clock.advance(sandbox.activity_delay_seconds - 30)  # a's row shows, b's not yet
    status, answer = resend(stack, "b")
    assert status == 409 and "not resendable yet" in answer["message"]
    assert sandbox.resends == []
    clock.advance(60)
    assert resend(stack, "b")[0] == 201
    assert [row["resendKey"] for row in sandbox.resends] == [key_of(sandbox, "b")]


# -- absence means "not sent" only when it can be trusted ---------------------------------------------------

HOUR = 3600


def repeat(stack, reference: str) -> tuple[int, dict]:
    return post_message(stack, order(reference))


def test_activity_15_minutes_late_never_sends_twice_and_is_confirmed_when_it_shows(stack, sandbox, clock):
    sandbox.activity_delay_seconds = 900
    sandbox.inject("send", "502_after")
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1
    view = state(stack, "r-1")
    assert view["status"] == "unconfirmed" and "proves nothing" in view["failure"]
    status, answer = repeat(stack, "r-1")  # the caller's repeat hears the truth
    assert (status, answer["status"]) == (202, "unconfirmed") and "cannot be confirmed" in answer["detail"]
    clock.advance(HOUR)
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "sent"  # later Activity evidence settles it


def test_the_wait_follows_the_lag_the_probe_measured(stack, sandbox, clock):
    sandbox.activity_delay_seconds = 900
    assert post_message(stack, order("probe"))[0] == 201  # an accepted send becomes the lag probe
    settle(stack, clock, rounds=8)  # the reconciler looks for its row every round until it shows
    sandbox.inject("send", "502_after")
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock, rounds=40)  # pending, not alarmed, for four times the longest lag measured
    assert emails(sandbox)["r-1"] == 1
    view = state(stack, "r-1")
    assert view["status"] == "sent" and [a["resolvedBy"] for a in view["attempts"]] == ["activity"]


def test_activity_never_showing_sends_one_email_and_the_send_is_unconfirmed(stack, sandbox, clock):
    sandbox.activity_delay_seconds = float("inf")
    sandbox.inject("send", "500_after", times=3)
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock)
    clock.advance(HOUR)
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "unconfirmed"


@pytest.mark.parametrize(
    ("knob", "value"),
    [("clock_offset_seconds", -10), ("send_date_zone", "America/New_York")],
    ids=["listrak-clock-10-s-behind", "zone-less-dates-in-us-eastern-time"],
)
def test_listrak_dates_off_our_clock_are_still_one_email(stack, sandbox, measured, knob, value):
    setattr(sandbox, knob, value)
    sandbox.inject("send", "502_after")
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, measured)
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "sent"


def test_an_operator_settles_an_unconfirmed_send_either_way(stack, sandbox, clock):
    from listrak_ops.sends import unsettled

    table = stack.refs["Table"]
    sandbox.activity_delay_seconds = float("inf")
    for reference in ("went", "lost"):
        sandbox.inject("send", "500_after" if reference == "went" else "500")
        assert post_message(stack, order(reference))[0] == 202
    settle(stack, clock)
    assert sorted(r.reference for r in unsettled(table, "unconfirmed")) == ["lost", "went"]
    assert settle_word(table, "went", sent=True) == "went: marked sent"
    assert settle_word(table, "lost", sent=False).startswith("lost: will be sent again")
    settle(stack, clock)
    assert (emails(sandbox)["went"], emails(sandbox)["lost"]) == (1, 1)
    assert (state(stack, "went")["status"], state(stack, "lost")["status"]) == ("sent", "sent")
    assert unsettled(table, "unconfirmed") == []
    assert settle_word(table, "lost", sent=False) == "lost: sent, not unconfirmed: nothing changed"


def settle_word(table: str, reference: str, *, sent: bool) -> str:
    from listrak_ops.sends import settle as operator_settle

    return operator_settle(table, reference, sent=sent)


def test_a_message_that_opts_into_send_again_is_sent_again_when_unsure(stack, sandbox, clock, tmp_path):
    catalog = FIXTURE_CATALOG.read_text()
    opted = catalog.replace("[messages.password-reset]\n", '[messages.password-reset]\nambiguous = "send-again"\n')
    assert opted != catalog
    (tmp_path / "catalog.toml").write_text(opted)
    stack.env_overrides["CATALOG_PATH"] = str(tmp_path / "catalog.toml")
    stack.cold_start()
    sandbox.inject("send", "500")  # before acting; Activity never measured: its silence proves nothing
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1 and state(stack, "r-1")["status"] == "sent"


def test_by_default_a_message_is_never_sent_twice_when_unsure(stack, sandbox, clock):
    sandbox.inject("send", "500")
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 0 and state(stack, "r-1")["status"] == "unconfirmed"


# -- Activity refused for good ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_activity_refused_is_alarmed_at_once_and_names_the_missing_permission(stack, sandbox, measured, status):
    sandbox.activity_refused_status = status
    sandbox.inject("send", "502_after")
    assert post_message(stack, order("r-1"))[0] == 202
    (stack.log_dir / "ReconcileFunction.log").unlink(missing_ok=True)
    settle(stack, measured, rounds=2)
    view = state(stack, "r-1")
    assert view["status"] == "unconfirmed" and "Reporting permission" in view["failure"]
    assert emails(sandbox)["r-1"] == 1
    log = (stack.log_dir / "ReconcileFunction.log").read_text()
    assert '"ActivityRefused"' in log and '"SendUnconfirmed"' in log  # the metrics the alarms watch
    lookups = sandbox.stats["activity_requests"]
    settle(stack, measured, rounds=10)  # 25 minutes: no lookup storm, looked at again hourly
    assert sandbox.stats["activity_requests"] - lookups <= 4


# -- bounds that protect DynamoDB are counted in bytes, as DynamoDB counts them ---------------------------


def test_an_order_under_the_character_bound_but_over_dynamodb_s_item_size_is_a_400_and_nothing_is_sent(
    stack, sandbox, clock
):
    item = {"ProductName": "€" * 1900, "Quantity": 1, "ItemPrice": "$1.00", "ImageURL": "https://i/1.png"}
    body = {
        "emailAddress": "big@example.com",
        "message": "order-confirmation",
        "fields": {"firstName": "Jane", "orderNumber": "1001"},
        "items": [item] * 44,  # about 188,000 characters, about 520 KB in UTF-8
        "reference": "big-1",
    }
    status, answer = post_message(stack, body)
    assert status == 400, answer
    assert "bytes" in answer["errors"][0]["message"] and "DynamoDB" in answer["errors"][0]["message"]
    assert emails(sandbox)["big"] == 0


# -- a resend's Idempotency-Key holds for good ------------------------------------------------------------


def test_a_resend_whose_completion_write_fails_is_never_resent_by_a_repeat_later(stack, sandbox):
    from tests.handlers.test_resend_api import resend, sent

    sent(stack)
    with Fault("dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains='"listrak-resend#'):
        status, body = resend(stack, "reset-1", key="ticket-1")
    assert (status, body["status"]) == (201, "resent") and sandbox.stats["resends"] == 1
    # 31 s later: whatever the guard left in progress has expired (the function's timeout is 30 s)
    table, client = stack.refs["Table"], stack.client("dynamodb")
    for item in client.scan(TableName=table)["Items"]:
        if item["id"]["S"].startswith("listrak-resend#") and "in_progress_expiration" in item:
            client.update_item(
                TableName=table,
                Key={"id": item["id"]},
                UpdateExpression="SET in_progress_expiration = :past",
                ExpressionAttributeValues={":past": {"N": "1"}},
            )
    status, body = resend(stack, "reset-1", key="ticket-1")
    assert sandbox.stats["resends"] == 1, (status, body)
    assert status in (200, 409)


def test_an_item_block_longer_than_its_profile_field_s_max_length_is_a_400_and_nothing_is_sent(stack, sandbox, clock):
    saved = sandbox._messages.get((300001, 7001))
    sandbox.add_list(300001, "Customers")
    sandbox.add_profile_field(300001, 51, "Orders", 5105, "orderItems", max_length=2000)
    sandbox.add_transactional_message(300001, 7001, fields={5101: 100, 5102: 100, 5103: 100, 5104: 100, 5105: 2000})
    try:
        item = {"ProductName": "Linen shirt", "Quantity": 1, "ItemPrice": "$1.00", "ImageURL": "https://i/1.png"}
        body = {
            "emailAddress": "items@example.com",
            "message": "order-confirmation",
            "fields": {"firstName": "Jane", "orderNumber": "1001"},
            "items": [item] * 10,  # about 5,000 characters rendered
            "reference": "items-1",
        }
        status, answer = post_message(stack, body)
        assert status == 400, answer
        assert "maxLength" in answer["errors"][0]["message"] and "2000" in answer["errors"][0]["message"]
        assert emails(sandbox)["items"] == 0
        body["items"], body["reference"] = [item], "items-2"  # within it: sent
        assert post_message(stack, body)[0] == 201
    finally:
        sandbox._messages[(300001, 7001)] = saved
        sandbox._lists.pop(300001, None)
