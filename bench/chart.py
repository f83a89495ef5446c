"""The benchmark's ratios as a picture: docs/bench.png, drawn from bench/results/latest.json.

    python -m bench.chart [RESULTS] [PNG]      (make bench draws it too; redrawing needs no new run)

Each bar is a figure divided by its floor (cold start: a handler's import beside `import boto3, requests`; warm
send: CPU p50 beside the same calls made bare; an import end to end beside the same I/O made bare); a tick marks
its target where it has one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import ROOT

RESULTS = ROOT / "bench" / "results" / "latest.json"
PNG = ROOT / "docs" / "bench.png"


def ratios(results: dict) -> list[tuple[str, float, float | None]]:
    """(label, ratio, target) for every ratio the results hold, in the table's order."""
    found = [
        (f"cold start: {name}", figure["ratio"], figure.get("target"))
        for name, figure in results["cold_start"]["handlers"].items()
    ]
    warm = results.get("warm_send")
    if warm:
        found.append(("warm send, CPU p50", warm["ratio_p50"], warm.get("target")))
    e2e = (results.get("imports") or {}).get("end_to_end")
    if e2e:
        found.append(("import end to end", e2e["ratio"], e2e.get("target")))
    return found


def draw(results: dict, png: Path = PNG) -> list[tuple[str, float, float | None]]:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    bars = ratios(results)
    labels = [label for label, _, _ in bars]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(bars) + 1.4), dpi=100)
    try:
        colours = ["#b03a2e" if target and ratio > target else "#2e86c1" for _, ratio, target in bars]
        axes.barh(labels, [ratio for _, ratio, _ in bars], color=colours)
        for row, (_, ratio, target) in enumerate(bars):
            axes.text(ratio, row, f" {ratio}x", va="center", fontsize=8)
            if target:
                axes.plot([target, target], [row - 0.4, row + 0.4], color="black", linewidth=2)
        axes.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
        axes.invert_yaxis()
        axes.set_xlabel("times the floor (1.0 = no cost beyond it; black tick = target)")
        machine = results.get("machine") or {}
        axes.set_title(
            f"make bench, {results.get('date', '?')}: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores",
            fontsize=9,
        )
        figure.tight_layout()
        png.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(png, format="png")
    finally:
        plt.close(figure)
    return bars


def main(argv: list[str] | None = None) -> int:
    import json

    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else RESULTS
    png = Path(args[1]) if len(args) > 1 else PNG
    if not source.is_file():
        print(f"{source} is missing: run `make bench` first", file=sys.stderr)
        return 2
    drawn = draw(json.loads(source.read_text(encoding="utf-8")), png)
    print(f"{png}: {len(drawn)} ratios from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
