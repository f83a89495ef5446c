"""The import readers on their own: file kinds, CSV headers and rows, JSON Lines, gzip."""

from __future__ import annotations

import gzip
import io

from listrak_kit.imports.sources import (
    FileKind,
    classify,
    csv_header,
    csv_records,
    items_key_for,
    jsonl_records,
    orders_key_for,
    text_stream,
)


def test_the_key_says_what_a_file_is():
    assert classify("customers/2026-11-22.jsonl") == FileKind("customers", "jsonl", False)
    assert classify("orders/a.CSV.gz") == FileKind("orders", "csv", True)
    assert classify("orders/a.items.csv") is None  # read with its orders file, never alone
    assert classify("misc/a.csv") is None
    assert classify("customers/") is None
    assert classify("customers/a.txt") is None


def test_items_and_orders_keys_pair_up():
    assert items_key_for("orders/a.csv.gz") == "orders/a.items.csv.gz"
    assert orders_key_for("orders/a.items.csv") == "orders/a.csv"


def test_the_header_is_read_from_the_first_line_alone():
    text = io.StringIO(' email , items ,"first, name"\nrow,that,"is never\nread"\n')
    assert csv_header(text) == ["email", "items", "first, name"]
    assert text.readline() == 'row,that,"is never\n'
    assert csv_header(io.StringIO("")) == []


def test_csv_rows_name_their_lines_and_problems():
    text = io.StringIO('email,address.city\na@x.org,Paris\n\n"b@x.org","multi\nline"\nonly-one-cell\n')
    records = list(csv_records(text, array_fields=()))
    assert [(r.line, r.data, r.error) for r in records] == [
        (2, {"email": "a@x.org", "address": {"city": "Paris"}}, None),
        (4, {"email": "b@x.org", "address": {"city": "multi\nline"}}, None),
        (6, None, ("(line)", "has 1 columns; the header has 2")),
    ]


def test_json_lines_reject_what_is_not_an_object():
    text = io.StringIO('{"sku": "A"}\n\nnot json\n[1]\n')
    records = list(jsonl_records(text, first_line=10))
    assert records[0].line == 10 and records[0].data == {"sku": "A"}
    assert [(r.line, r.data is None) for r in records[1:]] == [(12, True), (13, True)]
    assert records[-1].error == ("(line)", "must be a JSON object")


def test_a_gzipped_stream_reads_as_text():
    raw = io.BytesIO(gzip.compress("sku\nA-é\n".encode()))
    with text_stream(raw, gzipped=True) as text:
        assert [r.data for r in csv_records(text, array_fields=())] == [{"sku": "A-é"}]


def test_a_line_holding_an_integer_past_python_s_digit_limit_is_a_reject_not_a_crash() -> None:
    [record] = list(jsonl_records(["9" * 5000 + "\n"]))
    assert record.data is None
    assert record.error is not None and record.error[0] == "(line)" and "not valid JSON" in record.error[1]
