"""Import records are bounded before they are parsed: an over-long line or record is a reject, never a memory spike."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc

from listrak_kit.imports.sources import OrderItemsIndex, RawRecord, csv_records, jsonl_records, text_stream

LIMIT = 1_000


def stream(data: bytes, *, gzipped: bool = False) -> io.TextIOWrapper:
    return text_stream(io.BytesIO(gzip.compress(data) if gzipped else data), gzipped=gzipped)


def test_an_over_long_json_line_is_a_reject_and_the_next_lines_are_read():
    data = b'{"sku": "A"}\n{"sku": "' + b"x" * 5_000 + b'"}\n{"sku": "C"}\n'
    records = list(jsonl_records(stream(data), max_chars=LIMIT))
    assert [r.line for r in records] == [1, 2, 3]
    assert records[0].data == {"sku": "A"} and records[2].data == {"sku": "C"}
    assert records[1].data is None
    assert records[1].error == ("(line)", "over 1000 characters (IMPORT_RECORD_MAX_CHARS); not read")


def test_a_gzip_bomb_of_one_line_costs_no_more_memory_than_the_bound():
    bomb = b'{"sku": "' + b"x" * 50_000_000 + b'"}\n{"sku": "B"}\n'  # 50 MB inflated, 50 KB gzipped
    text = stream(bomb, gzipped=True)
    tracemalloc.start()
    try:
        records = list(jsonl_records(text, max_chars=100_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.data for r in records] == [None, {"sku": "B"}]
    assert peak < 8 * 1024 * 1024  # the reader's buffers and the bound, not the 50 MB line


def test_an_over_long_csv_cell_or_quoted_record_is_a_reject_and_the_file_goes_on():
    long_cell = "y" * 5_000
    quoted = '"' + "\n".join(["z" * 400] * 5) + '"'  # one record of 2,000 characters across five lines
    data = f"sku,title\nA,first\nB,{long_cell}\nC,{quoted}\nD,last\n".encode()
    records = list(csv_records(stream(data), array_fields=(), max_chars=LIMIT))
    kept = [r.data["sku"] for r in records if r.data is not None]
    assert kept == ["A", "D"]
    rejected = [r for r in records if r.data is None]
    assert len(rejected) == 2
    assert all("IMPORT_RECORD_MAX_CHARS" in r.error[1] for r in rejected)


def test_an_orders_items_over_the_bound_are_not_loaded():
    rows = [RawRecord(i, {"orderNumber": "1001", "sku": f"S{i}", "note": "n" * 100}) for i in range(50)]
    rows.append(RawRecord(99, {"orderNumber": "1002", "sku": "T"}))
    index = OrderItemsIndex(rows)
    try:
        assert index.items_for("1001", max_chars=LIMIT) is None
        assert len(index.items_for("1001", max_chars=100_000)) == 50
        assert index.items_for("1002", max_chars=LIMIT) == [{"orderNumber": "1002", "sku": "T"}]
    finally:
        index.close()


def test_lines_within_the_bound_are_read_unchanged():
    records = [{"sku": f"S{i}", "title": "t" * 900} for i in range(3)]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    assert [r.data for r in jsonl_records(stream(data), max_chars=LIMIT)] == records
