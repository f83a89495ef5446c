"""What a recipient did with a send, as Activity shows it: marked on the sandbox's clock, filtered by activity date
(`dateType=Activity`) and by `activityType`, paged by cursor like any Activity query."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.test_listrak_sandbox import activity, send


@pytest.fixture
def make_sandbox(start_sandbox):
    from tests.sandbox.test_listrak_sandbox import _seed

    return lambda **options: start_sandbox(_seed, **options)


def test_a_bounce_shows_with_its_reason_and_its_activity_date(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    token = sandbox.issue_token("Email")
    send(http, sandbox, token, "ann@example.com")  # 15:00:00
    clock.advance(120)
    sandbox.mark_activity("ann@example.com", "bounce", bounce_reason="Mailbox full")
    [row] = activity(http, sandbox, token).json()["data"]
    assert row["bounce"] is True and row["bounceReason"] == "Mailbox full"
    assert row["activityDate"] == "2026-11-22T15:02:00Z" and row["sendDate"] == "2026-11-22T15:00:00Z"
    assert (row["open"], row["click"], row["abuse"], row["unsubscribe"]) == (False, False, False, False)


def test_date_type_activity_filters_on_the_activity_date(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    token = sandbox.issue_token("Email")
    send(http, sandbox, token, "ann@example.com")
    send(http, sandbox, token, "bob@example.com")
    clock.advance(3600)
    sandbox.mark_activity("bob@example.com", "open")  # 16:00:00
    token = sandbox.issue_token("Email")
    window = {"dateType": "Activity", "startDate": "2026-11-22T15:30:00Z", "endDate": "2026-11-22T16:30:00Z"}
    rows = activity(http, sandbox, token, **window).json()["data"]
    assert [(r["emailAddress"], r["open"]) for r in rows] == [("bob@example.com", True)]
    # by send date (the default), the same window holds neither
    assert activity(http, sandbox, token, startDate=window["startDate"]).json()["data"] == []
    late = {"dateType": "Activity", "startDate": "2026-11-22T16:00:01Z"}
    assert activity(http, sandbox, token, **late).json()["data"] == []


def test_activity_type_keeps_the_rows_with_that_activity(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    token = sandbox.issue_token("Email")
    for address in ("ann@example.com", "bob@example.com", "cy@example.com"):
        send(http, sandbox, token, address)
    sandbox.mark_activity("bob@example.com", "click")
    sandbox.mark_activity("bob@example.com", "click")
    sandbox.mark_activity("cy@example.com", "abuse")
    [row] = activity(http, sandbox, token, activityType="Click").json()["data"]
    assert (row["emailAddress"], row["clickCount"]) == ("bob@example.com", 2)
    [row] = activity(http, sandbox, token, activityType="abuse").json()["data"]
    assert row["emailAddress"] == "cy@example.com"
    refused = activity(http, sandbox, token, activityType="Delivered")
    assert refused.status_code == 400 and "activityType" in refused.json()["message"]


def test_the_first_activity_dates_the_row_and_later_ones_add_to_it(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    token = sandbox.issue_token("Email")
    send(http, sandbox, token)
    clock.advance(60)
    sandbox.mark_activity("ann@example.com", "open")
    clock.advance(60)
    sandbox.mark_activity("ann@example.com", "unsubscribe")
    [row] = activity(http, sandbox, token).json()["data"]
    assert row["activityDate"] == "2026-11-22T15:01:00Z"
    assert row["open"] and row["read"] and row["unsubscribe"]


def test_activity_dates_follow_listraks_clock_and_zone(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    sandbox.clock_offset_seconds = -10
    sandbox.send_date_zone = "America/New_York"
    token = sandbox.issue_token("Email")
    send(http, sandbox, token)
    clock.advance(60)
    sandbox.mark_activity("ann@example.com", "open")
    [row] = activity(http, sandbox, token).json()["data"]
    assert row["activityDate"] == "2026-11-22T10:00:50"


def test_activity_is_marked_through_the_control_route(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    token = sandbox.issue_token("Email")
    send(http, sandbox, token)
    url = f"{sandbox.url}/_sandbox/activity"
    ok = requests.post(url, json={"emailAddress": "ann@example.com", "kind": "bounce", "bounceReason": "x"}, timeout=5)
    assert ok.status_code == 200 and ok.json()["resendKey"]
    assert activity(http, sandbox, token).json()["data"][0]["bounce"] is True
    unknown = requests.post(url, json={"emailAddress": "nobody@example.com", "kind": "open"}, timeout=5)
    assert unknown.status_code == 400
    wrong = requests.post(url, json={"emailAddress": "ann@example.com", "kind": "delivered"}, timeout=5)
    assert wrong.status_code == 400
