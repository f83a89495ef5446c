"""make bench's picture: every ratio of the saved results drawn to a PNG, redrawable without a new run."""

from __future__ import annotations

import json
import struct

from bench import chart

RESULTS = {
    "machine": {"cpu": "test cpu", "cores": 2},
    "date": "2026-12-01",
    "cold_start": {
        "handlers": {"send (API)": {"ratio": 1.4, "target": 1.5}, "import": {"ratio": 2.1, "target": None}},
    },
    "warm_send": {"ratio_p50": 1.3, "target": 1.2},
    "imports": {"end_to_end": {"ratio": 1.1, "target": 1.5}},
}


def test_the_saved_results_are_drawn_as_a_png_with_one_bar_per_ratio(tmp_path) -> None:
    source, png = tmp_path / "latest.json", tmp_path / "docs" / "bench.png"
    source.write_text(json.dumps(RESULTS))

    assert chart.main([str(source), str(png)]) == 0

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 800 and height > 100
    assert chart.ratios(RESULTS) == [
        ("cold start: send (API)", 1.4, 1.5),
        ("cold start: import", 2.1, None),
        ("warm send, CPU p50", 1.3, 1.2),
        ("import end to end", 1.1, 1.5),
    ]


def test_the_picture_the_readme_shows_is_committed_beside_its_results() -> None:
    assert chart.PNG.is_file() and chart.RESULTS.is_file()
    assert len(chart.ratios(json.loads(chart.RESULTS.read_text()))) >= 5


def test_without_results_it_says_to_run_the_bench(tmp_path, capsys) -> None:
    assert chart.main([str(tmp_path / "none.json"), str(tmp_path / "x.png")]) == 2
    assert "run `make bench` first" in capsys.readouterr().err
