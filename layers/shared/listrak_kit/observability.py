"""One Logger and one Metrics for every function: shared so that service name and namespace stay consistent.

Every log line passes one mask on its way out: an address anywhere in it (message, extra keys, exception text,
stack trace) is written masked (`j***@example.com`). The standard-library loggers of the libraries underneath
(botocore, urllib3) get the same mask through a filter on the root logger's handlers.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from listrak_kit.masking import AddressMaskingFilter, mask_addresses


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with every address masked in the finished line (whatever key it travels in)."""

    def serialize(self, log: Any) -> str:
        return mask_addresses(super().serialize(log))


def _mask_library_logs() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, AddressMaskingFilter) for f in handler.filters):
            handler.addFilter(AddressMaskingFilter())


logger = Logger(logger_formatter=MaskingFormatter())
metrics = Metrics()
_mask_library_logs()
