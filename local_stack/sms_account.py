"""The local stack's SMS account: the catalog's SMS messages, and the numbers subscribed to their phone lists.

The events/ samples text these numbers; any other number is not subscribed, so an SMS to it is skipped.
"""

from __future__ import annotations

from pathlib import Path

from local_stack.sandbox import ListrakSandbox

# Subscribed to every phone list of the catalog (digits as Listrak stores them: country code and number).
LOCAL_SMS_SUBSCRIBERS = ("15551234567", "15550100001")


def register_sms(sandbox: ListrakSandbox, catalog_path: Path) -> None:
    from listrak_kit.catalog.model import load_catalog

    for spec in load_catalog(catalog_path).sms.values():
        sandbox.add_sms_message(spec.senderCodeId, spec.phoneListId, spec.transactionalMessageId)
        for number in LOCAL_SMS_SUBSCRIBERS:
            sandbox.set_phone_state(spec.senderCodeId, spec.phoneListId, number, "Subscribed")
