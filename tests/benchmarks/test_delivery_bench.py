"""The delivery benchmark measures a poller that does its job: every row of activity reaches its send."""

from __future__ import annotations

from bench import delivery
from bench.run import table


def test_the_delivery_bench_reads_every_row_and_reports_calls_per_run():
    from listrak_kit.observability import logger

    level = logger.log_level
    figures = delivery.measure(500)
    assert logger.log_level == level  # quiet while it measures, never after
    assert figures["rows_with_activity"] > 0
    assert figures["sends_with_delivery"] == figures["rows_with_activity"]
    assert figures["events"] >= figures["sends_with_delivery"]
    assert figures["activity_calls_per_run"]["max"] <= 20
    assert figures["cpu_seconds"] > 0 and figures["floor_cpu_seconds"] > 0
    assert "delivery poller" in "".join(row for row in [table_row(figures)])


def table_row(figures: dict) -> str:
    import json
    from pathlib import Path

    results = json.loads((Path(delivery.__file__).parent / "results" / "latest.json").read_text())
    return table({**results, "delivery": figures})
