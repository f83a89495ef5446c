"""`make run`: every sample in events/ through the real handlers on the local stack, and what became of each.

Each sample says what it is designed to do, in its top-level "expected" (left out of the event the function
sees): {"outcome": "sent|resent|duplicate|found|accepted|ignored|rejected", "statusCode": <API answer>,
"onTheBus": <the outcome of the event a door put on the bus>, "parkedIn": <queue>, "sms": <the outcome of the SMS
a storefront event triggered beside its email>}.
The run ends with one verdict line, and exits 1 when any sample, or any queue, is not as designed: a queue must
hold exactly the samples expected to be parked in it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack import ROOT
from local_stack.cli import one_line_errors
from local_stack.config import log_dir_for
from local_stack.invoke import read_event
from local_stack.stack import LocalStack

# Refusals a sample may be built to show; anything else (a 5xx, a crash) is a failure.
EXPECTED_REFUSALS = {"InvalidRequest", "UnknownMessage", "ValidationError", "Conflict", "NotFound", "Gone"}
OUTCOMES = ("sent", "resent", "duplicate", "found", "accepted", "ignored", "rejected")


@dataclass
class Outcome:
    sample: str
    function: str
    status: str  # sent | resent | duplicate | found | accepted | ignored | rejected | unknown | failed
    detail: str
    status_code: int | None = None  # the API's answer
    parked_in: str | None = None  # the queue (logical id) an event ended in
    on_the_bus: str | None = None  # what became of the event a door put on the bus
    expected: dict[str, Any] | None = None
    sms: str | None = None  # what became of the SMS a storefront event triggered

    def departure(self) -> str | None:
        """How this outcome differs from what the sample is designed to do, or None."""
        expected = self.expected
        if not isinstance(expected, dict) or expected.get("outcome") not in OUTCOMES:
            return f'declares no "expected" outcome (one of {", ".join(OUTCOMES)}); got {self.status}'
        want = [expected["outcome"]]
        got = [self.status]
        if "statusCode" in expected:
            want.append(str(expected["statusCode"]))
            got.append(str(self.status_code))
        if "onTheBus" in expected or self.on_the_bus:
            want.append(f"then {expected.get('onTheBus') or 'nothing'} on the bus")
            got.append(f"then {self.on_the_bus or 'nothing'} on the bus")
        if "parkedIn" in expected or self.parked_in:
            want.append(f"parked in {expected.get('parkedIn') or 'no queue'}")
            got.append(f"parked in {self.parked_in or 'no queue'}")
        if "sms" in expected or self.sms:
            want.append(f"with SMS {expected.get('sms') or 'none'}")
            got.append(f"with SMS {self.sms or 'none'}")
        if want == got:
            return None
        return f"expected {' '.join(want)}, got {' '.join(got)}"


def run_sample(stack: LocalStack, path: Path) -> Outcome:
    event = read_event(path)
    expected = event.pop("expected", None)
    try:
        function = stack.route(event)
    except LookupError as exc:
        outcome = Outcome(path.name, "-", "failed", str(exc.args[0] if exc.args else exc))
    else:
        if function == "ResendFunction" and stack.sandbox is not None:
            # A resend comes minutes after its send: by then Listrak's Activity shows the send (and its resendKey).
            stack.sandbox.advance(stack.sandbox.activity_delay_seconds)
        if stack.is_async(function, event):
            outcome = _async(stack, path.name, function, event)
        else:
            try:
                response = stack.invoke(function, event)
            except Exception as exc:  # a function error: API Gateway would answer 502
                outcome = Outcome(path.name, function, "failed", f"502 {type(exc).__name__}: {exc}", 502)
            else:
                outcome = _api(path.name, function, event, response)
                # What a door put on the storefront bus is sent where every storefront event is.
                for target, delivered in stack.deliver_events():
                    queued = _async_outcome(stack, path.name, target, delivered)
                    outcome.detail += f"; on the bus -> {target}: {queued.status} {queued.detail}"
                    outcome.parked_in = outcome.parked_in or queued.parked_in
                    outcome.on_the_bus = queued.status
                    outcome.sms = outcome.sms or queued.sms
    outcome.expected = expected
    return outcome


def _api(name: str, function: str, event: dict[str, Any], response: dict[str, Any]) -> Outcome:
    status = response.get("statusCode", 0)
    body = json.loads(response.get("body") or "{}")
    if event["httpMethod"] == "GET" and status == 200:
        return Outcome(
            name,
            function,
            "found",
            f"200 sent {body['sentAt']} to {body['to']}, "
            f"resent {body['resendCount']}x ({', '.join(r['toMasked'] for r in body['resends'])})",
            status,
        )
    if status in (200, 202) and body.get("status") in ("accepted", "ignored"):
        said = f"reference={body['reference']}" if body["status"] == "accepted" else body["detail"]
        return Outcome(name, function, body["status"], f"{status} {said}", status)
    if status == 201 and body.get("status") == "resent":
        detail = f"201 reference={body['reference']} resendCount={body['resendCount']}"
        return Outcome(name, function, "resent", detail, status)
    if status == 201:
        return Outcome(name, function, "sent", f"201 reference={body['reference']} resendKey={_short(body)}", status)
    if status == 200:
        return Outcome(name, function, "duplicate", f"200 reference={body['reference']}: first answer replayed", status)
    reason = body.get("message", "")
    if body.get("errors"):
        reason += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in body["errors"])
    if body.get("listrakError"):
        reason += f" ({body['listrakError']}: {body.get('listrakMessage')})"
    return Outcome(name, function, "rejected" if status < 500 else "failed", f"{status} {reason}", status)


def _async(stack: LocalStack, name: str, function: str, event: dict[str, Any]) -> Outcome:
    return _async_outcome(stack, name, function, stack.invoke_async(function, event))


def _async_outcome(stack: LocalStack, name: str, function: str, outcome: Any) -> Outcome:
    if outcome.error is None:
        result = outcome.result
        if result["status"] == "ignored":
            return Outcome(name, function, "ignored", result["reason"])
        if result["status"] == "parked":  # wrong in itself: the function parked it at once, without retries
            queue = "SendDeadLetterQueue"
            return Outcome(
                name,
                function,
                "rejected",
                f"parked in {queue} at once, not retried: {result['reason']}",
                parked_in=queue,
            )
        if result.get("channel") == "sms":  # an event that triggers only an SMS
            said = f"SMS {result['status']} {result.get('reference') or ''} {result.get('reason') or ''}".rstrip()
            return Outcome(name, function, result["status"], said, sms=result["status"])
        detail = f"reference={result['reference']} resendKey={_short(result)}"
        sms = result.get("sms")
        if sms:
            detail += f"; SMS {sms['status']} {sms.get('reference') or ''} {sms.get('reason') or ''}".rstrip()
        return Outcome(name, function, result["status"], detail, sms=sms["status"] if sms else None)
    kind = type(outcome.error).__name__
    queue = stack.logical_id_of(outcome.parked_in) if outcome.parked_in else None
    where = queue or "nowhere (no on-failure destination)"
    status = "rejected" if kind in EXPECTED_REFUSALS else "failed"
    return Outcome(
        name,
        function,
        status,
        f"{kind} after {outcome.attempts} attempts, parked in {where}: {outcome.error}",
        parked_in=queue,
    )


def queue_departures(stack: LocalStack, outcomes: list[Outcome]) -> tuple[list[str], list[str]]:
    """Each queue's depth against the samples expected to end in it: (report lines, departures)."""
    lines, departures = [], []
    for logical_id in stack.template.of_type("AWS::SQS::Queue"):
        attributes = stack.client("sqs").get_queue_attributes(
            QueueUrl=stack.refs[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        held = int(attributes["ApproximateNumberOfMessages"])
        expected = sum(1 for o in outcomes if isinstance(o.expected, dict) and o.expected.get("parkedIn") == logical_id)
        lines.append(f"{logical_id}: {held} message(s)")
        if held != expected:
            departures.append(f"{logical_id} holds {held} message(s), the samples expect {expected}")
    return lines, departures


def verdict(outcomes: list[Outcome], queue_problems: list[str]) -> str:
    departures = [f"{o.sample} {why}" for o in outcomes if (why := o.departure())]
    if not departures and not queue_problems:
        return f"All {len(outcomes)} samples behaved as designed."
    count = len(departures)
    head = (
        f"{count} of {len(outcomes)} samples did not behave as designed" if count else "The queues are not as designed"
    )
    return f"{head}: {'; '.join(departures + queue_problems)}"


def run_imports(stack: LocalStack) -> list[str]:
    """Drops each sample file as a storefront export would; S3's event plans it, SQS feeds its parts."""
    root = ROOT / "samples" / "imports"
    bucket = stack.refs["ImportBucket"]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        stack.drop_file("ImportBucket", path.relative_to(root).as_posix(), path.read_bytes())
    stack.drain("ImportQueue")
    replanned = stack.fire_schedule("ImportFunction", "Nightly").result["planned"]
    stack.drain("ImportQueue")
    lines = []
    s3 = stack.client("s3")
    for path in files:
        key = path.relative_to(root).as_posix()
        try:
            body = s3.get_object(Bucket=bucket, Key=f"results/{key}.manifest.json")["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue  # an order-items file: imported with its orders
        manifest = json.loads(body)
        rejects = f", rejects in s3://{bucket}/{manifest['rejects'][0]}" if manifest["rejects"] else ""
        lines.append(f"  {key:<36} {manifest['accepted']} accepted, {manifest['rejected']} rejected{rejects}")
    lines.append(f"  the schedule found {len(replanned)} file(s) left to import: a file is imported once")
    if stack.sandbox is not None:
        stats = stack.sandbox.stats
        lines.append(
            f"  Listrak sandbox received records {stats['data_records']}, {stats['contact_upserts']} contact "
            f"upsert(s) and {stats['list_imports']} list import(s)"
        )
    return lines


EXPIRED_DAYS = 45


def seed_expired_send(stack: LocalStack) -> str:
    """A send older than Listrak's 30 days, so the samples can show a resend being refused."""
    from listrak_kit.aws.send_records import DynamoSendRecords
    from listrak_kit.clock import to_iso
    from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, SendRecord
    from listrak_kit.masking import email_fingerprint, mask_email

    sent_at = time.time() - EXPIRED_DAYS * 86400
    DynamoSendRecords(stack.refs["Table"]).begin(
        SendRecord(
            reference="order-0042",
            status="sent",
            message="order-confirmation",
            listId=300001,
            transactionalMessageId=7001,
            resendKey=str(uuid.uuid4()),
            emailMasked=mask_email("jane.doe@example.com"),
            emailFingerprint=email_fingerprint("jane.doe@example.com"),
            sentAt=to_iso(sent_at),
            resendableUntil=to_iso(sent_at + RESEND_WINDOW_SECONDS),
        )
    )
    return "order-0042"


def _short(body: dict[str, Any]) -> str:
    key = body.get("resendKey")
    return f"{key[:8]}…" if key else "none"


@one_line_errors("make run")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("samples", nargs="*", type=Path, help="event files (default: every file in events/)")
    args = parser.parse_args(argv)
    samples = args.samples or sorted((ROOT / "events").glob("*.json"))
    for path in samples:
        read_event(path)  # a missing or malformed file is a mistake in the command, said before anything starts

    with LocalStack(log_dir=log_dir_for("run")) as stack:
        print(f"AWS (moto):      {stack.aws_endpoint}")
        print(f"Listrak sandbox: {stack.sandbox.url if stack.sandbox else stack.listrak_urls['LISTRAK_EMAIL_API_URL']}")
        seeded = seed_expired_send(stack)
        print(f"Seeded a send made {EXPIRED_DAYS} days ago: reference {seeded} (past Listrak's resend window)")
        print()
        outcomes = [run_sample(stack, path) for path in samples]
        width = max(len(o.sample) for o in outcomes)
        for o in outcomes:
            print(f"{o.sample:<{width}}  {o.function:<18} {o.status:<9}  {o.detail}")
        print()
        print("Imports (samples/imports/ dropped into the import bucket, then the nightly schedule fires):")
        for line in run_imports(stack):
            print(line)
        print()
        if stack.sandbox is not None:
            stats = stack.sandbox.stats
            by_integration = stats["tokens_minted_by_integration"].items()
            minted = ", ".join(f"{n} {name}" for name, n in by_integration if n) or "none"
            print(
                f"Listrak sandbox received {stats['sends']} sends, {stats['resends']} resend(s) and "
                f"{stats['sms_sends']} SMS; "
                f"tokens minted: {minted}."
            )
        lines, queue_problems = queue_departures(stack, outcomes)
        for line in lines:
            print(line)
        print(f"Function logs: {stack.log_dir.relative_to(ROOT)}/")
    print()
    line = verdict(outcomes, queue_problems)
    print(line)
    return 0 if line.startswith("All ") else 1


if __name__ == "__main__":
    sys.exit(main())
