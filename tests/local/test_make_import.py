"""`make import`: the manifest's state and the first rejects on screen, the full results on disk, a non-zero exit
for a file that failed or had nothing accepted, and a resume from the saved manifest."""

from __future__ import annotations

import gzip
import json

import pytest

import listrak_kit.observability  # noqa: F401 (its log handler binds the real stdout, not a test's capture)
from local_stack import import_file


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(import_file, "RESULTS_DIR", tmp_path / "results")
    return tmp_path / "results"


def run(stack, tmp_path, entity, name, body, *, resume=False):
    path = tmp_path / name
    path.write_bytes(body)
    return import_file._import(stack, f"{entity}/{name}", path, resume=resume)


def test_every_row_rejected_exits_non_zero_and_says_how_many_more_rejects_there_are(stack, tmp_path, results, capsys):
    body = b"sku,title\n" + b"".join(b",t%d\n" % n for n in range(25))
    assert run(stack, tmp_path, "products", "bad.csv", body) == 1
    out = capsys.readouterr()
    assert "imported with rejects: 25 records" in out.out and "0 accepted, 25 rejected" in out.out
    assert f"... and 5 more in {results / 'products/bad.csv.rejects.jsonl'}" in out.out
    assert "every record was rejected" in out.err
    assert len((results / "products/bad.csv.rejects.jsonl").read_text().splitlines()) == 25
    assert json.loads((results / "products/bad.csv.manifest.json").read_text())["rejected"] == 25


def test_contacts_are_imported(stack, tmp_path, results, capsys):
    assert run(stack, tmp_path, "contacts", "c.csv", b"emailAddress,First Name\nann@example.com,Ann\n") == 0
    assert "imported: 1 records" in capsys.readouterr().out
    assert stack.sandbox.contacts[400001]["ann@example.com"]["subscriptionState"] == "Subscribed"


@pytest.mark.parametrize(
    ("name", "body", "said"),
    [
        ("semi.csv", b"orderNumber;status\n1;Completed\n", "failed: the header is one column"),
        ("empty.csv", b"", "failed: the file is empty"),
        (
            "broken.jsonl.gz",
            gzip.compress(b"".join(b'{"orderNumber": "%d"}\n' % n for n in range(5000)))[:2000],
            "not a valid gzip file",
        ),
    ],
)
def test_an_unreadable_file_fails_in_one_line(stack, tmp_path, results, capsys, name, body, said):
    assert run(stack, tmp_path, "orders", name, body) == 1
    out = capsys.readouterr().out
    assert said in out and "Traceback" not in out
    assert json.loads((results / f"orders/{name}.manifest.json").read_text())["state"] == "failed"


def test_a_failed_import_resumes_from_the_saved_manifest(stack, tmp_path, results, capsys):
    stack.env_overrides.update({"IMPORT_CHUNK_MAX_RECORDS": "10", "IMPORT_RETRY_ATTEMPTS": "1"})
    body = b"".join(b'{"sku": "S-%02d"}\n' % n for n in range(30))
    # After chunk 0, every Data Import call answers 503 on every delivery: the file fails there.
    original = stack.sandbox._handle_data
    calls = {"n": 0}

    def flaky(request, params):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise import_file_error()
        return original(request, params)

    stack.sandbox._handle_data = flaky
    try:
        assert run(stack, tmp_path, "products", "p.jsonl", body) == 1
    finally:
        stack.sandbox._handle_data = original
    out = capsys.readouterr().out
    assert "failed:" in out and "not imported: line 11 to the end of the file" in out and "RESUME=1" in out

    stack.sandbox.reset()
    assert run(stack, tmp_path, "products", "p.jsonl", body, resume=True) == 0
    out = capsys.readouterr().out
    assert "1 chunk(s) Listrak accepted before are skipped" in out
    assert "products/p.jsonl: resumed: 1 part(s)" in out  # as `listrak-sam imports resume` says it
    sent = [r["sku"] for batch in stack.sandbox.data_imports["Product"] for r in batch]
    assert sent == [f"S-{n:02d}" for n in range(10, 30)]


def import_file_error():
    from local_stack.sandbox.wire import ApiError

    return ApiError(503, "ERROR_SERVICE_UNAVAILABLE", "The service is unavailable.")
