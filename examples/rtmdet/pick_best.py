"""Pick the sweep's best checkpoint: the `evaluate` stage of
examples/rtmdet.mlx. Each checkpoint is mmengine's: the best COCO bbox mAP
it reached is in its message hub (`runtime_info.best_score`). Needs torch."""

import argparse
import shutil
import sys
from pathlib import Path

try:
    import torch
except ImportError as missing:
    sys.exit(f"pick_best.py needs torch to read checkpoints ({missing}): run it in a PyTorch image")


def score(path: Path) -> float:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)  # mmengine's own files: trusted
    try:
        return float(checkpoint["message_hub"]["runtime_info"]["best_score"])
    except KeyError:
        sys.exit(f"pick_best.py: {path} records no best score (not saved with save_best?)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ckpts", type=Path, nargs="+", help="one checkpoint per member of the sweep")
    parser.add_argument("--out", type=Path, required=True, help="where the best one is copied")
    args = parser.parse_args()

    scores = {path: score(path) for path in args.ckpts}
    for path, value in sorted(scores.items(), key=lambda item: -item[1]):
        print(f"{value:.4f}  {path}")
    best = max(scores, key=scores.get)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, args.out)
    print(f"best: {best} -> {args.out}")


if __name__ == "__main__":
    main()
