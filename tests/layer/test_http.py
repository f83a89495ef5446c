"""The Listrak transport on its own: a fake session, a fake clock, no network."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from listrak_kit.listrak.errors import (
    ListrakNotFound,
    ListrakOutcomeUnknown,
    ListrakRejected,
    ListrakUnauthorized,
    ListrakUnavailable,
)
from listrak_kit.listrak.http import ListrakHttp, RetryPolicy


def answer(status: int, body: str = "{}", headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update(headers or {})
    return response


class FakeSession:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make(*outcomes, policy=None):
    clock = Clock()
    session = FakeSession(*outcomes)
    http = ListrakHttp(
        session=session,
        retry=policy or RetryPolicy(max_attempts=4, retry_budget_seconds=10),
        sleep=clock.sleep,
        monotonic=lambda: clock.now,
        jitter=lambda: 0.5,
    )
    return http, session, clock


def refused_connection():
    return requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))


def dropped_connection():
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


def test_every_call_carries_connect_and_read_timeouts():
    http, session, _ = make(answer(200))
    http.request("GET", "https://x", replay_safe=True)
    assert session.calls[0][2]["timeout"] == (3.05, 10.0)


def test_throttling_proves_nothing_was_done_and_is_retried_even_for_a_send():
    http, session, clock = make(answer(429), answer(429), answer(201, '{"status":201,"resourceId":"x"}'))
    result = http.request("POST", "https://x", replay_safe=False)
    assert result.body == {"status": 201, "resourceId": "x"}
    assert len(session.calls) == 3
    assert clock.sleeps == [0.125, 0.25]  # base 0.25 doubling, times the (fixed) jitter


def test_a_429_with_retry_after_is_retried_for_a_send_after_that_delay():
    http, session, clock = make(answer(429, headers={"Retry-After": "1"}), answer(201, "{}"))
    http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 2 and clock.sleeps == [1.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_on_a_send_is_ambiguous_and_not_repeated(status):
    http, session, clock = make(answer(status), answer(201, "{}"))
    with pytest.raises(ListrakOutcomeUnknown) as caught:
        http.request("POST", "https://x", replay_safe=False)
    assert caught.value.status == status
    assert len(session.calls) == 1 and clock.sleeps == []


def test_a_server_error_after_throttling_is_still_ambiguous():
    http, session, _ = make(answer(429), answer(502), answer(201, "{}"))
    with pytest.raises(ListrakOutcomeUnknown):
        http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_replay_safe_calls_retry_every_server_error_with_growing_jittered_delays(status):
    http, session, clock = make(answer(status), answer(status), answer(201, '{"status":201,"resourceId":"x"}'))
    result = http.request("GET", "https://x", replay_safe=True)
    assert result.body == {"status": 201, "resourceId": "x"}
    assert len(session.calls) == 3
    assert clock.sleeps == [0.125, 0.25]  # base 0.25 doubling, times the (fixed) jitter


def test_retry_after_is_honoured():
    http, _, clock = make(answer(429, headers={"Retry-After": "2"}), answer(200))
    http.request("GET", "https://x", replay_safe=True)
    assert clock.sleeps == [2.0]


def test_retries_stop_at_max_attempts_with_a_clear_error():
    http, session, _ = make(*[answer(429)] * 4)
    with pytest.raises(ListrakUnavailable, match="after 4 attempt"):
        http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 4


def test_retries_never_outlast_the_budget():
    http, session, clock = make(
        answer(429, headers={"Retry-After": "30"}), answer(200), policy=RetryPolicy(retry_budget_seconds=5)
    )
    with pytest.raises(ListrakUnavailable):
        http.request("GET", "https://x", replay_safe=True)
    assert len(session.calls) == 1 and clock.sleeps == []


def test_a_connection_refused_before_sending_is_retried_even_for_a_send():
    http, session, _ = make(refused_connection(), answer(201, "{}"))
    http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 2


def test_a_connect_timeout_is_retried_even_for_a_send():
    http, session, _ = make(requests.ConnectTimeout("slow connect"), answer(201, "{}"))
    http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 2


@pytest.mark.parametrize("failure", [requests.ReadTimeout("late"), dropped_connection()])
def test_a_send_whose_answer_never_came_is_not_repeated(failure):
    http, session, _ = make(failure, answer(201))
    with pytest.raises(ListrakOutcomeUnknown):
        http.request("POST", "https://x", replay_safe=False)
    assert len(session.calls) == 1


@pytest.mark.parametrize("failure", [requests.ReadTimeout("late"), dropped_connection()])
def test_a_read_whose_answer_never_came_is_retried(failure):
    http, session, _ = make(failure, answer(200))
    http.request("GET", "https://x", replay_safe=True)
    assert len(session.calls) == 2


def test_listrak_error_envelopes_become_typed_errors():
    envelope = '{"status":400,"error":"ERROR_SEGMENTATION_FIELD_DEFINED_TWICE","message":"A segmentation field..."}'
    http, _, _ = make(answer(400, envelope))
    with pytest.raises(ListrakRejected) as caught:
        http.request("POST", "https://x", replay_safe=False)
    assert (caught.value.status, caught.value.code) == (400, "ERROR_SEGMENTATION_FIELD_DEFINED_TWICE")
    assert caught.value.detail == "A segmentation field..."


def test_404_and_401_have_their_own_types():
    http, _, _ = make(answer(404, '{"status":404,"error":"ERROR_UNABLE_TO_LOCATE_RESOURCE","message":"m"}'))
    with pytest.raises(ListrakNotFound):
        http.request("GET", "https://x", replay_safe=True)
    http, session, _ = make(answer(401, '{"status":401,"error":"ERROR_UNAUTHORIZED","message":"m"}'))
    with pytest.raises(ListrakUnauthorized):
        http.request("GET", "https://x", replay_safe=True)
    assert len(session.calls) == 1  # a 401 is for the token layer, not for blind retries


def test_an_error_without_an_envelope_still_gets_a_code():
    http, _, _ = make(answer(400, "<html>bad</html>"))
    with pytest.raises(ListrakRejected) as caught:
        http.request("GET", "https://x", replay_safe=True)
    assert caught.value.code == "HTTP_400"
