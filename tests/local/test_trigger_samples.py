"""A sample event for every trigger the template wires to a function other than the API and the storefront bus
(S3 through EventBridge, the SQS queue, the schedules), in events/triggers/<Function>.<Event>.json: what
`make invoke` and `sam local invoke -e` take, each run here against the local stack."""

from __future__ import annotations

import json

import pytest

from local_stack import ROOT, TEMPLATE
from local_stack.invoke import main as make_invoke
from local_stack.template import Template

TRIGGERS = ROOT / "events" / "triggers"
COVERED = {"ScheduleV2", "SQS", "EventBridgeRule"}


def wired() -> list[tuple[str, str, dict]]:
    """(function, event name, event) for every trigger of a covered kind, but the storefront bus's rule."""
    found = []
    for logical_id, spec in Template.load(TEMPLATE, {}).functions().items():
        for name, event in spec.events.items():
            props = event.get("Properties", {})
            if event.get("Type") in COVERED and "EventBusName" not in props:
                found.append((logical_id, name, event))
    return found


def test_every_trigger_has_its_sample_and_no_sample_is_stale():
    expected = {f"{function}.{name}.json" for function, name, _ in wired()}
    assert expected, "the template wires no S3, SQS or schedule trigger?"
    assert {p.name for p in TRIGGERS.glob("*.json")} == expected


@pytest.mark.parametrize(("function", "name", "event"), wired(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_trigger_sample_is_what_the_trigger_hands_its_function(function, name, event):
    sample = json.loads((TRIGGERS / f"{function}.{name}.json").read_text(encoding="utf-8"))
    props = event["Properties"]
    if event["Type"] == "ScheduleV2":  # EventBridge Scheduler passes the schedule's Input as it is
        assert sample == json.loads(props["Input"])
    elif event["Type"] == "SQS":
        [record] = sample["Records"]
        assert record["eventSource"] == "aws:sqs" and json.loads(record["body"])
    else:  # an S3 notification through EventBridge, as the rule's pattern selects it
        pattern = props["Pattern"]
        assert sample["source"] in pattern["source"] and sample["detail-type"] in pattern["detail-type"]


@pytest.mark.parametrize("sample", sorted(p.name for p in TRIGGERS.glob("*.json")))
def test_make_invoke_runs_each_trigger_sample(sample, stack, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCAL_STACK_STATE", str(stack.log_dir / "no-running-stack.json"))
    function = sample.split(".")[0]

    code = make_invoke([function, str(TRIGGERS / sample)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "errorType" not in out, out
