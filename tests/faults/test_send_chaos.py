"""The chaos run for sends, where Listrak's Activity is the judge: its lag drawn per send from a long tail, its
clock 10 s behind, its dates written without a zone in US Eastern time, several sends of one message to one address
minutes apart, and a fifth of the sends faulted every way Listrak can fail. Counted at the sandbox: no duplicate,
no resend of another send's email, and every email not delivered is unconfirmed and alarmed, never silent.
"""

from __future__ import annotations

import random
from collections import Counter

from tests.conftest import post_message
from tests.faults.conftest import ROUND
from tests.faults.test_send_faults import records, settle
from tests.handlers.test_resend_api import resend

FAULTS = ["429", "500", "502", "503", "500_after", "502_after", "503_after", "drop", "drop_after", "slow"]
SENDS, ADDRESSES = 240, 90


def reset(reference: str, address: str) -> dict:
    fields = {"passwordResetLink": f"https://r/{reference}"}
    return {"emailAddress": address, "message": "password-reset", "fields": fields, "reference": reference}


def test_activity_late_off_and_zone_less_with_repeated_sends_never_sends_twice_and_never_hides_a_loss(
    stack, sandbox, clock
):
    rng = random.Random(23)
    # Long-tailed: most sends show within a minute or two, a few after most of an hour.
    sandbox.activity_delay_draw = lambda: min(20 * rng.paretovariate(1.2), 3000.0)
    sandbox.clock_offset_seconds = -10
    sandbox.send_date_zone = "America/New_York"
    plan = [(f"c-{n}", f"person{rng.randrange(ADDRESSES)}@example.com") for n in range(SENDS)]
    injected: Counter = Counter()
    for batch in range(0, SENDS, 20):  # 20 sends, then two minutes and a reconciler run
        for reference, address in plan[batch : batch + 20]:
            kind = rng.choice(FAULTS) if rng.random() < 0.2 else None
            injected[kind or "none"] += 1
            if kind:
                sandbox.inject("send", kind, delay=0.4 * (kind == "slow"))
            post_message(stack, reset(reference, address))
        clock.advance(ROUND)
        stack.reconcile()
    settle(stack, clock, rounds=30)
    for _ in range(3):  # unconfirmed sends are looked at again hourly
        clock.advance(3600)
        settle(stack, clock, rounds=2)

    by_reference: Counter = Counter()
    key_of: dict[str, str] = {}
    for row in sandbox.sent_messages:
        reference = row["segmentationFieldValues"][-1]["value"].rsplit("/", 1)[1]
        by_reference[reference] += 1
        key_of[reference] = row["resendKey"]
    statuses = {r.reference: r.status for r in records(stack)}
    duplicates = [r for r, _ in plan if by_reference[r] > 1]
    silent = [r for r, _ in plan if by_reference[r] == 0 and statuses.get(r) not in ("unconfirmed", None)]
    wrongly_sent = [r for r, _ in plan if statuses.get(r) == "sent" and by_reference[r] != 1]
    status_counts = Counter(statuses.values())

    # A resend of every send the record says went reaches that send's own email, or waits (409), never another's.
    wrong_resends = 0
    resent = 0
    for reference, _ in plan:
        if statuses.get(reference) != "sent":
            continue
        before = len(sandbox.resends)
        status, _ = resend(stack, reference)
        if status == 201:
            resent += 1
            wrong_resends += sandbox.resends[before]["resendKey"] != key_of[reference]
    print(
        f"chaos: injected={dict(injected)} statuses={dict(status_counts)} emails={sum(by_reference.values())} "
        f"duplicates={len(duplicates)} silent={len(silent)} resends={resent} wrong_resends={wrong_resends}"
    )
    assert duplicates == [] and wrongly_sent == [] and silent == [] and wrong_resends == 0
    assert set(status_counts) <= {"sent", "unconfirmed"}
    if status_counts["unconfirmed"]:  # each one counted on the metric SendUnconfirmedAlarm watches
        logs = "".join(p.read_text() for p in stack.log_dir.glob("*.log"))
        assert logs.count('"SendUnconfirmed"') >= status_counts["unconfirmed"]
