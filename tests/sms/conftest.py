"""A sandbox with an SMS account, and the SMS adapter pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.http import ListrakHttp, RetryPolicy, Timeouts
from listrak_kit.listrak.sms_api import SmsApi
from local_stack.sandbox import ListrakSandbox

SENDER, PHONE_LIST, MESSAGE = 501, 601, 701
SUBSCRIBED = "15551230001"


class SandboxTokens:
    """Tokens straight from the sandbox (the token provider has its own tests)."""

    def __init__(self, sandbox: ListrakSandbox):
        self._sandbox = sandbox

    def token(self) -> str:
        return self._sandbox.issue_token("SMS")

    def replace_rejected(self, _token: str) -> str:
        return self.token()


@pytest.fixture
def sms_sandbox() -> Iterator[ListrakSandbox]:
    with ListrakSandbox(slow_after_seconds=0.5) as sandbox:
        sandbox.add_client("sms-client", "sms-secret", "SMS")
        sandbox.add_sms_message(SENDER, PHONE_LIST, MESSAGE)
        sandbox.set_phone_state(SENDER, PHONE_LIST, SUBSCRIBED, "Subscribed")
        yield sandbox


@pytest.fixture
def sms_api(sms_sandbox: ListrakSandbox) -> SmsApi:
    http = ListrakHttp(
        timeouts=Timeouts(connect=1, read=0.3),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, retry_budget_seconds=2),
    )
    return SmsApi(AuthorizedListrak(http, SandboxTokens(sms_sandbox), sms_sandbox.sms_api_url))  # type: ignore[arg-type]
