"""boto3 clients with explicit timeouts and bounded retries, created once per container on first use."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Lambda's own timeout is the outer bound; these keep one slow AWS call from eating all of it.
AWS_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def aws_client(service: str) -> Any:
    # AWS_ENDPOINT_URL (the local stack's moto server) is honoured by botocore itself.
    return boto3.client(service, config=AWS_CLIENT_CONFIG)
