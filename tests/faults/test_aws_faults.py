"""The AWS half of the fault matrix: DynamoDB throttling, Secrets Manager outages, S3 objects vanishing.

Faults are injected with botocore's own event hooks on the clients the functions use, so everything above the
wire (botocore's retries, Powertools, our code) runs as it would against a failing AWS service.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import post_message, storefront_event
from tests.faults.aws_faults import Fault

ORDER = {
    "emailAddress": "jane.doe@example.com",
    "message": "password-reset",
    "fields": {"firstName": "Jane", "passwordResetLink": "https://r/1"},
    "reference": "reset-1",
}


def test_dynamodb_throttled_briefly_is_retried_and_the_send_succeeds(stack, sandbox):
    with Fault("dynamodb", "ProvisionedThroughputExceededException", times=2) as fault:
        status, _ = post_message(stack, ORDER)
    assert status == 201 and fault.hits == 2
    assert sandbox.stats["sends"] == 1


def test_dynamodb_unavailable_is_a_503_and_nothing_is_sent(stack, sandbox):
    with Fault("dynamodb", "ProvisionedThroughputExceededException"):
        status, body = post_message(stack, ORDER)
    # The record cannot be read back, so its first write is not known to have failed: an honest answer.
    assert status == 503 and "repeat the request with the same reference" in body["message"]
    assert sandbox.stats["sends"] == 0
    assert post_message(stack, ORDER)[0] == 201  # and the same reference sends once DynamoDB is back


def test_secrets_manager_down_on_a_cold_container_is_a_503_and_nothing_is_sent(stack, sandbox):
    with Fault("secretsmanager", "InternalServiceError", status=500):
        status, body = post_message(stack, ORDER)
    assert status == 503
    assert sandbox.stats["sends"] == 0 and sandbox.stats["tokens_minted"] == 0


def test_secrets_manager_down_does_not_touch_a_warm_container(stack, sandbox):
    assert post_message(stack, ORDER)[0] == 201
    with Fault("secretsmanager", "InternalServiceError", status=500) as fault:
        status, _ = post_message(stack, {**ORDER, "reference": "reset-2"})
    assert status == 201 and fault.hits == 0


def test_a_token_that_cannot_be_shared_still_sends(stack, sandbox):
    with Fault("secretsmanager", "InternalServiceError", status=500, operation="PutSecretValue"):
        assert post_message(stack, ORDER)[0] == 201
    assert "TokenCacheWriteFailed" in (stack.log_dir / "SendApiFunction.log").read_text()


def test_a_storefront_event_during_a_dynamodb_outage_is_parked_then_sends_once(stack, sandbox):
    event = storefront_event(
        "Reset Password", {"profile": {"email": "sam@example.com"}, "properties": {}, "unique_id": "r-9"}
    )
    with Fault("dynamodb", "ProvisionedThroughputExceededException"):
        outcome = stack.invoke_async("SendEventFunction", event)
    assert outcome.parked_in and sandbox.stats["sends"] == 0
    assert stack.invoke("SendEventFunction", event)["status"] == "sent"  # redriven from the queue
    assert stack.invoke("SendEventFunction", event)["status"] == "duplicate"
    assert sandbox.stats["sends"] == 1


def _planned(stack, key: str, body: bytes):
    from listrak_kit.imports.pipeline import PartTask
    from listrak_kit.services import import_pipeline
    from listrak_kit.settings import ImportSettings, load_settings

    stack.client("s3").put_object(Bucket=stack.refs["ImportBucket"], Key=key, Body=body)
    pipeline = import_pipeline(load_settings(ImportSettings))
    pipeline.plan(key, owner="test")
    [message] = stack.client("sqs").receive_message(QueueUrl=stack.refs["ImportQueue"])["Messages"]
    return pipeline, PartTask.model_validate_json(message["Body"])


def test_an_import_source_version_deleted_mid_import_is_abandoned_with_its_reason(stack, sandbox):
    key = "products/day.jsonl"
    with stack.function_env("ImportFunction"):
        pipeline, task = _planned(stack, key, b'{"sku": "A"}\n')
        stack.client("s3").delete_object(Bucket=stack.refs["ImportBucket"], Key=key, VersionId=task.versionId)
        outcome = pipeline.run_part(task)
        ledger = pipeline._ledger.file_status(key, task.version)

    assert outcome.status == "abandoned"
    assert ledger["status"] == "abandoned" and "was deleted during its import" in ledger["reason"]
    assert sandbox.stats["data_imports"] == 0


def test_a_file_replaced_mid_import_finishes_its_version_and_the_new_version_is_imported_after(stack, sandbox):
    key = "products/day.jsonl"
    bucket = stack.refs["ImportBucket"]
    with stack.function_env("ImportFunction"):
        pipeline, task = _planned(stack, key, b'{"sku": "A"}\n')
        # The replacement's own trigger, while the first version is still importing: it waits its turn.
        stack.client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"sku": "B"}\n{"sku": "C"}\n')
        assert pipeline.plan(key, owner="second drop").startswith(f"waiting: version {task.versionId}")
        assert pipeline.run_part(task).status == "done"
    stack.drain("ImportQueue")  # the newer version, planned when the first one closed

    bodies = sandbox.data_imports["Product"]
    assert [[r["sku"] for r in body] for body in bodies] == [["A"], ["B", "C"]]
    manifest = json.loads(
        stack.client("s3").get_object(Bucket=bucket, Key=f"results/{key}.manifest.json")["Body"].read()
    )
    assert manifest["state"] == "imported" and manifest["versionId"] != task.versionId and manifest["accepted"] == 2


@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_listrak_throttling_an_import_is_retried_and_each_record_arrives_once(stack, sandbox, fault):
    sandbox.inject("data", fault, times=2)
    [(_, trigger)] = stack.drop_file("ImportBucket", "orders/day.jsonl", b'{"orderNumber": "1"}\n')
    stack.drain("ImportQueue")
    assert trigger.error is None
    assert sandbox.stats["data_records"]["Order"] == 1
    assert sandbox.stats["faults_injected"] == 2


def test_a_resend_whose_idempotency_record_cannot_be_completed_says_it_was_resent(stack, sandbox):
    from tests.handlers.test_resend_api import resend, sent

    sent(stack)
    with Fault(
        "dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains='"listrak-resend#'
    ) as fault:
        status, body = resend(stack, "reset-1", key="ticket-1")
    assert fault.hits > 0 and sandbox.stats["resends"] == 1
    assert (status, body["status"]) == (201, "resent")  # not 503 "nothing was sent": it was
