"""Exactly once when Listrak's answers, AWS's answers or Listrak's Activity are ambiguous, late or silent.

Every test counts the emails (and resends) where they land, at the Listrak sandbox.
"""

from __future__ import annotations

from tests.conftest import post_message
from tests.faults.aws_faults import Fault
from tests.faults.test_send_faults import emails, order, settle, state


def resends(sandbox, reference: str) -> int:
    return sum(1 for row in sandbox.resends if row["emailAddress"].split("@")[0] == reference)


# -- an answer Listrak may give after acting is never retried in place -----------------------------------


def test_a_503_after_listrak_acted_sends_one_email(stack, sandbox, clock):
    sandbox.inject("send", "503_after")
    status, answer = post_message(stack, order("r-1"))
    assert emails(sandbox)["r-1"] == 1
    assert status == 202 and answer["status"] == "pending"
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "sent"


def test_a_503_after_listrak_resent_resends_once(stack, sandbox, clock):
    from tests.handlers.test_resend_api import resend

    sandbox.resend_key_in_send_response = True
    assert post_message(stack, order("r-1"))[0] == 201
    sandbox.inject("resend", "503_after")
    status, answer = resend(stack, "r-1")
    assert resends(sandbox, "r-1") == 1
    assert status == 504 and answer["status"] == "unknown"


# -- a lost answer to write 1 -------------------------------------------------------------------------------


def test_write_1_applied_but_its_answer_lost_sends_now_and_says_so(stack, sandbox, clock):
    with Fault("dynamodb", "InternalServerError", status=500, operation="PutItem", applies_first=True) as fault:
        status, answer = post_message(stack, order("r-1"))
    assert fault.hits > 0
    assert (status, answer.get("status")) == (201, "sent"), answer  # the record is ours: the send goes now
    settle(stack, clock)
    assert emails(sandbox)["r-1"] == 1


def test_write_1_unconfirmed_is_never_answered_nothing_was_sent(stack, sandbox, clock):
    with (
        Fault("dynamodb", "InternalServerError", status=500, operation="PutItem", applies_first=True),
        Fault("dynamodb", "InternalServerError", status=500, operation="GetItem"),
    ):
        status, answer = post_message(stack, order("r-1"))
    assert status == 503 and "nothing was sent" not in answer["message"], answer
    assert "same reference" in answer["message"]
    assert emails(sandbox)["r-1"] == 0
    settle(stack, clock)  # the record was written: it is sent once, from the reconciler
    assert emails(sandbox)["r-1"] == 1
    assert post_message(stack, order("r-1"))[:1] == (200,)
    assert emails(sandbox)["r-1"] == 1
