"""Every mistake a newcomer makes with the local commands is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json

import pytest

from local_stack import ROOT, import_file, invoke, run
from tests.conftest import BACK_IN_STOCK, FIXTURE_CATALOG

PLACED_ORDER = ROOT / "events" / "eventbridge-1-placed-order.json"
API_SEND = ROOT / "events" / "api-01-order-confirmation.json"
SAMPLE_ORDERS = ROOT / "samples" / "imports" / "orders" / "2026-11-22.csv"


def one_line(capsys, code: int, expected_code: int) -> str:
    out, err = capsys.readouterr()
    assert code == expected_code, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in out + err
    return lines[0]


def test_invoke_with_a_missing_event_file(capsys):
    line = one_line(capsys, invoke.main(["SendApiFunction", "events/nope.json"]), 2)
    assert line.startswith("make invoke: events/nope.json: no such file")


@pytest.mark.parametrize(
    ("text", "says"),
    [("[1, 2]", "an event is a JSON object; this file holds a list"), ('{"a": ', "not valid JSON")],
)
def test_invoke_with_a_file_that_is_not_an_event(capsys, tmp_path, text, says):
    path = tmp_path / "event.json"
    path.write_text(text)
    assert says in one_line(capsys, invoke.main(["SendApiFunction", str(path)]), 2)


def test_invoke_with_an_event_for_another_function_names_the_right_one(capsys):
    line = one_line(capsys, invoke.main(["SendApiFunction", str(PLACED_ORDER)]), 2)
    assert "is an EventBridge event, but SendApiFunction is triggered by API Gateway (POST /messages)" in line
    assert line.endswith(f"make invoke FN=SendEventFunction EVENT={PLACED_ORDER}")


def test_invoke_with_an_event_of_no_known_shape(capsys, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"emailAddress": "jane@example.com"}))
    line = one_line(capsys, invoke.main(["SendEventFunction", str(path)]), 2)
    assert "has no httpMethod (API Gateway), detail-type (EventBridge) or Records (SQS)" in line
    assert line.endswith("SendEventFunction is triggered by EventBridge rule Storefront")


def test_invoke_with_an_unknown_function(capsys):
    line = one_line(capsys, invoke.main(["SendFunction", str(API_SEND)]), 2)
    assert line.startswith("make invoke: no function SendFunction; the template has: SendApiFunction")


def test_a_broken_catalog_is_its_one_line_message(capsys, tmp_path, monkeypatch):
    broken = tmp_path / "catalog.toml"
    broken.write_text("[messages.a]\nlistId = 1\n")
    monkeypatch.setenv("CATALOG_PATH", str(broken))

    for main, command in (
        (run.main, "make run"),
        (lambda argv: invoke.main(["SendApiFunction", *argv]), "make invoke"),
        (lambda argv: import_file.main(["--entity", "orders", str(SAMPLE_ORDERS)]), "make import"),
    ):
        line = one_line(capsys, main([str(API_SEND)]), 2)
        assert line == f"{command}: catalog {broken} is invalid: messages.a.transactionalMessageId: Field required"


@pytest.fixture
def back_in_stock(tmp_path, monkeypatch):
    """A catalog trigger the template's rule does not deliver, and a sample event for it."""
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(FIXTURE_CATALOG.read_text() + BACK_IN_STOCK)
    monkeypatch.setenv("CATALOG_PATH", str(catalog))
    event = json.loads(PLACED_ORDER.read_text())
    event["detail-type"] = "Back In Stock"
    path = tmp_path / "back-in-stock.json"
    path.write_text(json.dumps(event))
    return catalog, path


ADD_IT = (
    "but no rule matches it: add 'Back In Stock' to the detail-type list of rule Storefront of SendEventFunction in "
    "template.yaml"
)


def test_invoke_with_a_catalog_trigger_missing_from_the_rule_says_to_add_it(capsys, back_in_stock):
    catalog, event = back_in_stock
    line = one_line(capsys, invoke.main(["SendEventFunction", str(event)]), 2)
    assert f"{catalog}: messages.back-in-stock has a trigger on detail-type 'Back In Stock', {ADD_IT}" in line


def test_make_run_reports_a_sample_that_does_not_behave_as_designed(
    capsys, tmp_path, back_in_stock, monkeypatch, stack
):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # `stack`: moto's state (one per process) emptied
    _, unrouted = back_in_stock
    sample = json.loads(API_SEND.read_text())
    sample["expected"] = {"outcome": "rejected", "statusCode": 400}  # it is a valid send: it is sent
    wrong = tmp_path / "api-sent-not-rejected.json"
    wrong.write_text(json.dumps(sample))
    undeclared = tmp_path / "undeclared.json"
    undeclared.write_text(json.dumps({k: v for k, v in sample.items() if k != "expected"} | {"body": "{}"}))

    code = run.main([str(wrong), str(unrouted), str(undeclared)])

    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("3 of 3 samples did not behave as designed: ")
    assert "api-sent-not-rejected.json expected rejected 400, got sent 201" in verdict
    assert "back-in-stock.json expected sent, got failed" in verdict
    assert 'undeclared.json declares no "expected" outcome' in verdict
    [unrouted_line] = [line for line in out.splitlines() if line.startswith("back-in-stock.json")]
    assert ADD_IT in unrouted_line


def test_make_run_reports_a_queue_that_holds_what_no_sample_expects(capsys, tmp_path, monkeypatch, stack):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    sample = json.loads((ROOT / "events" / "eventbridge-9-placed-order-without-email.json").read_text())
    sample["expected"] = {"outcome": "rejected"}  # it is rejected, but parked in the dead-letter queue too
    path = tmp_path / "parked.json"
    path.write_text(json.dumps(sample))

    assert run.main([str(path)]) == 1
    verdict = capsys.readouterr().out.strip().splitlines()[-1]
    assert "parked.json expected rejected parked in no queue, got rejected parked in SendDeadLetterQueue" in verdict
    assert "SendDeadLetterQueue holds 1 message(s), the samples expect 0" in verdict


def test_a_door_sample_is_judged_by_what_became_of_its_event_on_the_bus():
    expected = {"outcome": "accepted", "statusCode": 202, "onTheBus": "sent"}
    outcome = run.Outcome("k.json", "HooksFunction", "accepted", "", 202, on_the_bus="sent", expected=expected)
    assert outcome.departure() is None
    outcome.on_the_bus, outcome.parked_in = "rejected", "SendDeadLetterQueue"
    assert outcome.departure() == (
        "expected accepted 202 then sent on the bus parked in no queue, "
        "got accepted 202 then rejected on the bus parked in SendDeadLetterQueue"
    )
