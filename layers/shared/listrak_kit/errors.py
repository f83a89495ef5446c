"""Domain errors. Each one the API answers carries its HTTP status and the body the caller gets (listrak_kit/api.py
answers every DomainError the same way); none of them carries event or HTTP request types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """An error the caller can act on: answered with `status`, `body()` and `headers()`."""

    status: ClassVar[int] = 400

    def body(self) -> dict[str, Any]:
        return {"message": str(self)}

    def headers(self) -> dict[str, str] | None:
        return None


class InvalidRequest(DomainError):
    """The request cannot be sent as it is; nothing was sent."""

    status = 400

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))

    def body(self) -> dict[str, Any]:
        return {"message": "invalid request; nothing was sent", "errors": [p.as_dict() for p in self.problems]}


class UnknownMessage(DomainError):
    """The catalog has no such message (or no message for an event's detail-type)."""

    status = 404


class ConfigurationError(DomainError):
    """The deployment is misconfigured (a placeholder secret, a broken catalog); retrying will not help. The caller
    is told only that: the details are for the operator's logs."""

    status = 500

    def body(self) -> dict[str, Any]:
        return {"message": "the service is misconfigured; its logs say how to fix it"}


class Conflict(DomainError):
    """A key was already used for a different payload, that request is still in flight, or it is too early."""

    status = 409

    def __init__(self, message: str, *, retry_after: int | None = None):
        self.retry_after = retry_after
        super().__init__(message)

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


class NotFound(DomainError):
    """No such send is known here."""

    status = 404


class UnknownListrakIds(DomainError):
    """Listrak knows no list or transactional message under the caller's raw IDs: the caller's mistake."""

    status = 422

    def __init__(self, message: str, *, fields: dict[str, int]):
        self.fields = fields
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        errors = [
            {"field": name, "message": f"Listrak has no {name} {value} here"} for name, value in self.fields.items()
        ]
        return {"message": str(self), "errors": errors}


class Gone(DomainError):
    """It existed, but can no longer be acted on (Listrak's 30-day resend window has closed)."""

    status = 410


class NotTriggered(Exception):
    """A known kind of event (a Shopify webhook, a Klaviyo event) whose topic or metric sends no message."""


class Unauthenticated(DomainError):
    """The caller did not prove who it is (a missing or wrong signature); nothing was done."""

    status = 401

    def body(self) -> dict[str, Any]:
        return {"message": f"{self}; nothing was sent"}


class PayloadTooLarge(DomainError):
    """The event is too large to queue; nothing was done."""

    status = 413


class SendRecordUncertain(Exception):
    """Write 1's answer was lost and the record could not be read back: the send may still go out, once."""


class BusUnavailable(DomainError):
    """EventBridge did not take the event (after botocore's retries); nothing was queued."""

    status = 503

    def body(self) -> dict[str, Any]:
        return {"message": "the event could not be queued; nothing was sent, retry later"}


class Forbidden(DomainError):
    """The caller's credential does not allow this (a redirect with the storefront key, a redirect-less message)."""

    status = 403


class TooManyRequests(DomainError):
    """A per-reference limit is spent for now; `retry_after` says when it refills."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}
