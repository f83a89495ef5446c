"""A strict, stateful stand-in for Listrak: the OAuth2 token endpoint and the Email, Data, SMS and Privacy API
routes this project calls, with Listrak's envelopes, status codes and quirks, plus fault injection and counters.

In-process (tests, the local stack):

    with ListrakSandbox() as sandbox:
        sandbox.add_client("email-id", "email-secret", "Email")
        sandbox.add_transactional_message(1001, 2001)
        ...  # point the code under test at sandbox.auth_url / sandbox.email_api_url / sandbox.data_api_url
        sandbox.inject("send", "500_after", times=2)
        sandbox.advance(60)  # the sandbox's clock: Activity shows sends only after activity_delay_seconds
        assert sandbox.send_count(1001, 2001, "ann@example.com") == 1

As a process (another process drives it through the /_sandbox/... control routes):

    python -m local_stack.sandbox --port 8025

Modules: wire (envelopes, value checks), records (what it holds), faults, tokens, email_routes, data_routes, sms_routes,
contacts, list_imports, privacy_routes, control, server (HTTP), core (ListrakSandbox). Only the standard
library is used.
"""

from local_stack.sandbox.core import ListrakSandbox
from local_stack.sandbox.faults import FAULT_KINDS, FAULT_ROUTES

__all__ = ["FAULT_KINDS", "FAULT_ROUTES", "ListrakSandbox"]
