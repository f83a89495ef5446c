"""listrak-sam privacy list|show|lift against the local stack: the audit as recorded, and a tombstone lifted."""

from __future__ import annotations

import json

from tests.handlers.test_imports import drop, jsonl
from tests.handlers.test_privacy import JANE, PRIVACY_ARN, forget, sweep

CUSTOMER = {"email": JANE, "firstName": "Jane", "registered": True}


def imported(sandbox) -> list[str]:
    return [r["email"] for body in sandbox.data_imports["Customer"] for r in body]


def test_list_show_and_lift(stack, sandbox, cli):
    stack.env_overrides.update({"PRIVACY_CALL_SPACING_SECONDS": "0", "PRIVACY_POLL_SECONDS": "0"})
    request_id = forget(stack, {"emailAddress": JANE})[1]["requestId"]
    sweep(stack)
    sandbox.advance(600)
    sweep(stack)

    code, out, _ = cli("privacy", "list")
    assert code == 0
    assert request_id in out and "forget  complete" in out and "asked by iam:arn:aws:sts" in out
    assert "completed 20" in out and JANE not in out
    code, out, _ = cli("--json", "privacy", "show", request_id)
    view = json.loads(out)
    assert code == 0 and view["requestedBy"] == "iam:" + PRIVACY_ARN.replace("dpo@", "d***@")
    assert view["completedAt"] and view["listrakStatus"] == "COMPLETE"
    assert cli("privacy", "show", "0b9e5a40-0000-4000-8000-000000000000")[0] == 1

    drop(stack, "customers/before-lift.jsonl", jsonl(CUSTOMER))
    assert imported(sandbox) == []  # refused as forgotten

    code, out, err = cli("privacy", "lift", "--email", JANE.upper())
    assert code == 0, err
    assert "tombstone lifted" in out and "lift  complete" in out and JANE not in out.lower()
    stack.cold_start("ImportFunction")
    drop(stack, "customers/after-lift.jsonl", jsonl(CUSTOMER))
    assert imported(sandbox) == [JANE]
    kinds = [v["kind"] for v in json.loads(cli("--json", "privacy", "list")[1])]
    assert sorted(kinds) == ["forget", "lift"]
    assert cli("privacy", "lift")[0] == 2
