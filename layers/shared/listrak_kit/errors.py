"""Domain errors. Handlers map them to HTTP answers; none of them carries event or HTTP types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidRequest(Exception):
    """The request cannot be sent as it is; nothing was sent."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class UnknownMessage(Exception):
    """The catalog has no such message (or no message for an event's detail-type)."""


class ConfigurationError(Exception):
    """The deployment is misconfigured (a placeholder secret, a broken catalog); retrying will not help."""


class Conflict(Exception):
    """A key was already used for a different payload, that request is still in flight, or it is too early."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class NotFound(Exception):
    """No such send is known here."""


class UnknownListrakIds(Exception):
    """Listrak knows no list or transactional message under the caller's raw IDs: the caller's mistake."""

    def __init__(self, message: str, *, fields: dict[str, int]):
        self.fields = fields
        super().__init__(message)


class Gone(Exception):
    """It existed, but can no longer be acted on (Listrak's 30-day resend window has closed)."""


class NotTriggered(Exception):
    """A known kind of event (a Shopify webhook, a Klaviyo event) whose topic or metric sends no message."""


class Unauthenticated(Exception):
    """The caller did not prove who it is (a missing or wrong signature); nothing was done."""


class PayloadTooLarge(Exception):
    """The event is too large to queue; nothing was done."""


class SendRecordUncertain(Exception):
    """Write 1's answer was lost and the record could not be read back: the send may still go out, once."""


class BusUnavailable(Exception):
    """EventBridge did not take the event (after botocore's retries); nothing was queued."""


class Forbidden(Exception):
    """The caller's credential does not allow this (a redirect with the storefront key, a redirect-less message)."""


class TooManyRequests(Exception):
    """A per-reference limit is spent for now; `retry_after` says when it refills."""

    def __init__(self, message: str, *, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)
