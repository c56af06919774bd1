"""Split a data set into training and validation files, by class: the
`split` stage of examples/ablation.mlx (standard library only, seconds to
run). The data set is a folder of class folders; the rules file holds
`key: value` lines (validation_share, seed, stratify_by)."""

import argparse
import json
import random
from pathlib import Path


def read_rules(path: Path) -> dict[str, str]:
    rules = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" in line:
            key, value = line.split(":", 1)
            rules[key.strip()] = value.strip()
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the data set: a folder of class folders")
    parser.add_argument("--rules", type=Path, required=True, help="the split rules (configs/split.yaml)")
    parser.add_argument("--out", type=Path, required=True, help="the index to write (JSON)")
    args = parser.parse_args()

    rules = read_rules(args.rules)
    share = float(rules.get("validation_share", "0.1"))
    rng = random.Random(int(rules.get("seed", "0")))
    if not args.data.is_dir():
        raise SystemExit(f"split.py: no data set at {args.data}")
    index = {"rules": rules, "train": [], "validation": []}
    for folder in sorted(p for p in args.data.iterdir() if p.is_dir()):
        files = sorted(str(p.relative_to(args.data)) for p in folder.rglob("*") if p.is_file())
        rng.shuffle(files)
        held = max(1, round(len(files) * share)) if len(files) > 1 else 0
        index["validation"] += sorted(files[:held])
        index["train"] += sorted(files[held:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"split.py: {len(index['train'])} training and {len(index['validation'])} validation files")


if __name__ == "__main__":
    main()
