"""Exactly-once work with Powertools Idempotency on the project's DynamoDB table.

- key_prefix is fixed per operation, so keys survive renames of functions and modules (the default embeds both);
- the payload is validated: the same key with another payload is a conflict, not a second email;
- records live as long as Listrak's resend window, so a duplicate days later still sends nothing.
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
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from listrak_kit.aws.clients import aws_client
from listrak_kit.errors import Conflict
from listrak_kit.observability import logger

REPLAY_MARKER = "__replayed__"


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, REPLAY_MARKER: True} if isinstance(response, dict) else response


class Once:
    """Wraps a function of one keyword argument (`data`, a pydantic model) so that each key runs it once.

    A raise inside the function deletes the record, so a retry runs it again; a return is final and replayed
    (marked with REPLAY_MARKER) to every later call with the same key.
    """

    def __init__(
        self,
        table_name: str,
        *,
        key_prefix: str,
        key_path: str,
        payload_paths: str,
        expires_after_seconds: int,
        require_key: bool,
        noun: str,
    ):
        self.config = IdempotencyConfig(
            event_key_jmespath=key_path,
            payload_validation_jmespath=payload_paths,
            raise_on_no_idempotency_key=require_key,
            expires_after_seconds=expires_after_seconds,
            response_hook=_mark_replay,
        )
        self._persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))
        self._key_prefix = key_prefix
        self._noun = noun

    def register_lambda_context(self, context: Any) -> None:
        # Lets a retry take over a record left in progress by an invocation that timed out.
        self.config.register_lambda_context(context)

    def __call__(self, work: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        key_path = self.config.event_key_jmespath
        done: dict[int, dict[str, Any]] = {}

        def work_noting_its_result(*, data: Any) -> dict[str, Any]:
            done[id(data)] = result = work(data=data)
            return result

        guarded = idempotent_function(
            work_noting_its_result,
            data_keyword_argument="data",
            persistence_store=self._persistence,
            config=self.config,
            key_prefix=self._key_prefix,
        )

        def run_once(*, data: Any) -> dict[str, Any]:
            if not self.config.raise_on_no_idempotency_key and not getattr(data, key_path, None):
                return work(data=data)  # no key given: the caller asked for no duplicate protection
            try:
                return guarded(data=data)
            except IdempotencyPersistenceLayerError:
                if id(data) not in done:
                    raise  # the in-progress record was not written: the work never ran
                # The work ran (Listrak acted) and only its completion record failed: answer what happened. The
                # in-progress record expires after the function's timeout; a repeat after that runs again.
                logger.exception("idempotency record not completed", extra={"key": self._describe(data)})
                return done[id(data)]
            except IdempotencyValidationError:
                raise Conflict(f"{self._describe(data)} was already used for a different {self._noun}") from None
            except IdempotencyAlreadyInProgressError:
                raise Conflict(
                    f"a {self._noun} with {self._describe(data)} is in progress; retry shortly", retry_after=2
                ) from None

        def run_once_then_forget(*, data: Any) -> dict[str, Any]:
            try:
                return run_once(data=data)
            finally:
                done.pop(id(data), None)

        return run_once_then_forget

    def _describe(self, data: Any) -> str:
        return f"{self.config.event_key_jmespath} {getattr(data, self.config.event_key_jmespath, '')!r}"
