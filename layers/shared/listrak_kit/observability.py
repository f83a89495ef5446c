"""One Logger, one Metrics and one Tracer for every function: shared so that names and namespace stay consistent.

Every log line passes one mask on its way out: an address anywhere in it (message, extra keys, exception text,
stack trace) is written masked (`j***@example.com`). The standard-library loggers of the libraries underneath
(botocore, urllib3) get the same mask as their records are made, whichever handler writes them.

The Tracer follows a request from API Gateway through Lambda to DynamoDB, Secrets Manager (botocore) and Listrak
(requests). Only those two libraries are patched: patching everything aws_xray_sdk knows imports far more than a
function uses. The Tracer is made, and the X-Ray SDK imported, by the first invocation Lambda samples (or before a
SnapStart snapshot), not by a handler's import: see listrak_kit.tracing. Outside Lambda (tests, the local stack,
`sam local`) tracing is off (POWERTOOLS_TRACE_DISABLED) and aws_xray_sdk is never imported, so no segment is ever
looked for and no X-Ray daemon is expected. Traces are kept like logs: the Tracer is the one decorator outside
masks_escaping_errors, so the exception it records is the masked one, and handlers keep their responses out of it
(capture_response=False).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from listrak_kit.masking import mask_addresses, mask_record, masked_error
from listrak_kit.tracing import LazyTracer

TRACED_LIBRARIES = ("botocore", "requests")
Handler = TypeVar("Handler", bound=Callable[..., Any])


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with every address masked in the finished line (whatever key it travels in)."""

    def serialize(self, log: Any) -> str:
        return mask_addresses(super().serialize(log))


def _mask_every_record() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_addresses", False):
        return

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    masked.masks_addresses = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked)


def masks_escaping_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The outermost decorator of every handler but the Tracer's: an exception that fails the invocation
    (Lambda's runtime logs it, and a dead-letter record keeps its message) carries no whole address."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except Exception as exc:
            masked = masked_error(exc)
            if masked is exc:
                raise
            raise masked from None

    return wrapper


def observed(*, correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Every function's handler stack, in its one order (outermost first): the Tracer, the mask on escaping
    errors, the Logger's Lambda context (and correlation id, read from the event at `correlation_id_path`),
    and the metrics flush with the cold-start metric. The Tracer sits outside the mask, so the exception it
    records in the trace is the masked one."""

    def apply(handler: Handler) -> Handler:
        flushed = metrics.log_metrics(handler, capture_cold_start_metric=True)
        logged = logger.inject_lambda_context(flushed, correlation_id_path=correlation_id_path)
        traced = tracer.capture_lambda_handler(masks_escaping_errors(logged), capture_response=False)
        return cast(Handler, traced)

    return apply


logger = Logger(logger_formatter=MaskingFormatter())
metrics = Metrics()
tracer = LazyTracer(TRACED_LIBRARIES)
_mask_every_record()
