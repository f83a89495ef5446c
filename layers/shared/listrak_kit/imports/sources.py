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
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, TextIO

import msgspec

from listrak_kit.imports.entities import IMPORT_ENTITIES

Format = Literal["jsonl", "csv"]
ENTITY_PREFIXES = tuple(f"{entity}/" for entity in IMPORT_ENTITIES)  # a folder of the drop bucket per entity
ITEMS_SUFFIXES = (".items.csv", ".items.csv.gz")
RESULTS_PREFIX = "results/"

# Records are bounded by BoundedLines (IMPORT_RECORD_MAX_CHARS) before the csv module sees them; its own
# per-field limit only has to stay out of the way.
csv.field_size_limit(2**31 - 1)
DEFAULT_RECORD_MAX_CHARS = 1_000_000
# What reading a file can raise that no retry changes: a corrupt gzip stream, bytes that are not UTF-8.
UNREADABLE = (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError)


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
    source: str | None = None  # the file it came from, when not the file being imported (an order-items file)


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


def text_stream(raw: io.RawIOBase | BinaryIO, *, gzipped: bool) -> io.TextIOWrapper:
    # botocore's StreamingBody and GzipFile are both readable io streams, as BufferedReader needs.
    binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
    # utf-8-sig drops a byte-order mark that spreadsheet exports like to add.
    return io.TextIOWrapper(io.BufferedReader(binary, 1 << 20), encoding="utf-8-sig", newline="")


class BoundedLines:
    """A file's lines, none held longer than `max_chars`, and no record (across lines) longer either.

    An over-long line is read in bounded pieces and dropped (its number kept in `dropped`); once the current
    record (since the last `record_done()`) is over the bound, its further lines are dropped too. So a single
    10 GB line, or a gzip bomb that inflates to one, costs at most `max_chars` of memory. For CSV (`csv_quotes`),
    a dropped line still passes on whether it opened or closed a quoted field, so the rows after it parse as
    they would have.
    """

    def __init__(self, text: Iterable[str], max_chars: int, *, first_line: int = 1, csv_quotes: bool = False):
        self._text = text
        self.max_chars = max_chars
        self._number = first_line - 1
        self._record_chars = 0
        self._csv = csv_quotes
        self._in_quotes = False
        self.dropped: list[int] = []

    def record_done(self) -> None:
        self._record_chars = 0

    def __iter__(self) -> Iterator[str]:
        readline = getattr(self._text, "readline", None)
        lines: Iterator[str] = iter(self._text) if readline is None else iter(lambda: readline(self.max_chars + 1), "")
        for line in lines:
            self._number += 1
            quotes = line.count('"') if self._csv else 0
            content = len(line)
            if content > self.max_chars and readline is not None:
                while line and not line.endswith("\n"):  # the rest of the line, in bounded pieces
                    line = readline(1 << 16)
                    content += len(line)
                    quotes += line.count('"') if self._csv else 0
            ended = line.endswith("\n")
            content -= 1 if ended else 0
            was_in_quotes = self._in_quotes
            self._in_quotes ^= quotes % 2 == 1
            self._record_chars += content
            if content <= self.max_chars and self._record_chars <= self.max_chars:
                yield line
                continue
            self.dropped.append(self._number)
            if not self._csv:
                yield ""
            elif self._in_quotes:
                yield "" if was_in_quotes else '"'  # the record goes on in a quoted field: nothing of it
            else:
                yield ('"' if was_in_quotes else "") + ("\n" if ended else "")  # the record ends here

    def too_long(self) -> tuple[str, str]:
        return ("(line)", f"over {self.max_chars} characters (IMPORT_RECORD_MAX_CHARS); not read")


_decode = msgspec.json.Decoder().decode


def jsonl_records(
    text: Iterable[str], *, first_line: int = 1, max_chars: int = DEFAULT_RECORD_MAX_CHARS
) -> Iterator[RawRecord]:
    lines = BoundedLines(text, max_chars, first_line=first_line)
    for number, line in enumerate(lines, start=first_line):
        lines.record_done()
        if lines.dropped:
            lines.dropped.clear()
            yield RawRecord(number, None, lines.too_long())
            continue
        if not line.strip():
            continue
        try:
            data = _decode(line)
        except msgspec.DecodeError:
            # msgspec's parser is the fast one; json's reads what it refuses (NaN, a lone surrogate) as before
            # and says what is wrong in the words reject reports use.
            try:
                data = json.loads(line)
            except ValueError as exc:  # JSONDecodeError, or an integer past Python's digit limit
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                yield RawRecord(number, None, ("(line)", f"not valid JSON: {reason}"))
                continue
        if not isinstance(data, dict):
            yield RawRecord(number, None, ("(line)", "must be a JSON object"))
            continue
        yield RawRecord(number, data)


def csv_header(text: TextIO) -> list[str]:
    """A CSV file's column names, read from its first line alone (the rest of the stream is left unread)."""
    return [h.strip() for h in next(csv.reader([text.readline()]), [])]


def csv_header_problem(header: list[str]) -> str | None:
    """Why a CSV header cannot be imported (an empty file, another delimiter), or None."""
    if not any(header):
        return "the file is empty: a CSV import needs a header line naming its columns"
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        return (
            f"the header is one column ({header[0][:80]!r}): CSV imports are comma-delimited; "
            "export the file with commas between the columns"
        )
    return None


def csv_records(
    text: Iterable[str],
    *,
    array_fields: tuple[str, ...],
    header: list[str] | None = None,
    first_line: int = 1,
    nested: bool = True,
    max_chars: int = DEFAULT_RECORD_MAX_CHARS,
) -> Iterator[RawRecord]:
    lines = BoundedLines(text, max_chars, first_line=first_line, csv_quotes=True)
    reader = csv.reader(lines)
    offset = first_line - 1
    if header is None:
        header = next(reader, None)
        lines.record_done()
        if header is None:
            return
        if lines.dropped:
            yield RawRecord(first_line, None, ("(header)", lines.too_long()[1]))
            return
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    for row in reader:
        line, start = start + offset, reader.line_num + 1
        lines.record_done()
        if lines.dropped:
            lines.dropped.clear()
            yield RawRecord(line, None, lines.too_long())
            continue
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

    def items_for(self, order_number: str, *, max_chars: int = DEFAULT_RECORD_MAX_CHARS) -> list[dict[str, Any]] | None:
        """The order's items in file order; None when together they are over `max_chars` (nothing is loaded)."""
        (total,) = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(item)), 0) FROM items WHERE orderNumber = ?", (order_number,)
        ).fetchone()
        if total > max_chars:
            return None
        rows = self._db.execute("SELECT item FROM items WHERE orderNumber = ? ORDER BY line", (order_number,))
        return [json.loads(item) for (item,) in rows]

    def close(self) -> None:
        self._db.close()
        self._file.close()


def unreadable_reason(exc: BaseException, gzipped: bool) -> str:
    """One of UNREADABLE, said in one line."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start} of a block: {exc.reason})"
    return f"{'not a valid gzip file' if gzipped else 'unreadable'} ({exc})"
