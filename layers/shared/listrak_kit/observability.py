"""One Logger and one Metrics for every function: shared so that service name and namespace stay consistent.

Every log line passes one mask on its way out: an address anywhere in it (message, extra keys, exception text,
stack trace) is written masked (`j***@example.com`). The standard-library loggers of the libraries underneath
(botocore, urllib3) get the same mask as their records are made, whichever handler writes them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from listrak_kit.masking import mask_addresses, mask_record, masked_error


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
    """The outermost decorator of every handler: an exception that fails the invocation (Lambda's runtime logs
    it, and a dead-letter record keeps its message) carries no whole address."""

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


logger = Logger(logger_formatter=MaskingFormatter())
metrics = Metrics()
_mask_every_record()
