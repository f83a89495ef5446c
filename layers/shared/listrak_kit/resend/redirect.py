"""Who may resend a send where: the storefront key resends to the original address only; another address
needs the support credential, a message that allows it, and a per-reference allowance. Every redirect is audited.

No event or HTTP types here: the handler says who the caller is (`Caller`), the resend service asks this
policy where the resend may go (`forward_address`), charges the allowance just before it calls Listrak
(`charge`), and reports what happened (`audit`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from listrak_kit.clock import Clock, SystemClock
from listrak_kit.errors import Forbidden, TooManyRequests
from listrak_kit.masking import email_fingerprint, mask_addresses, mask_email
from listrak_kit.observability import logger

SUPPORT_ROUTE = "POST /support/messages/{reference}/redirect"
AUDIT_EVENT = "resend-redirect"  # the `audit` key of the log line: filter audit = "resend-redirect"


@dataclass(frozen=True)
class Caller:
    """Who asks: `credential` names it for the audit (an API key's id, or the IAM principal's ARN, masked);
    `support` is True only on the IAM-authorised support route."""

    credential: str
    support: bool

    @classmethod
    def storefront(cls, api_key_id: str | None) -> Caller:
        return cls(credential=f"api-key:{api_key_id or 'unknown'}", support=False)

    @classmethod
    def support_principal(cls, user_arn: str | None) -> Caller:
        # An assumed role's session name is often the person's address: masked like any other.
        return cls(credential=mask_addresses(user_arn or "iam:unknown"), support=True)


@dataclass(frozen=True)
class OriginalSend:
    """What the policy needs to know about the send being resent."""

    reference: str
    message: str | None
    email_fingerprint: str
    redirect_allowed: bool


class RedirectCounter(Protocol):
    def take_redirect(self, reference: str, *, now: float, window_seconds: int, limit: int) -> float | None:
        """Takes one redirect from the reference's allowance; None when taken, else the window's start."""


@dataclass(frozen=True)
class RedirectLimits:
    per_reference: int = 3
    window_seconds: int = 24 * 3600


class RedirectPolicy:
    def __init__(self, *, counter: RedirectCounter, limits: RedirectLimits, clock: Clock | None = None):
        self._counter = counter
        self._limits = limits
        self._clock = clock or SystemClock()

    def forward_address(self, send: OriginalSend | None, requested: str | None, caller: Caller) -> str | None:
        """Where Listrak should resend: None for the original address, else the (allowed) other address.

        `send` is None when the resend key belongs to no send recorded here: nothing is known of its address.
        Raises Forbidden when the caller may not send there.
        """
        if requested is None:
            return None
        if send is not None and email_fingerprint(requested) == send.email_fingerprint:
            return None  # the original address, however it is spelled: no redirect
        if not caller.support:
            raise Forbidden(
                "resending to an address other than the original needs the support credential: "
                f"{SUPPORT_ROUTE} (IAM-authorised); the storefront key resends to the original address only"
            )
        if send is None:
            raise Forbidden("only a send recorded here can be redirected: its reference is needed")
        if not send.redirect_allowed:
            raise Forbidden(
                f"send {send.reference!r} cannot be redirected: "
                + (
                    f"its catalog message {send.message!r} is marked redirect = false"
                    if send.message
                    else "its message is marked redirect = false in the catalog"
                )
                + "; it can only be resent to the original address"
            )
        return requested

    def charge(self, reference: str) -> None:
        """Takes one redirect from the reference's allowance, or raises TooManyRequests."""
        now = self._clock.now()
        window_start = self._counter.take_redirect(
            reference, now=now, window_seconds=self._limits.window_seconds, limit=self._limits.per_reference
        )
        if window_start is not None:
            retry_after = max(1, math.ceil(window_start + self._limits.window_seconds - now))
            raise TooManyRequests(
                f"send {reference!r} was redirected {self._limits.per_reference} time(s) in the last "
                f"{self._limits.window_seconds} s (REDIRECT_MAX_PER_REFERENCE, REDIRECT_WINDOW_SECONDS); "
                f"retry in {retry_after} s",
                retry_after=retry_after,
            )

    @staticmethod
    def audit(*, reference: str | None, credential: str, target: str, at: str, status: str) -> None:
        """The line an auditor queries: `filter audit = "resend-redirect"` in CloudWatch Logs Insights."""
        logger.info(
            "resend redirected",
            extra={
                "audit": AUDIT_EVENT,
                "reference": reference,
                "credential": credential,
                "to": mask_email(target),
                "at": at,
                "status": status,
            },
        )
