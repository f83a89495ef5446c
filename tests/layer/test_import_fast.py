"""The fast path for import records never decides differently from the detailed models: whatever it accepts, the
models accept and serialise to the same bytes; whatever it refuses is theirs to report."""

from __future__ import annotations

import copy
import json
import random
from datetime import date, timedelta
from typing import Any

import pytest

from listrak_kit.imports.chunks import serialize_checked
from listrak_kit.imports.fast import fast_serialized, record_bytes
from listrak_kit.imports.records import complete, validate_record
from tests.layer.test_import_records import FULL

TRICKY: list[Any] = [
    "",
    " ",
    "x",
    " x ",
    "\u00e9\u2603\U0001f600",
    "\x00\x1f\x7f\u2028",
    "\u3000\xa0\x1c",
    "\t\n",
    " \u2028 x",
    "\ud800",
    "a" * 5000,
    "12",
    " 12 ",
    "-7",
    "007",
    "+5",
    "1e3",
    "1.5",
    "9.99",
    "-0",
    "1,5",
    "NaN",
    "inf",
    "true",
    "false",
    "TRUE",
    "True",
    "1",
    "0",
    "yes",
    "2026-11-22T14:05:00",
    "2026-11-22T14:05:00Z",
    "2026-11-22T14:05:00+00:00",
    "2026-11-22T14:05:00.123456",
    "2026-11-22T14:05:00.000000Z",
    "2026-11-22T14:05:00.1234567",
    "2026-11-22T14:05:00.5-05:00",
    "2026-11-22 14:05:00",
    "2026-02-29T00:00:00",
    "2024-02-29T00:00:00",
    "2026-04-31T00:00:00",
    "0000-01-01T00:00:00",
    "2026-11-22",
    "Shipped",
    "shipped",
    "Coupon",
    None,
    True,
    False,
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    10**30,
    0.0,
    -0.0,
    1.5,
    19.95,
    5.0,
    1e16,
    1e15,
    1.5e-5,
    1e-7,
    123456789.123456789,
    float("inf"),
    float("nan"),
    [],
    [{}],
    {},
    {"x": 1},
]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutated(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(rng.choice((1, 1, 2, 3))):
        *parents, leaf = rng.choice(paths(record))
        target: Any = record
        for part in parents:
            target = target[part]
        if rng.random() < 0.05 and isinstance(target, dict):
            target.pop(leaf)
        elif rng.random() < 0.05 and isinstance(target, dict):
            target[f"{leaf}X"] = 1
        else:
            target[leaf] = copy.deepcopy(rng.choice(TRICKY))
    return record


def detailed(entity: str, raw: dict[str, Any]) -> bytes | None:
    record, problems = validate_record(entity, complete(entity, raw))
    return serialize_checked(record)[0] if record is not None else None


@pytest.mark.parametrize("entity", FULL)
def test_whatever_the_fast_path_accepts_the_models_accept_as_the_same_bytes(entity):
    rng = random.Random(entity)
    fast_count = 0
    for _ in range(1500):
        raw = mutated(FULL[entity], rng)
        fast = fast_serialized(entity, complete(entity, copy.deepcopy(raw)))
        if fast is not None:
            fast_count += 1
            assert fast == detailed(entity, raw), raw
    assert fast_count > 200  # the fast path takes the usual record, not just the odd one


@pytest.mark.parametrize("entity", FULL)
def test_record_bytes_is_the_detailed_answer(entity):
    rng = random.Random(f"{entity}-answer")
    for _ in range(300):
        raw = mutated(FULL[entity], rng)
        got, problems = record_bytes(entity, copy.deepcopy(raw))
        record, expected = validate_record(entity, complete(entity, copy.deepcopy(raw)))
        if record is None:
            assert (got, problems) == (None, expected)
        else:
            body, problem = serialize_checked(record)
            assert (got, problems) == ((body, []) if body is not None else (None, [problem]))


def test_date_times_written_as_the_models_write_them_pass_as_they_are():
    day, taken = date(2023, 1, 1), 0
    while day < date(2025, 1, 1):
        for text in (f"{day}T23:59:59", f"{day}T00:00:00.000001Z", f"{day}T12:30:00+05:30"):
            fast = fast_serialized("orders", {"orderNumber": "A", "dateEntered": text})
            expected = detailed("orders", {"orderNumber": "A", "dateEntered": text})
            assert fast is None or fast == expected, text
            taken += fast is not None
        day += timedelta(days=1)
    assert taken >= 3 * (731 - 2)  # only the two 29ths of February are left to the models
    for text in ("2026-02-30T00:00:00", "2026-11-22T24:00:00", "2026-11-22T14:05:60", "2026-11-22T14:05:00+24:00"):
        assert fast_serialized("orders", {"orderNumber": "A", "dateEntered": text}) is None
        assert detailed("orders", {"orderNumber": "A", "dateEntered": text}) is None


def test_csv_text_for_numbers_and_booleans_takes_the_fast_path_as_its_type():
    row = {"sku": "P-1", "qoh": "12", "price": "9.99", "inStock": "true", "relatedProducts": [{"rank": "2"}]}
    fast = fast_serialized("products", row)
    assert fast == b'{"inStock":true,"price":9.99,"qoh":12,"relatedProducts":[{"rank":2}],"sku":"P-1"}'
    assert fast == detailed("products", row)
    assert row["qoh"] == "12"  # the caller's record is left as it was
    assert json.loads(fast)["qoh"] == 12
