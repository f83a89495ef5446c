"""`make run`: every sample in events/ through the real handlers on the local stack, and what became of each."""

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
from local_stack.stack import LocalStack

# Refusals a sample may be built to show; anything else (a 5xx, a crash) fails the run.
EXPECTED_REFUSALS = {"InvalidRequest", "UnknownMessage", "ValidationError", "Conflict", "NotFound", "Gone"}


@dataclass
class Outcome:
    sample: str
    function: str
    status: str  # sent | resent | duplicate | found | accepted | ignored | rejected | unknown | failed
    detail: str


def run_sample(stack: LocalStack, path: Path) -> Outcome:
    event = json.loads(path.read_text(encoding="utf-8"))
    function = stack.route(event)
    if stack.is_async(function, event):
        return _async(stack, path.name, function, event)
    outcome = _api(path.name, function, event, stack.invoke(function, event))
    # What a door put on the storefront bus is sent where every storefront event is.
    for target, delivered in stack.deliver_events():
        queued = _async_outcome(path.name, target, delivered)
        outcome.detail += f"; on the bus -> {target}: {queued.status} {queued.detail}"
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
        )
    if status == 201 and body.get("status") == "resent":
        return Outcome(name, function, "resent", f"201 reference={body['reference']} resendCount={body['resendCount']}")
    if status == 201:
        return Outcome(name, function, "sent", f"201 reference={body['reference']} resendKey={_short(body)}")
    if status in (200, 202) and body.get("status") in ("accepted", "ignored"):
        said = f"reference={body['reference']}" if body["status"] == "accepted" else body["detail"]
        return Outcome(name, function, body["status"], f"{status} {said}")
    if status == 200:
        return Outcome(name, function, "duplicate", f"200 reference={body['reference']}: first answer replayed")
    reason = body.get("message", "")
    if body.get("errors"):
        reason += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in body["errors"])
    if body.get("listrakError"):
        reason += f" ({body['listrakError']}: {body.get('listrakMessage')})"
    return Outcome(name, function, "rejected" if status < 500 else "failed", f"{status} {reason}")


def _async(stack: LocalStack, name: str, function: str, event: dict[str, Any]) -> Outcome:
    return _async_outcome(name, function, stack.invoke_async(function, event))


def _async_outcome(name: str, function: str, outcome: Any) -> Outcome:
    if outcome.error is None:
        result = outcome.result
        if result["status"] == "ignored":
            return Outcome(name, function, "ignored", result["reason"])
        return Outcome(name, function, result["status"], f"reference={result['reference']} resendKey={_short(result)}")
    kind = type(outcome.error).__name__
    where = "dead-letter queue" if outcome.parked_in else "nowhere (no on-failure destination)"
    status = "rejected" if kind in EXPECTED_REFUSALS else "failed"
    return Outcome(
        name, function, status, f"{kind} after {outcome.attempts} attempts, parked in {where}: {outcome.error}"
    )


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
    DynamoSendRecords(stack.refs["Table"]).put(
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("samples", nargs="*", type=Path, help="event files (default: every file in events/)")
    args = parser.parse_args(argv)
    samples = args.samples or sorted((ROOT / "events").glob("*.json"))

    with LocalStack() as stack:
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
            minted = ", ".join(f"{n} {name}" for name, n in stats["tokens_minted_by_integration"].items())
            print(
                f"Listrak sandbox received {stats['sends']} sends and {stats['resends']} resend(s); "
                f"tokens minted: {minted}."
            )
        for logical_id, _resource in stack.template.of_type("AWS::SQS::Queue").items():
            attributes = stack.client("sqs").get_queue_attributes(
                QueueUrl=stack.refs[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            print(f"{logical_id}: {attributes['ApproximateNumberOfMessages']} message(s)")
        print(f"Function logs: {stack.log_dir.relative_to(ROOT)}/")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(f"{len(failed)} sample(s) failed unexpectedly", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
