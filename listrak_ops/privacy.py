"""Privacy requests as the audit shows them (who asked, when, how far, when completed), and a tombstone lifted."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

from listrak_ops.stack import StackResources

PRIVACY_FUNCTION = "PrivacyFunction"


def _requests(stack: StackResources) -> Any:
    from listrak_kit.aws.clients import aws_client
    from listrak_kit.services import privacy_requests

    aws_client.cache_clear()  # clients made for another endpoint or region
    return privacy_requests(stack.table)


def listing(stack: StackResources, limit: int) -> list[dict[str, Any]]:
    return [view.model_dump(exclude_none=True) for view in _requests(stack).all()[:limit]]


def show(stack: StackResources, request_id: str) -> dict[str, Any]:
    return _requests(stack).view(request_id).model_dump(exclude_none=True)


def operator(stack: StackResources) -> str:
    from listrak_kit.masking import mask_addresses

    try:
        return "operator:" + mask_addresses(stack.client("sts").get_caller_identity()["Arn"])
    except Exception:  # the local stack's moto answers too; anything else still lifts, named plainly
        return "operator:unknown"


def lift(stack: StackResources, *, email: str | None, phone: str | None) -> dict[str, Any]:
    from listrak_kit.aws.secrets import SecretsManagerKey
    from listrak_kit.aws.tombstones import DynamoTombstones
    from listrak_kit.core.forgotten import Person

    # The key is the privacy function's: read with its own settings, as the function reads it.
    with mock.patch.dict(os.environ, stack.function_env(PRIVACY_FUNCTION)):
        requests = _requests(stack)
        key = SecretsManagerKey(os.environ["PRIVACY_TOMBSTONE_KEY_SECRET"]).get()
        view = requests.lift(
            Person(email, phone), key=key, tombstones=DynamoTombstones(stack.table), requested_by=operator(stack)
        )
    return view.model_dump(exclude_none=True)
