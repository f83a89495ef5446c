"""One delivery per reference, with Powertools Idempotency on the project's DynamoDB table.

- key_prefix is fixed, so keys survive renames of functions and modules (the default embeds both);
- the key is the reference alone, and the payload is validated: the same reference with another payload
  is a conflict, not a second email;
- records live as long as Listrak's resend window, so a duplicate event days later still sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from listrak_kit.aws.clients import aws_client
from listrak_kit.errors import SendConflict
from listrak_kit.send.models import RESEND_WINDOW_SECONDS
from listrak_kit.send.service import REPLAY_MARKER

SEND_KEY_PREFIX = "listrak-send"


def _mark_replay(response: Any, _record: Any) -> Any:
    return {**response, REPLAY_MARKER: True} if isinstance(response, dict) else response


class SendIdempotency:
    def __init__(self, table_name: str):
        self.config = IdempotencyConfig(
            event_key_jmespath="reference",
            payload_validation_jmespath="[listId, transactionalMessageId, emailAddress, segmentationFieldValues]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=RESEND_WINDOW_SECONDS,
            response_hook=_mark_replay,
        )
        self._persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))

    def register_lambda_context(self, context: Any) -> None:
        # Lets a retry take over a record left in progress by an invocation that timed out.
        self.config.register_lambda_context(context)

    def __call__(self, deliver: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        guarded = idempotent_function(
            deliver,
            data_keyword_argument="prepared",
            persistence_store=self._persistence,
            config=self.config,
            key_prefix=SEND_KEY_PREFIX,
        )

        def deliver_once(*, prepared: Any) -> dict[str, Any]:
            try:
                return guarded(prepared=prepared)
            except IdempotencyValidationError:
                raise SendConflict(f"reference {prepared.reference!r} was already used for a different send") from None
            except IdempotencyAlreadyInProgressError:
                raise SendConflict(
                    f"a send with reference {prepared.reference!r} is in progress; retry shortly",
                    in_progress=True,
                ) from None

        return deliver_once
