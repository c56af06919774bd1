"""Train one member of the ablation grid: the `train` stage of
examples/ablation.mlx. A stand-in for a ResNet-50 run (standard library
only, seconds to run): it reads the split index, simulates a few epochs
whose curve depends on the augmentation and the seed, and writes a
checkpoint and the metrics as CSV. Deterministic: the same arguments give
the same bytes, as the result cache expects of a step."""

import argparse
import json
import math
import random
from pathlib import Path

EPOCHS = 5
# How much each augmentation lifts the final accuracy in this stand-in.
GAIN = {"none": 0.0, "randaugment": 0.04, "mixup": 0.03}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True, help="the split index written by split.py")
    parser.add_argument("--data", type=Path, required=True, help="the data set (read through the index)")
    parser.add_argument("--augment", required=True, choices=sorted(GAIN))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    args = parser.parse_args()

    index = json.loads(args.index.read_text(encoding="utf-8"))
    missing = [name for name in index["train"] if not (args.data / name).is_file()]
    if missing:
        raise SystemExit(f"train.py: {len(missing)} training files of the index are not in {args.data}")
    rng = random.Random(f"{args.augment}/{args.seed}/{args.batch}")
    rows = []
    for epoch in range(1, EPOCHS + 1):
        loss = 2.5 * math.exp(-0.5 * epoch) + rng.uniform(0, 0.05)
        accuracy = 0.6 + GAIN[args.augment] + 0.25 * (1 - math.exp(-0.6 * epoch)) + rng.uniform(-0.01, 0.01)
        rows.append((epoch, round(loss, 4), round(accuracy, 4)))
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    with args.metrics.open("w", encoding="utf-8") as out:
        out.write("epoch,loss,accuracy\n")
        out.writelines(f"{epoch},{loss},{accuracy}\n" for epoch, loss, accuracy in rows)
    args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    weights = [round(rng.gauss(0, 1), 6) for _ in range(64)]
    state = {"augment": args.augment, "seed": args.seed, "batch": args.batch, "epochs": EPOCHS,
             "train_files": len(index["train"]), "weights": weights}
    args.checkpoint.write_text(json.dumps(state, sort_keys=True) + "\n", encoding="utf-8")
    print(f"train.py: {args.augment} seed {args.seed}: accuracy {rows[-1][2]}")


if __name__ == "__main__":
    main()
