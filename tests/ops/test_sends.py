"""listrak-sam send list and send logs: what on-call reaches for, against the local stack."""

from __future__ import annotations

import json

from listrak_ops.sends import logs_query
from tests.conftest import post_message

JANE = {"emailAddress": "jane.doe@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}


def test_send_list_shows_the_sends_in_one_state_newest_first_without_addresses(stack, sandbox, cli) -> None:
    assert post_message(stack, {**JANE, "reference": "ok-1"})[0] == 201
    sandbox.inject("send", "502", times=2)  # Listrak may have acted: both pending
    assert post_message(stack, {**JANE, "reference": "unsure-1"})[0] == 202
    assert post_message(stack, {**JANE, "reference": "unsure-2"})[0] == 202

    code, out, _ = cli("send", "list", "--status", "pending")
    assert code == 0
    assert [line.split()[0] for line in out.strip().splitlines()] == ["unsure-2", "unsure-1"]
    assert "j***@example.com" in out and "jane.doe" not in out

    code, raw, _ = cli("--json", "send", "list", "--status", "pending", "--limit", "1")
    [view] = json.loads(raw)
    assert view["reference"] == "unsure-2" and "payload" not in view and "jane.doe" not in raw

    code, out, _ = cli("send", "list", "--status", "failed")
    assert code == 0 and out.strip().startswith("no failed sends in the local stack")


def test_send_logs_finds_every_function_s_lines_about_one_reference(stack, sandbox, cli) -> None:
    assert post_message(stack, {**JANE, "reference": "traced-7"})[0] == 201
    assert post_message(stack, {**JANE, "reference": "other-8"})[0] == 201

    code, out, _ = cli("send", "logs", "traced-7")

    assert code == 0
    lines = out.strip().splitlines()
    assert lines and all(line.startswith("SendApiFunction: ") for line in lines)
    assert any('"reference":"traced-7"' in line.replace(" ", "") for line in lines)
    assert "other-8" not in out and "jane.doe" not in out


def test_send_logs_print_gives_the_insights_query_for_the_console(cli) -> None:
    code, out, _ = cli("send", "logs", "order-confirmation/1003", "--print")
    assert code == 0
    assert 'filter reference = "order-confirmation/1003"' in out and out.startswith("# CloudWatch Logs Insights")
    assert logs_query('x"y').splitlines()[1] == '| filter reference = "x\\"y" or @message like "x\\"y"'


class FakeLogs:
    def __init__(self, statuses: list[str]):
        self.statuses, self.started, self.stopped = statuses, {}, False

    def start_query(self, **kwargs):
        self.started = kwargs
        return {"queryId": "q-1"}

    def get_query_results(self, queryId):
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        row = [
            {"field": "@timestamp", "value": "t"},
            {"field": "message", "value": "sent"},
            {"field": "@ptr", "value": "p"},
        ]
        return {"status": status, "results": [row] if status == "Complete" else []}

    def stop_query(self, queryId):
        self.stopped = True


def _stack(logs):
    from listrak_ops.stack import StackResources

    return StackResources(
        where="stack s",
        table="t",
        import_bucket="b",
        queues={},
        function_env=lambda _: {},
        invoke_async=lambda *_: (False, ""),
        client=lambda _: logs,
        log_groups=["/aws/lambda/a", "/aws/lambda/b"],
    )


def test_the_insights_query_runs_over_every_log_group_and_waits_within_a_bound() -> None:
    import pytest

    from listrak_ops.sends import QUERY_TIMEOUT_SECONDS, QueryFailed, run_logs_query

    logs = FakeLogs(["Running", "Complete"])
    now = [1_000_000.0]
    rows = run_logs_query(_stack(logs), "r-1", since_seconds=3600, clock=lambda: now[0], sleep=lambda s: None)
    assert rows == [{"@timestamp": "t", "message": "sent"}]
    assert logs.started["logGroupNames"] == ["/aws/lambda/a", "/aws/lambda/b"]
    assert logs.started["startTime"] == 1_000_000 - 3600

    stuck = FakeLogs(["Running"])

    def slow_sleep(seconds: float) -> None:
        now[0] += QUERY_TIMEOUT_SECONDS

    with pytest.raises(QueryFailed, match="did not finish"):
        run_logs_query(_stack(stuck), "r-1", since_seconds=60, clock=lambda: now[0], sleep=slow_sleep)
    assert stuck.stopped


def test_send_redirect_is_signed_with_the_operator_s_key_and_reaches_the_new_address(
    stack, sandbox, cli, api, monkeypatch
) -> None:
    sandbox.resend_key_in_send_response = True
    body = {"emailAddress": "jane.doe@example.com", "message": "order-confirmation", "fields": {"firstName": "Jane"}}
    assert post_message(stack, {**body, "reference": "order-77"})[0] == 201
    url, _key = api
    monkeypatch.setenv("LOCAL_API_URL", url)

    monkeypatch.delenv("LOCAL_SUPPORT_SECRET", raising=False)
    code, _, err = cli("send", "redirect", "order-77", "--to", "jane@example.org")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "LOCAL_SUPPORT_SECRET" in err

    monkeypatch.setenv("LOCAL_SUPPORT_SECRET", "not-the-secret")
    code, out, _ = cli("send", "redirect", "order-77", "--to", "jane@example.org")
    assert code == 1 and out.startswith("order-77: 403"), out
    assert sandbox.stats["resends"] == 0

    monkeypatch.setenv("LOCAL_SUPPORT_SECRET", stack.support.secret_access_key)
    code, out, _ = cli("send", "redirect", "order-77", "--to", "jane@example.org")
    assert code == 0 and out.startswith("order-77: 201"), out
    assert "(to j***@example.org)" in out and "jane@example.org" not in out
    assert sandbox.stats["resends"] == 1
    assert [r["emailAddress"] for r in sandbox.resends] == ["jane@example.org"]


def test_send_resend_goes_to_the_original_address_through_the_signed_support_route(
    stack, sandbox, cli, api, monkeypatch
) -> None:
    sandbox.resend_key_in_send_response = True
    body = {"emailAddress": "jane.doe@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}
    body["fields"]["passwordResetLink"] = "https://shop.example.com/reset/1"
    assert post_message(stack, {**body, "reference": "reset-88"})[0] == 201
    monkeypatch.setenv("LOCAL_API_URL", api[0])
    monkeypatch.setenv("LOCAL_SUPPORT_SECRET", stack.support.secret_access_key)

    code, out, _ = cli("send", "resend", "reset-88")

    # A password reset may not be redirected, but it may be resent to its owner.
    assert code == 0 and out.startswith("reset-88: 201") and "(to the original address)" in out, out
    assert [r["emailAddress"] for r in sandbox.resends] == ["jane.doe@example.com"]
    shown = json.loads(cli("--json", "send", "show", "reset-88")[1])
    assert [r["redirected"] for r in shown["resends"]] == [False]


def test_send_show_and_history_print_delivery_found_by_the_address_fingerprint(stack, sandbox, cli) -> None:
    sandbox.activity_delay_seconds = 0
    # Two sends to one address minutes apart: a row is either's only when its resendKey says whose it is.
    sandbox.resend_key_in_send_response = True
    assert post_message(stack, {**JANE, "reference": "jane-1"})[0] == 201
    sandbox.mark_activity("jane.doe@example.com", "bounce", bounce_reason="Mailbox full")
    assert post_message(stack, {**JANE, "reference": "jane-2"})[0] == 201
    other = {**JANE, "emailAddress": "bo@example.com", "reference": "bo-1"}
    assert post_message(stack, other)[0] == 201
    stack.fire_schedule("DeliveryFunction", "Poll")

    code, out, _ = cli("send", "show", "jane-1")
    assert code == 0 and "delivery          bounced (Mailbox full)" in out

    code, out, err = cli("send", "history", "--email", "jane.doe@example.com")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "sends to j***@example.com:"
    assert [line.split()[0] for line in lines[1:]] == ["jane-2", "jane-1"]
    assert "delivery bounced (Mailbox full)" in lines[2] and "delivery sent" in lines[1]
    assert "jane.doe" not in out and "bo-1" not in out

    code, raw, _ = cli("--json", "send", "history", "--email", "JANE.DOE@example.com")
    assert [v["delivery"]["status"] for v in json.loads(raw)] == ["sent", "bounced"] and "jane.doe" not in raw
