"""listrak-sam against the local stack: each command reads or moves what the stack really holds."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib

import pytest

from listrak_ops.cli import main
from local_stack import ROOT
from local_stack.stack import LocalStack
from tests.conftest import placed_order, post_message


@pytest.fixture
def cli(stack, monkeypatch):
    """Runs `listrak-sam --local ...` in-process against the test's local stack; returns (exit code, out, err)."""
    for name, url in stack.listrak_urls.items():
        monkeypatch.setenv(name, url)
    attach = LocalStack.attach

    def attach_with_the_test_s_settings(self: LocalStack) -> LocalStack:
        self.env_overrides.update(stack.env_overrides)  # short Listrak retries, as the test's own stack has
        return attach(self)

    monkeypatch.setattr(LocalStack, "attach", attach_with_the_test_s_settings)

    def run(*argv: str) -> tuple[int, str, str]:
        # Not capsys: a handler imported during the command keeps the stdout it saw, which capsys closes after
        # the test, and the next test's invocations would write to a closed file.
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--local", *argv])
        return code, out.getvalue(), err.getvalue()

    return run


def test_version_is_the_installed_project_s(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert capsys.readouterr().out.strip() == f"listrak-sam {version}"


def test_send_show_prints_the_send_s_state_and_resend_history_without_the_address(stack, sandbox, cli) -> None:
    sandbox.resend_key_in_send_response = True  # resendable at once, without waiting for Listrak's activity
    body = {"emailAddress": "jane.doe@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}
    status, sent = post_message(stack, {**body, "reference": "reset-42"})
    assert status == 201, sent
    resent = stack.invoke("ResendFunction", _resend_event("reset-42"))
    assert resent["statusCode"] == 201, resent

    code, out, _ = cli("--json", "send", "show", "reset-42")

    assert code == 0
    view = json.loads(out)
    assert view["reference"] == "reset-42" and view["status"] == "sent"
    assert view["resendCount"] == 1 and len(view["resends"]) == 1
    assert "jane.doe@example.com" not in out and view["emailMasked"]


def test_send_show_of_an_unknown_reference_says_so_in_one_line(cli) -> None:
    code, out, err = cli("send", "show", "never-sent")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [err.strip()] and "never-sent" in err


def test_imports_list_shows_each_file_s_manifest_and_first_rejects(stack, cli) -> None:
    lines = (ROOT / "samples/imports/customers/2026-11-22.jsonl").read_bytes()
    stack.drop_file("ImportBucket", "customers/cli.jsonl", lines)
    stack.drain("ImportQueue")

    code, out, _ = cli("imports", "list", "--rejects", "1")

    assert code == 0, out
    [summary, *details] = out.strip().splitlines()
    assert summary.startswith("customers/cli.jsonl") and "results/customers/cli.jsonl.manifest.json" in summary
    manifest = json.loads(cli("--json", "imports", "list")[1])[0]["manifest"]
    assert manifest["rejected"] >= 2  # the sample holds several bad lines: one is shown, the rest counted
    assert f"rejected {manifest['rejected']}" in summary
    assert details[0].startswith("  line 3: customerNumber:")
    assert details[-1].startswith("  ... and ") and details[-1].endswith("more rejected line(s)")


def test_dlq_list_shows_counts_and_reasons_and_redrive_sends_the_event_again(stack, sandbox, cli) -> None:
    sandbox.inject("send", "429", times=100)
    parked = stack.invoke_async("SendEventFunction", placed_order())
    assert parked.parked_in and sandbox.stats["sends"] == 0

    code, out, _ = cli("dlq", "list")
    assert code == 0
    assert "SendDeadLetterQueue: 1 message(s)" in out
    assert "ImportDeadLetterQueue: 0 message(s) (fed by listrak-local-ImportQueue)" in out
    assert "[function -> arn:aws:lambda:" in out and "ListrakUnavailable" in out

    sandbox.reset()  # Listrak is back
    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue")

    assert code == 0, out
    assert out.startswith("SendDeadLetterQueue: 1 moved back, 0 kept")
    assert sandbox.stats["sends"] == 1
    assert "SendDeadLetterQueue: 0 message(s)" in cli("dlq", "list")[1]


def test_dlq_redrive_keeps_what_fails_again_parked_once(stack, sandbox, cli) -> None:
    sandbox.inject("send", "429", times=1000)
    stack.invoke_async("SendEventFunction", placed_order())

    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue")

    # Lambda took the event again and it failed again: it is parked anew, the old copy is gone.
    assert code == 0, out
    assert "failed again (ListrakUnavailable" in out and "parked again" in out
    assert "SendDeadLetterQueue: 1 message(s)" in cli("dlq", "list")[1]


def test_dlq_redrive_puts_a_given_up_import_part_back_on_its_queue(stack, cli) -> None:
    sqs = stack.client("sqs")
    dlq, source = stack.refs["ImportDeadLetterQueue"], stack.refs["ImportQueue"]
    sqs.send_message(QueueUrl=dlq, MessageBody='{"key": "orders/x.csv", "part": 1}')

    code, out, _ = cli("dlq", "redrive", "ImportDeadLetterQueue")

    assert code == 0, out
    assert "1 moved back" in out and "back on listrak-local-ImportQueue" in out
    [moved] = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(moved["Body"]) == {"key": "orders/x.csv", "part": 1}


def test_dlq_redrive_of_an_unknown_queue_names_the_ones_there_are(cli) -> None:
    code, _, err = cli("dlq", "redrive", "NoSuchQueue")
    assert code == 2 and "ImportDeadLetterQueue, SendDeadLetterQueue" in err


def test_imports_resume_of_a_file_never_imported_says_why_not(stack, cli) -> None:
    stack.client("s3").put_object(Bucket=stack.refs["ImportBucket"], Key="orders/never.csv", Body=b"orderNumber\n1\n")

    code, out, _ = cli("imports", "resume", "orders/never.csv")

    assert code == 1
    assert out.startswith("orders/never.csv: not resumed:") and "never imported" in out


def test_imports_resume_imports_a_failed_file_again(stack, sandbox, cli) -> None:
    stack.env_overrides.update(
        {
            "IMPORT_MAX_RECEIVES": "2",
            "IMPORT_RETRY_ATTEMPTS": "1",
            "IMPORT_RETRY_BUDGET_SECONDS": "1",
            "LISTRAK_RETRY_BUDGET_SECONDS": "1",
        }
    )
    key = "customers/outage.jsonl"
    sandbox.inject("data", "503", times=10_000)  # Listrak down for good: the part fails, then the file
    stack.drop_file("ImportBucket", key, b'{"email": "a@example.com", "customerNumber": "C-1"}\n')
    stack.drain("ImportQueue")
    listed = cli("--json", "imports", "list")
    assert json.loads(listed[1])[0]["manifest"]["state"] == "failed", listed

    sandbox.reset()  # Listrak is back
    code, out, _ = cli("imports", "resume", key)
    assert code == 0, out
    assert out.startswith(f"{key}: resumed")
    stack.drain("ImportQueue")

    code, out, _ = cli("imports", "list")
    assert out.startswith(f"{key}  imported  records 1, accepted 1, rejected 0"), out


def _resend_event(reference: str) -> dict:
    from local_stack.api_server import proxy_event

    path = f"/messages/{reference}/resend"
    return proxy_event(
        "POST",
        path,
        {"Content-Type": "application/json"},
        b"{}",
        "/messages/{reference}/resend",
        {"reference": reference},
        "v1",
    )
