"""Import files as streams of raw records: JSON Lines or CSV, optionally gzipped, one record in memory at a time.

CSV headers are Listrak field names. A nested object's fields are dotted (`billingAddress.city`); an array of
objects (`items`, `ratings`...) is one JSON-encoded cell. An empty cell means the field is absent.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, TextIO

Format = Literal["jsonl", "csv"]
ENTITY_PREFIXES = ("customers/", "orders/", "products/", "reviews/", "rating-summaries/", "contacts/")
ITEMS_SUFFIXES = (".items.csv", ".items.csv.gz")
RESULTS_PREFIX = "results/"

csv.field_size_limit(16 * 1024 * 1024)  # a product description or an items cell can be long


@dataclass(frozen=True)
class FileKind:
    entity: str
    format: Format
    gzipped: bool


@dataclass
class RawRecord:
    line: int  # where the record starts in the file, 1-based (the header is line 1 of a CSV)
    data: dict[str, Any] | None
    error: tuple[str, str] | None = None  # (field, reason) when the line could not be read at all


def classify(key: str) -> FileKind | None:
    """What an object in the drop bucket is, from its key; None for anything that is not an import file."""
    entity = next((p[:-1] for p in ENTITY_PREFIXES if key.startswith(p)), None)
    if entity is None or key.endswith("/") or key.endswith(ITEMS_SUFFIXES):
        return None
    name = key.lower()
    gzipped = name.endswith(".gz")
    if gzipped:
        name = name[:-3]
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return FileKind(entity, "jsonl", gzipped)
    if name.endswith(".csv"):
        return FileKind(entity, "csv", gzipped)
    return None


def items_key_for(key: str) -> str:
    """`orders/2026-11-22.csv` -> `orders/2026-11-22.items.csv` (the order-items file joined on orderNumber)."""
    base, gz = (key[:-3], ".gz") if key.endswith(".gz") else (key, "")
    return base[: -len(".csv")] + ".items.csv" + gz


def orders_key_for(items_key: str) -> str:
    base, gz = (items_key[:-3], ".gz") if items_key.endswith(".gz") else (items_key, "")
    return base[: -len(".items.csv")] + ".csv" + gz


def text_stream(raw: BinaryIO, *, gzipped: bool) -> io.TextIOWrapper:
    # botocore's StreamingBody and GzipFile are both readable io streams, as BufferedReader needs.
    binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
    # utf-8-sig drops a byte-order mark that spreadsheet exports like to add.
    return io.TextIOWrapper(io.BufferedReader(binary, 1 << 20), encoding="utf-8-sig", newline="")


def jsonl_records(text: Iterable[str], *, first_line: int = 1) -> Iterator[RawRecord]:
    for number, line in enumerate(text, start=first_line):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield RawRecord(number, None, ("(line)", f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(data, dict):
            yield RawRecord(number, None, ("(line)", "must be a JSON object"))
            continue
        yield RawRecord(number, data)


def csv_header(text: TextIO) -> list[str]:
    """A CSV file's column names, read from its first line alone (the rest of the stream is left unread)."""
    return [h.strip() for h in next(csv.reader([text.readline()]), [])]


def csv_records(
    text: Iterable[str],
    *,
    array_fields: tuple[str, ...],
    header: list[str] | None = None,
    first_line: int = 1,
    nested: bool = True,
) -> Iterator[RawRecord]:
    reader = csv.reader(text)
    offset = first_line - 1
    if header is None:
        header = next(reader, None)
        if header is None:
            return
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    for row in reader:
        line, start = start + offset, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield RawRecord(line, None, ("(line)", f"has {len(row)} columns; the header has {len(header)}"))
            continue
        try:
            yield RawRecord(line, nest(header, row, array_fields, nested=nested))
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            yield RawRecord(line, None, (field, reason))


def nest(header: list[str], row: list[str], array_fields: tuple[str, ...], *, nested: bool = True) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, cell in zip(header, row, strict=True):
        if cell == "":
            continue
        if name in array_fields:
            try:
                value: Any = json.loads(cell)
            except ValueError:
                raise ValueError(f"{name}: must be a JSON array") from None
            if not isinstance(value, list):
                raise ValueError(f"{name}: must be a JSON array")
        else:
            value = cell
        target = record
        *parents, leaf = name.split(".") if nested else [name]
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ValueError(f"{name}: conflicts with column {parent}")
        target[leaf] = value
    return record


class OrderItemsIndex:
    """The order-items file, indexed on disk (SQLite in /tmp) so joining stays flat in memory."""

    def __init__(self, rows: Iterable[RawRecord]):
        self._file = tempfile.NamedTemporaryFile(suffix=".sqlite")  # noqa: SIM115 (closed in close())
        self._db = sqlite3.connect(self._file.name)
        self._db.execute("CREATE TABLE items (orderNumber TEXT, line INTEGER, item TEXT)")
        self.problems: list[RawRecord] = []
        batch = []
        for row in rows:
            if row.data is None or not isinstance(row.data.get("orderNumber"), str):
                self.problems.append(
                    row if row.data is None else RawRecord(row.line, None, ("orderNumber", "required"))
                )
                continue
            batch.append((row.data["orderNumber"], row.line, json.dumps(row.data)))
            if len(batch) >= 5000:
                self._db.executemany("INSERT INTO items VALUES (?, ?, ?)", batch)
                batch.clear()
        self._db.executemany("INSERT INTO items VALUES (?, ?, ?)", batch)
        self._db.execute("CREATE INDEX by_order ON items (orderNumber)")
        self._db.commit()

    def items_for(self, order_number: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT item FROM items WHERE orderNumber = ? ORDER BY line", (order_number,))
        return [json.loads(item) for (item,) in rows]

    def close(self) -> None:
        self._db.close()
        self._file.close()
