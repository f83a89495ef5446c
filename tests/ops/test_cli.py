"""listrak-sam against the local stack: each command reads or moves what the stack really holds."""

from __future__ import annotations

import json
import tomllib

import pytest

from listrak_ops.cli import main
from local_stack import ROOT
from tests.conftest import placed_order, post_message


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


def test_send_show_prints_text_for_people_and_never_the_unsettled_payload(stack, sandbox, cli) -> None:
    sandbox.inject("send", "502", times=1)  # Listrak may have acted: the send is pending, its payload kept
    body = {"emailAddress": "jane.doe@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}
    status, answer = post_message(stack, {**body, "reference": "reset-pending"})
    assert status == 202, answer

    code, text, _ = cli("send", "show", "reset-pending")
    assert code == 0
    assert text.splitlines()[0].split() == ["reference", "reset-pending"]
    assert "status            pending" in text and "attempts (1):" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

    code, raw, _ = cli("--json", "send", "show", "reset-pending")
    view = json.loads(raw)
    assert view["status"] == "pending" and "payload" not in view and "attemptToken" not in view
    assert "jane.doe@example.com" not in raw + text and "jane.doe" not in raw + text


def _ids(cli, queue: str) -> list[dict]:
    [found] = [q for q in json.loads(cli("--json", "dlq", "list", "--peek", "10")[1]) if q["queue"] == queue]
    return found["first"]


def test_a_permanent_failure_is_listed_with_its_reference_and_order_and_not_redriven_without_force(
    stack, sandbox, cli
) -> None:
    outcome = stack.invoke_async("SendEventFunction", placed_order(profile={"first_name": "Nobody"}))
    assert outcome.result["status"] == "parked"

    code, out, _ = cli("dlq", "list")
    assert code == 0
    assert "reference order-confirmation/1003, event evt-1003 (Placed Order), order 1003" in out
    assert "PERMANENT parked at once" in out and "detail.profile.email" in out

    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue")
    assert code == 1, out
    assert out.startswith("SendDeadLetterQueue: 0 moved back, 1 kept") and "then --force" in out
    assert "SendDeadLetterQueue: 1 message(s)" in cli("dlq", "list")[1]

    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue", "--force")
    assert code == 0 and "1 moved back" in out  # sent back; still wrong, so the function parks it again
    assert sandbox.stats["sends"] == 0


def test_dry_run_moves_nothing_and_one_message_can_be_redriven_by_its_id(stack, sandbox, cli) -> None:
    sandbox.inject("send", "429", times=1000)  # refused, nothing done: the events fail and are parked
    stack.invoke_async("SendEventFunction", placed_order(unique_id="A-1"))
    stack.invoke_async("SendEventFunction", placed_order(unique_id="B-2"))
    sandbox.reset()
    parked = _ids(cli, "SendDeadLetterQueue")
    assert len(parked) == 2 and not any(p["permanent"] for p in parked)

    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue", "--dry-run")
    assert code == 0 and out.startswith("SendDeadLetterQueue: 2 would move back, 0 kept"), out
    assert sandbox.stats["sends"] == 0 and len(_ids(cli, "SendDeadLetterQueue")) == 2

    [first] = [p for p in parked if "order-confirmation/A-1" in p["about"]]
    code, out, _ = cli("dlq", "redrive", "SendDeadLetterQueue", "--message-id", first["id"])
    assert code == 0 and out.startswith("SendDeadLetterQueue: 1 moved back, 0 kept"), out
    assert sandbox.stats["sends"] == 1
    [left] = _ids(cli, "SendDeadLetterQueue")
    assert "order-confirmation/B-2" in left["about"]


def test_delete_removes_one_message_by_its_id_and_an_unknown_id_is_one_line(stack, cli) -> None:
    sqs = stack.client("sqs")
    dlq = stack.refs["ImportDeadLetterQueue"]
    sqs.send_message(QueueUrl=dlq, MessageBody='{"key": "orders/keep.csv", "part": 2}')
    sqs.send_message(QueueUrl=dlq, MessageBody='{"key": "orders/drop.csv", "part": 1}')
    parked = _ids(cli, "ImportDeadLetterQueue")
    assert {p["about"] for p in parked} == {"file orders/keep.csv part 2", "file orders/drop.csv part 1"}
    [drop] = [p for p in parked if "drop" in p["about"]]

    code, out, _ = cli("dlq", "delete", "ImportDeadLetterQueue", drop["id"], "--dry-run")
    assert code == 0 and "would delete" in out and len(_ids(cli, "ImportDeadLetterQueue")) == 2
    code, out, _ = cli("dlq", "delete", "ImportDeadLetterQueue", drop["id"])
    assert code == 0 and out.startswith(f"ImportDeadLetterQueue: deleted {drop['id']} (file orders/drop.csv part 1)")
    assert [p["about"] for p in _ids(cli, "ImportDeadLetterQueue")] == ["file orders/keep.csv part 2"]

    code, _, err = cli("dlq", "delete", "ImportDeadLetterQueue", "no-such-id")
    assert (
        code == 2
        and err.strip() == "no message no-such-id in ImportDeadLetterQueue (listrak-sam dlq list shows their ids)"
    )
