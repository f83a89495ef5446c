"""The delivery poller for 10,000 sends a day: Activity calls per run and its CPU, beside a floor.

A day of five-minute runs over five catalog messages (2,000 sends each, one address per send), with the activity a
store sees (opens, clicks, bounces, complaints, unsubscribes) spread over the day. Activity and the send records
are in memory, so what is timed is the poller itself: paging, matching each row to its send by the sole-candidate
rule, recording and eventing. The floor parses the same pages with a bare loop (each row's address hashed and its
flags read), the least any poller must do.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections import defaultdict
from typing import Any

from bench.common import LAYER

SENDS_PER_DAY = 10_000
MESSAGES = 5
PERIOD = 300.0
DAY = 86_400.0
START = 1_795_000_000.0
SHARES = {"open": 0.30, "click": 0.08, "bounce": 0.02, "abuse": 0.001, "unsubscribe": 0.003}


def measure(sends: int = SENDS_PER_DAY, seed: int = 7) -> dict[str, Any]:
    sys.path.insert(0, str(LAYER))
    from listrak_kit.clock import from_iso, to_iso
    from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, Attempt, SendRecord
    from listrak_kit.delivery.poller import DeliveryPoller, PollPolicy
    from listrak_kit.masking import email_fingerprint, mask_email

    rng = random.Random(seed)

    class Clock:
        t = START

        def now(self) -> float:
            return self.t

    class Records:
        def __init__(self) -> None:
            self.sends: dict[str, SendRecord] = {}
            self.by_fp: dict[tuple[int, int, str], list[str]] = defaultdict(list)
            self.state: dict[tuple[int, int], dict[str, Any]] = {}
            self.reads = self.writes = 0

        def by_recipient(self, list_id: int, message_id: int, fingerprint: str, since: str) -> list[SendRecord]:
            self.reads += 1
            return [
                self.sends[r] for r in self.by_fp[list_id, message_id, fingerprint] if self.sends[r].sentAt >= since
            ]

        def get(self, reference: str) -> SendRecord | None:
            self.reads += 1
            return self.sends.get(reference)

        def activity_model(self) -> None:
            return None

        def messages(self, since: float) -> list[tuple[int, int]]:
            return []

        def poll_state(self, list_id: int, message_id: int) -> dict[str, Any]:
            self.reads += 1
            return dict(self.state.get((list_id, message_id), {}))

        def save_poll_state(self, list_id: int, message_id: int, state: dict[str, Any]) -> None:
            self.writes += 1
            self.state[list_id, message_id] = dict(state)

        def add_delivery(self, reference: str, seen: dict[str, str], reason: str | None) -> SendRecord:
            self.writes += 1  # one update: every send made now has its maps
            record = self.sends[reference]
            merged = {**seen, **record.deliverySeen}
            record = record.model_copy(update={"deliverySeen": merged, "bounceReason": record.bounceReason or reason})
            self.sends[reference] = record
            return record

        def mark_notified(self, reference: str, kind: str, at: str) -> None:
            self.writes += 1  # one update: every send made now has its maps
            record = self.sends[reference]
            self.sends[reference] = record.model_copy(
                update={"deliveryNotified": {**record.deliveryNotified, kind: at}}
            )

    class Activity:
        def __init__(self) -> None:
            self.rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
            self.pages: list[list[dict[str, Any]]] = []
            self.calls = 0

        def activity_page(self, **kw: Any) -> tuple[list[dict[str, Any]], str | None]:
            self.calls += 1
            lo, hi, now = from_iso(kw["start_date"]), from_iso(kw["end_date"]), clock.t
            rows = [r for r in self.rows[kw["transactional_message_id"]] if lo <= r["_at"] <= min(hi, now)]
            first = 0 if kw["cursor"] == "Start" else int(kw["cursor"])
            size = kw["page_size"]
            page = [{k: v for k, v in r.items() if k != "_at"} for r in rows[first : first + size]]
            self.pages.append(page)
            return page, (str(first + size) if first + size < len(rows) else None)

    class Bus:
        events = 0

        def put(self, **_kw: Any) -> str:
            Bus.events += 1
            return "id"

    clock, records, activity, bus = Clock(), Records(), Activity(), Bus()
    names = {(300001, 7000 + m): f"message-{m}" for m in range(MESSAGES)}
    for i in range(sends):
        message = 7000 + i % MESSAGES
        address = f"buyer{i}@example.com"
        sent = START + rng.uniform(0, DAY)
        reference = f"ref-{i}"
        records.sends[reference] = SendRecord(
            reference=reference,
            status="sent",
            message=names[300001, message],
            listId=300001,
            transactionalMessageId=message,
            emailMasked=mask_email(address),
            emailFingerprint=email_fingerprint(address),
            sentAt=to_iso(sent),
            resendableUntil=to_iso(sent + RESEND_WINDOW_SECONDS),
            attempts=[Attempt(n=1, startedAt=to_iso(sent), outcome="accepted", resolvedBy="answer")],
        )
        records.by_fp[300001, message, email_fingerprint(address)].append(reference)
        flags = {k: rng.random() < share for k, share in SHARES.items()}
        if any(flags.values()):
            activity.rows[message].append(
                {
                    "emailAddress": address,
                    "resendKey": f"key-{i}",
                    "sendDate": to_iso(sent),
                    "activityDate": to_iso(sent + rng.uniform(60, 3600)),
                    **flags,
                    "read": flags["open"],
                    "bounceReason": "Mailbox does not exist" if flags["bounce"] else None,
                }
            )
    for rows in activity.rows.values():
        for row in rows:
            row["_at"] = from_iso(str(row["activityDate"]))
    poller = DeliveryPoller(
        email_api=activity,  # type: ignore[arg-type]
        records=records,
        bus=bus,
        names=names,
        clock=clock,  # type: ignore[arg-type]
        count=lambda _metric, _message: None,
        policy=PollPolicy(first_window_seconds=PERIOD),
    )
    from listrak_kit.observability import logger

    level = logger.log_level
    logger.setLevel("WARNING")  # a line per run is the deployed function's; here it would be the measurement
    try:
        return _day(poller, clock, activity, records, bus)
    finally:
        logger.setLevel(level)


def _day(poller: Any, clock: Any, activity: Any, records: Any, bus: Any) -> dict[str, Any]:
    calls_per_run: list[int] = []
    cpu = 0.0
    runs = int((DAY + 2 * 3600) / PERIOD)  # the day, and the late activity of its last sends
    for _ in range(runs):
        clock.t += PERIOD
        before = activity.calls
        started = time.process_time()
        poller.run()
        cpu += time.process_time() - started
        calls_per_run.append(activity.calls - before)

    def floor() -> int:
        seen = 0
        for page in activity.pages:
            for row in page:
                hashlib.sha256(row["emailAddress"].strip().lower().encode()).hexdigest()
                seen += sum(1 for flag in ("bounce", "abuse", "unsubscribe", "click", "open") if row[flag] is True)
        return seen

    started = time.process_time()
    floor()
    floor_cpu = time.process_time() - started
    rows_read = sum(len(page) for page in activity.pages)
    recorded = sum(1 for r in records.sends.values() if r.deliverySeen)
    expected = sum(len(rows) for rows in activity.rows.values())
    return {
        "sends": len(records.sends),
        "messages": MESSAGES,
        "period_seconds": PERIOD,
        "runs": runs,
        "activity_calls_per_run": {"mean": round(sum(calls_per_run) / runs, 2), "max": max(calls_per_run)},
        "activity_calls": activity.calls,
        "rows_read": rows_read,
        "rows_with_activity": expected,
        "sends_with_delivery": recorded,
        "events": bus.events,
        "cpu_seconds": round(cpu, 3),
        "floor_cpu_seconds": round(floor_cpu, 3),
        "ratio": round(cpu / floor_cpu, 1) if floor_cpu else None,
        "dynamodb_reads": records.reads,
        "dynamodb_writes": records.writes,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else SENDS_PER_DAY), indent=1))
