"""Imports into Listrak's Data Import API: the nightly schedule and S3 drops plan files; SQS feeds their parts back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from listrak_kit.imports.pipeline import PartTask
from listrak_kit.observability import logger, observed
from listrak_kit.services import import_pipeline
from listrak_kit.settings import ImportSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.imports.pipeline import ImportPipeline

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def pipeline() -> ImportPipeline:
    return import_pipeline(load_settings(ImportSettings))


def trigger(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    """One of three triggers, told apart by shape; each is one call into the pipeline."""
    if event.get("Records"):
        seconds_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
        return process_partial_response(
            event=event,
            record_handler=lambda record: _part(record, seconds_left),
            processor=processor,
            context=context,
        )
    if event.get("source") == "aws.s3":
        key = event["detail"]["object"]["key"]
        outcome = pipeline().plan(key, owner=context.aws_request_id)
        logger.info("import trigger", extra={"key": key, "outcome": outcome})
        return {"key": key, "outcome": outcome}
    if event.get("action") == "scan":
        outcomes = pipeline().scan(owner=context.aws_request_id)
        logger.info("import scan", extra={"planned": len(outcomes)})
        return {"planned": [{"key": k, "outcome": o} for k, o in outcomes]}
    raise ValueError("not an SQS batch, an S3 Object Created event or a scheduled scan")


def _part(record: SQSRecord, seconds_left: Callable[[], float]) -> dict[str, Any]:
    task = PartTask.model_validate_json(record.body)
    delivery = int(record.attributes.approximate_receive_count or 1)
    try:
        outcome = pipeline().run_part(task, time_left=seconds_left, delivery=delivery)
    except Exception:
        # No progress in this delivery: SQS delivers the part again (and parks it after maxReceiveCount, by when
        # its manifest says failed); the ledger skips what Listrak has.
        logger.exception("import part failed", extra={"key": task.key, "part": task.part})
        raise
    logger.info(
        "import part",
        extra={
            "key": task.key,
            "part": task.part,
            "status": outcome.status,
            "accepted": outcome.accepted,
            "rejected": outcome.rejected,
        },
    )
    return outcome.__dict__


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    return trigger(event, context)
