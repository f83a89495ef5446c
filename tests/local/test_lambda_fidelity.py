"""The local stack invokes functions as Lambda does where the product's promises rest on it: which
EventInvokeConfig an invocation gets (the alias's or the function's own), and when a loop through SQS is stopped."""

from __future__ import annotations

import dataclasses
import json

import pytest

from local_stack import ROOT
from local_stack.runtime import FakeLambdaContext

CHUNKS = 20  # more invocations in one chain than Lambda's limit of 16


def failing_shopify_event(sandbox):
    """A good order event while Listrak refuses every send (429: nothing done): each attempt fails, transiently."""
    sandbox.inject("send", "429", times=10_000)
    event = json.loads((ROOT / "events" / "shopify-1-orders-create.json").read_text())
    event.pop("expected", None)
    return event


def parked(stack, queue="SendDeadLetterQueue"):
    answer = stack.client("sqs").receive_message(QueueUrl=stack.refs[queue], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_a_rule_that_targets_the_bare_function_gets_none_of_the_alias_s_retries_or_dead_letter_queue(
    stack, sandbox, monkeypatch
):
    [target] = stack.template.resources["ShopifyWebhookRule"]["Properties"]["Targets"]
    monkeypatch.setitem(target, "Arn", {"Fn::GetAtt": ["SendEventFunction", "Arn"]})  # $LATEST

    [(function, outcome)] = stack.publish(failing_shopify_event(sandbox), "ShopifyEventBus")

    assert function == "SendEventFunction" and outcome.error is not None
    assert outcome.attempts == 3  # Lambda's own default for a function without a config: two retries
    assert outcome.parked_in is None  # and then the event is gone
    assert parked(stack) == []


@pytest.mark.parametrize(
    "arn",
    [
        {"Ref": "SendEventFunction.Alias"},
        {"Ref": "SendEventFunctionAliaslive"},
        {"Fn::Sub": "${SendEventFunction.Arn}:live"},
    ],
    ids=["alias-ref", "alias-logical-id", "qualified-arn"],
)
def test_a_rule_that_targets_the_live_alias_gets_its_retries_then_its_dead_letter_queue(
    stack, sandbox, monkeypatch, arn
):
    [target] = stack.template.resources["ShopifyWebhookRule"]["Properties"]["Targets"]
    monkeypatch.setitem(target, "Arn", arn)

    [(function, outcome)] = stack.publish(failing_shopify_event(sandbox), "ShopifyEventBus")

    assert function == "SendEventFunction" and outcome.attempts == 3
    assert outcome.parked_in == stack.refs["SendDeadLetterQueue"]
    [record] = parked(stack)
    assert record["requestContext"]["functionArn"].endswith(":function:SendEventFunction:live")


@pytest.fixture
def one_chunk_per_invocation(stack, monkeypatch):
    """Each import part invocation has time for one chunk, then hands the part over through the queue."""

    def remaining(context):
        asked = context.__dict__["asked"] = context.__dict__.get("asked", 0) + 1
        return 900_000 if asked == 1 else 1_000

    monkeypatch.setattr(FakeLambdaContext, "get_remaining_time_in_millis", remaining)
    stack.env_overrides["IMPORT_CHUNK_MAX_RECORDS"] = "1"
    return stack


def drop_long_import(stack):
    body = "".join(json.dumps({"sku": f"S-{n}"}) + "\n" for n in range(CHUNKS)).encode()
    [(_, outcome)] = stack.drop_file("ImportBucket", "products/long.jsonl", body)
    assert outcome.error is None, outcome.error
    stack.drain("ImportQueue")


def imported(sandbox):
    return [record["sku"] for body in sandbox.data_imports.get("Product", []) for record in body]


def test_a_function_that_feeds_its_own_queue_is_stopped_after_lambda_s_hop_limit(
    one_chunk_per_invocation, sandbox, monkeypatch
):
    stack = one_chunk_per_invocation
    spec = stack.functions["ImportFunction"]
    monkeypatch.setitem(stack.functions, "ImportFunction", dataclasses.replace(spec, recursive_loop="Terminate"))

    drop_long_import(stack)

    # The plan is the chain's first invocation; 15 part invocations follow; the 17th invocation never happens.
    assert imported(sandbox) == [f"S-{n}" for n in range(15)]
    [stopped] = parked(stack, "ImportDeadLetterQueue")
    assert stopped["key"] == "products/long.jsonl"
    assert "recursive loop" in (stack.log_dir / "ImportFunction.log").read_text()


def test_a_long_import_runs_to_its_end_however_many_times_its_parts_hand_over(one_chunk_per_invocation, sandbox):
    stack = one_chunk_per_invocation

    drop_long_import(stack)

    assert imported(sandbox) == [f"S-{n}" for n in range(CHUNKS)]
    assert parked(stack, "ImportDeadLetterQueue") == []
    body = stack.client("s3").get_object(
        Bucket=stack.refs["ImportBucket"], Key="results/products/long.jsonl.manifest.json"
    )["Body"]
    assert json.loads(body.read())["state"] == "imported"
