"""Summarise the ablation: the `report` stage of examples/ablation.mlx
(standard library only). Reads each run's metrics.csv (its path names the
augmentation and the seed: runs/<augment>/<seed>/metrics.csv) and prints a
Markdown table of the final accuracy per augmentation, mean over seeds."""

import csv
import statistics
import sys
from pathlib import Path


def main(paths: list[str]) -> None:
    if not paths:
        raise SystemExit("usage: report.py METRICS.csv...")
    final: dict[str, list[float]] = {}
    for name in paths:
        path = Path(name)
        augment = path.parent.parent.name
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        final.setdefault(augment, []).append(float(rows[-1]["accuracy"]))
    print("| augmentation | runs | final accuracy (mean) |")
    print("| --- | --- | --- |")
    for augment, values in sorted(final.items(), key=lambda item: -statistics.mean(item[1])):
        print(f"| {augment} | {len(values)} | {statistics.mean(values):.4f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
