"""Who may resend where, on its own: the storefront key never redirects; support may, within limits."""

from __future__ import annotations

import pytest

from listrak_kit.errors import Forbidden, TooManyRequests
from listrak_kit.masking import email_fingerprint
from listrak_kit.resend.redirect import Caller, OriginalSend, RedirectLimits, RedirectPolicy

ORIGINAL = "jane@example.com"
SEND = OriginalSend(
    reference="order-1001",
    message="order-confirmation",
    email_fingerprint=email_fingerprint(ORIGINAL),
    redirect_allowed=True,
)
RESET = OriginalSend(
    reference="password-reset/1",
    message="password-reset",
    email_fingerprint=email_fingerprint(ORIGINAL),
    redirect_allowed=False,
)
STOREFRONT = Caller.storefront("key-1")
SUPPORT = Caller.support_principal("arn:aws:sts::123456789012:assumed-role/Support/agent@shop.example")


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def now(self) -> float:
        return self.t


class Counter:
    """The same fixed-window rule as the DynamoDB counter, in memory."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[float, int]] = {}

    def take_redirect(self, reference, *, now, window_seconds, limit):
        start, count = self.windows.get(reference, (None, 0))
        if start is None or start <= now - window_seconds:
            start, count = now, 0
        if count >= limit:
            return start
        self.windows[reference] = (start, count + 1)
        return None


LIMITS = RedirectLimits(per_reference=2, window_seconds=3600)


def policy(clock=None):
    return RedirectPolicy(counter=Counter(), limits=LIMITS, clock=clock or Clock())


@pytest.mark.parametrize("caller", [STOREFRONT, SUPPORT])
def test_the_original_address_however_spelled_is_no_redirect(caller):
    for requested in (None, ORIGINAL, " Jane@Example.COM "):
        assert policy().forward_address(SEND, requested, caller) is None
        assert policy().forward_address(RESET, requested, caller) is None


def test_the_storefront_key_cannot_send_to_another_address():
    with pytest.raises(Forbidden, match="support credential"):
        policy().forward_address(SEND, "attacker@evil.example", STOREFRONT)


def test_a_key_recorded_nowhere_cannot_be_redirected_by_anyone():
    with pytest.raises(Forbidden):
        policy().forward_address(None, "attacker@evil.example", STOREFRONT)
    with pytest.raises(Forbidden, match="recorded here"):
        policy().forward_address(None, "corrected@example.org", SUPPORT)


def test_support_may_redirect_unless_the_message_says_redirect_false():
    assert policy().forward_address(SEND, "corrected@example.org", SUPPORT) == "corrected@example.org"
    with pytest.raises(Forbidden, match="password-reset.*redirect = false"):
        policy().forward_address(RESET, "corrected@example.org", SUPPORT)


def test_redirects_are_limited_per_reference_within_a_window():
    clock = Clock()
    limited = policy(clock)
    limited.charge("order-1001")
    limited.charge("order-1001")
    limited.charge("order-1002")  # another reference has its own allowance
    with pytest.raises(TooManyRequests) as caught:
        limited.charge("order-1001")
    assert caught.value.retry_after == 3600
    assert "REDIRECT_MAX_PER_REFERENCE" in str(caught.value)
    clock.t += 1800
    with pytest.raises(TooManyRequests) as caught:
        limited.charge("order-1001")
    assert caught.value.retry_after == 1800
    clock.t += 1800
    limited.charge("order-1001")  # the window has passed


def test_the_support_credential_is_recorded_masked():
    assert SUPPORT.credential == "arn:aws:sts::123456789012:assumed-role/Support/a***@shop.example"
    assert STOREFRONT.credential == "api-key:key-1"
