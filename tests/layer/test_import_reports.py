"""Reject reports and Listrak bodies, byte for byte: files holding every kind of bad record (and lax good ones)
go through the import pipeline and the direct importer, and what they write must equal the recorded output.

tests/data/imports/<name> is the input; <name>.rejects.jsonl, <name>.sent.jsonl (one chunk body a line) and
<name>.direct.json are what the detailed models produced for it. A faster path must leave every byte alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from listrak_kit.aws.import_ledger import DynamoImportLedger
from listrak_kit.aws.objects import S3Objects
from listrak_kit.imports.chunks import ChunkLimits
from listrak_kit.imports.direct import DirectImporter
from listrak_kit.imports.pipeline import ImportPipeline, PartTask
from listrak_kit.imports.sources import classify, csv_records, jsonl_records
from tests.layer.aws_fakes import BUCKET, TABLE, aws  # noqa: F401

DATA = Path(__file__).parent.parent / "data" / "imports"
FILES = sorted(p.name for p in DATA.iterdir() if p.name.count(".") == 1)
# Small enough that both limits cut chunks in these files: the record count and the byte size.
LIMITS = ChunkLimits(max_records=5, max_bytes=6000)


class RawBodies:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def import_records(self, route: str, body: bytes, budget_seconds: float | None = None) -> str | None:
        self.bodies.append(bytes(body))
        return None


class Tasks(list):
    def send(self, task):
        self.append(task)


def through_pipeline(name: str) -> tuple[bytes, bytes]:
    """(the rejects file, every chunk body a line) for the file as the import pipeline reads it."""
    key = f"{name.split('.')[0]}/{name}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=(DATA / name).read_bytes())
    data, tasks = RawBodies(), Tasks()
    pipeline = ImportPipeline(
        objects=S3Objects(BUCKET), data_api=data, ledger=DynamoImportLedger(TABLE), tasks=tasks, limits=LIMITS
    )
    assert pipeline.plan(key, owner="t") == "queued in 1 part(s)"
    outcome = pipeline.run_part(PartTask.model_validate(tasks[0]))
    assert outcome.status == "done" and outcome.rejected > 0
    rejects = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"results/{key}.rejects.jsonl")["Body"].read()
    return rejects, b"".join(body + b"\n" for body in data.bodies)


def through_direct(name: str) -> bytes:
    """The direct importer's outcome and bodies for the file's readable records, as one JSON document."""
    kind = classify(f"{name.split('.')[0]}/{name}")
    assert kind is not None
    with (DATA / name).open(encoding="utf-8", newline="") as text:
        if kind.format == "jsonl":
            raws = [raw.data for raw in jsonl_records(text) if raw.data is not None]
        else:
            raws = [raw.data for raw in csv_records(text, array_fields=("items", "relatedProducts"))]
    data = RawBodies()
    outcome = DirectImporter(data_api=data, limits=LIMITS).import_records(kind.entity, [r for r in raws if r])
    document = {"outcome": outcome.__dict__, "bodies": [body.decode("utf-8") for body in data.bodies]}
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def test_the_fixture_files_hold_every_kind_of_problem():
    reasons = set()
    for name in FILES:
        for line in (DATA / f"{name}.rejects.jsonl").read_text(encoding="utf-8").splitlines():
            reason = json.loads(line)["reason"]
            reasons.add(reason.split(" (")[0] if "did you mean" in reason else reason.split(":")[0].split(" (")[0])
    for expected in (
        "required",
        "not a Listrak field",
        "must be one of NotSet, Misc, PreOrder, BackOrder, Pending, Hold, Processing, Shipped, Completed, "
        "Returned, Canceled, Unknown, Closed",
        "must be a whole number",
        "must be a number",
        "must be a finite number",
        "must be true or false",
        "must be an ISO-8601 date-time",
        "must be an object",
        "must be a list",
        "must be a string",
        f"must be at least {-(2**31)}",
        f"must be at most {2**31 - 1}",
        "not valid JSON",
        "must be a JSON object",
        "must be a JSON array",
        "has 2 columns; the header has 8",
        "conflicts with column title",
    ):
        assert any(r.startswith(expected) for r in reasons), expected


@pytest.mark.parametrize("name", FILES)
def test_the_pipeline_writes_the_recorded_rejects_and_bodies(aws, name):  # noqa: F811
    rejects, bodies = through_pipeline(name)
    assert rejects == (DATA / f"{name}.rejects.jsonl").read_bytes()
    assert bodies == (DATA / f"{name}.sent.jsonl").read_bytes()


@pytest.mark.parametrize("name", FILES)
def test_the_direct_importer_answers_the_recorded_outcome_and_bodies(name):
    assert through_direct(name) == (DATA / f"{name}.direct.json").read_bytes()
