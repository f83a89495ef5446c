"""Activity's model of time: a delay per send (drawn, or never), rows dated late or by a clock that is off, and
dates written without a zone in the account's local time."""

from __future__ import annotations

import itertools

import pytest

from tests.sandbox.test_listrak_sandbox import activity, send


@pytest.fixture
def make_sandbox(start_sandbox):
    from tests.sandbox.test_listrak_sandbox import _seed

    return lambda **options: start_sandbox(_seed, **options)


def test_each_send_draws_its_own_activity_delay(http, make_sandbox, clock):
    sandbox = make_sandbox()
    sandbox.activity_delay_draw = itertools.cycle([10.0, 900.0]).__next__
    access_token = sandbox.issue_token("Email")
    send(http, sandbox, access_token, "ann@example.com")
    send(http, sandbox, access_token, "bob@example.com")
    clock.advance(11)
    assert [r["emailAddress"] for r in activity(http, sandbox, access_token).json()["data"]] == ["ann@example.com"]
    clock.advance(900)
    assert len(activity(http, sandbox, access_token).json()["data"]) == 2


def test_a_send_activity_never_shows(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=float("inf"))
    access_token = sandbox.issue_token("Email")
    send(http, sandbox, access_token)
    clock.advance(86400 * 29)
    assert activity(http, sandbox, sandbox.issue_token("Email")).json()["data"] == []
    assert sandbox.stats["sends"] == 1


def test_rows_dated_by_a_clock_behind_and_after_the_queue(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    sandbox.clock_offset_seconds = -10
    sandbox.send_date_lag_seconds = 3
    access_token = sandbox.issue_token("Email")
    send(http, sandbox, access_token)  # at 2026-11-22 15:00:00 UTC
    [row] = activity(http, sandbox, access_token).json()["data"]
    assert row["sendDate"] == "2026-11-22T14:59:53Z"
    before = activity(http, sandbox, access_token, startDate="2026-11-22T14:59:54Z").json()["data"]
    assert before == []  # Listrak filters on the date it shows


def test_dates_without_a_zone_in_the_accounts_local_time(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=0)
    sandbox.send_date_zone = "America/New_York"
    access_token = sandbox.issue_token("Email")
    send(http, sandbox, access_token)
    [row] = activity(http, sandbox, access_token).json()["data"]
    assert row["sendDate"] == "2026-11-22T10:00:00"  # EST, UTC-5, and no zone written


def test_a_503_after_acting_records_the_send(http, make_sandbox, clock):
    sandbox = make_sandbox()
    sandbox.inject("send", "503_after")
    access_token = sandbox.issue_token("Email")
    assert send(http, sandbox, access_token).status_code == 503
    assert sandbox.stats["sends"] == 1


@pytest.mark.parametrize("status", [401, 403])
def test_an_integration_without_reporting_is_refused_activity_but_sends(http, make_sandbox, status):
    sandbox = make_sandbox()
    sandbox.activity_refused_status = status
    access_token = sandbox.issue_token("Email")
    assert send(http, sandbox, access_token).status_code == 201
    assert activity(http, sandbox, access_token).status_code == status
