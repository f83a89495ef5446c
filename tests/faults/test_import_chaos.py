"""20,000 orders, 2,000 contacts and 5,000 products while Listrak fails a fifth of its calls in every way it can,
the S3 stream drops twice and the function is cut off twice: nothing is lost, nothing stalls.

SQS is moto's, read with its real ApproximateReceiveCount; a part past maxReceiveCount goes to the dead-letter
queue as the redrive policy sends it. A cut-off is the invocation killed right after Listrak accepted a chunk and
before the ledger recorded it (the worst moment): no code of the function runs, the message comes back.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter

import pytest

from listrak_kit.imports.pipeline import PartTask
from listrak_kit.services import import_pipeline
from listrak_kit.settings import ImportSettings, load_settings
from local_stack.sandbox import FAULT_KINDS
from tests.handlers.test_import_guarantees import DroppingStreams

LIST = 400001  # the local stack's "Master List"
FIRST = 9101  # its "First Name" profile field
ORDERS, CONTACTS, PRODUCTS = 20_000, 2_000, 5_000
BAD_EVERY = 97  # one row in 97 is invalid, and is rejected before Listrak sees it
MAX_RECEIVES = 5


class CutOff(BaseException):
    """The invocation reached its deadline: Lambda stops it where it stands (no except clause runs)."""


class CutsOff:
    """Kills the invocation after Listrak accepted the chunk and before the ledger records it, at calls `at`."""

    def __init__(self, ledger, at):
        self._record, self.at, self.calls, self.cuts = ledger.chunk_sent, set(at), 0, 0
        ledger.chunk_sent = self

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls in self.at:
            self.cuts += 1
            raise CutOff
        return self._record(*args, **kwargs)


def files() -> dict[str, tuple[bytes, set[str]]]:
    """key -> (body, the keys of its valid records)."""
    orders, order_keys = io.StringIO(), set()
    writer = csv.writer(orders)
    writer.writerow(["orderNumber", "status", "orderTotal", "email", "items"])
    for n in range(ORDERS):
        status = "placed" if n % BAD_EVERY == 5 else "Completed"
        items = json.dumps([{"sku": f"P-{n % PRODUCTS:05d}", "quantity": 1 + n % 3, "price": 9.5}])
        writer.writerow([f"O-{n:06d}", status, f"{10 + n % 90}.5", f"buyer{n}@example.com", items])
        if status == "Completed":
            order_keys.add(f"O-{n:06d}")
    products, product_keys = [], set()
    for n in range(PRODUCTS):
        bad = n % BAD_EVERY == 7
        products.append({"sku": f"P-{n:05d}", "title": f"Product {n}", "price": "cheap" if bad else 5 + n % 50})
        if not bad:
            product_keys.add(f"P-{n:05d}")
    contacts, contact_keys = ["emailAddress,First Name"], set()
    for n in range(CONTACTS):
        bad = n % BAD_EVERY == 3
        address = f"not-an-address-{n}" if bad else f"fan{n}@example.com"
        contacts.append(f"{address},Fan{n}")
        if not bad:
            contact_keys.add(address)
    return {
        "orders/2026-11-22.csv": (orders.getvalue().encode(), order_keys),
        "products/2026-11-22.jsonl": ("".join(json.dumps(p) + "\n" for p in products).encode(), product_keys),
        "contacts/2026-11-22.csv": (("\n".join(contacts) + "\n").encode(), contact_keys),
    }


@pytest.mark.chaos
def test_every_valid_record_arrives_and_no_part_stalls_under_every_fault(stack, sandbox):
    started = time.monotonic()
    stack.env_overrides.update(
        {
            "LISTRAK_READ_TIMEOUT": "0.5",
            "LISTRAK_RETRY_BUDGET_SECONDS": "10",
            "IMPORT_CHUNK_MAX_RECORDS": "125",  # enough requests for every one of the 14 fault kinds to strike
            "CONTACTS_POLL_SECONDS": "0",
            "IMPORT_MAX_RECEIVES": str(MAX_RECEIVES),
        }
    )
    dropped = files()
    assert sum(len(valid) for _, valid in dropped.values()) == 26_720  # as the fault table in docs/ says
    bucket, s3, sqs = stack.refs["ImportBucket"], stack.client("s3"), stack.client("sqs")
    queue, dlq = stack.refs["ImportQueue"], stack.refs["ImportDeadLetterQueue"]
    for key, (body, _) in dropped.items():
        [(_, planned)] = stack.drop_file("ImportBucket", key, body)
        assert planned.result["outcome"] == "queued in 1 part(s)", planned.result

    sandbox.fail_at_random(0.2, FAULT_KINDS, seed=7, delay=0.7)  # "slow" outlasts the read timeout
    deliveries = Counter()
    with stack.function_env("ImportFunction"):
        pipeline = import_pipeline(load_settings(ImportSettings))
        streams = DroppingStreams(pipeline._objects, drops=2, after=300_000)
        cuts = CutsOff(pipeline._ledger, at=(3, 17))
        while messages := sqs.receive_message(
            QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=0
        ).get("Messages"):
            for message in messages:
                delivery = int(message["Attributes"]["ApproximateReceiveCount"])
                deliveries[json.loads(message["Body"])["key"]] += 1
                try:
                    pipeline.run_part(
                        PartTask.model_validate_json(message["Body"]), time_left=lambda: 600.0, delivery=delivery
                    )
                except CutOff:
                    continue  # killed: the message is not deleted and comes back
                except Exception:
                    if delivery < MAX_RECEIVES:
                        continue  # SQS delivers it again
                    sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])  # the redrive policy
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    sandbox.fail_at_random(0)

    faults = sandbox.stats["faults_by_kind"]
    assert all(faults[kind] for kind in FAULT_KINDS), faults
    assert streams.drops == 0 and cuts.cuts == 2
    assert sqs.receive_message(QueueUrl=dlq).get("Messages") is None  # 0 parts in the dead-letter queue

    received = {"orders/2026-11-22.csv": "Order", "products/2026-11-22.jsonl": "Product"}
    for key, route in received.items():
        keys = [r["orderNumber" if route == "Order" else "sku"] for body in sandbox.data_imports[route] for r in body]
        assert set(keys) == dropped[key][1]  # every valid record, and only those
        _repeats_are_whole_chunks(sandbox.data_imports[route], "orderNumber" if route == "Order" else "sku")
    subscribed = {e for e, c in sandbox.contacts[LIST].items() if c["subscriptionState"] == "Subscribed"}
    assert subscribed == dropped["contacts/2026-11-22.csv"][1]
    assert sandbox.contacts[LIST]["fan1@example.com"]["fields"] == {FIRST: "Fan1"}

    for key, (_, valid) in dropped.items():
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"results/{key}.manifest.json")["Body"].read())
        assert manifest["state"] == "imported with rejects"
        assert (manifest["accepted"], manifest["records"] - manifest["accepted"]) == (
            len(valid),
            manifest["rejected"],
        )
    elapsed = time.monotonic() - started
    print(
        f"\nchaos: {ORDERS + CONTACTS + PRODUCTS} records, {sandbox.stats['requests']} Listrak requests, "
        f"{sandbox.stats['faults_injected']} faults {faults}, deliveries {dict(deliveries)}, {elapsed:.1f} s"
    )
    assert elapsed < 90


def _repeats_are_whole_chunks(bodies, key_field):
    """A record arrives twice only inside a chunk sent again whole (its first answer was lost)."""
    seen: dict[frozenset, int] = {}
    records: set[str] = set()
    for body in bodies:
        keys = frozenset(r[key_field] for r in body)
        if keys in seen:
            continue
        assert not keys & records, "a record arrived twice outside a repeated chunk"
        seen[keys] = 1
        records |= keys
