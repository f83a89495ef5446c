"""One Logger and one Metrics for every function: shared so that service name and namespace stay consistent."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
