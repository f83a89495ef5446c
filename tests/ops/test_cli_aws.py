"""listrak-sam against a stack by name: its resources are found through CloudFormation (moto's, here)."""

from __future__ import annotations

import json

from listrak_ops.cli import main

STACK_TEMPLATE = {
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            },
        },
        "ImportBucket": {"Type": "AWS::S3::Bucket"},
        "ImportDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
        "ImportQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": 5,
                }
            },
        },
    }
}


def test_a_deployed_stack_s_queues_and_buckets_are_found_by_its_name(stack, capsys) -> None:
    cfn, sqs = stack.client("cloudformation"), stack.client("sqs")
    cfn.create_stack(StackName="ops-test", TemplateBody=json.dumps(STACK_TEMPLATE))
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName="ops-test")["StackResources"]
    }
    sqs.send_message(QueueUrl=resources["ImportDeadLetterQueue"], MessageBody='{"key": "orders/a.csv", "part": 1}')

    assert main(["--stack", "ops-test", "dlq", "list"]) == 0
    out = capsys.readouterr().out
    fed_by = resources["ImportQueue"].rsplit("/", 1)[-1]
    assert f"ImportDeadLetterQueue: 1 message(s) (fed by {fed_by})" in out
    assert "given up by its queue" in out

    assert main(["--stack", "ops-test", "imports", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no import results in stack ops-test"

    assert main(["--stack", "ops-test", "dlq", "redrive", "ImportDeadLetterQueue"]) == 0
    assert "1 moved back" in capsys.readouterr().out
    [moved] = sqs.receive_message(QueueUrl=resources["ImportQueue"])["Messages"]
    assert json.loads(moved["Body"]) == {"key": "orders/a.csv", "part": 1}


def test_a_stack_that_does_not_exist_is_one_line_and_exit_2(stack, capsys) -> None:
    assert main(["--stack", "no-such-stack", "dlq", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stack no-such-stack:") and "--local" in err and len(err.splitlines()) == 1
