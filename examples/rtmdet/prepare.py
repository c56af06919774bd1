"""Lay COCO 2017 out as mmdetection reads it: the `prepare` stage of
examples/rtmdet.mlx (standard library only). The raw data set (fetched from
s3://datasets/coco2017) holds the annotation JSON files and the image
folders somewhere below it; this checks the annotations parse and name only
images that exist, then links (or copies, across file systems) them into
OUT/annotations, OUT/train2017 and OUT/val2017."""

import argparse
import json
import os
import shutil
from pathlib import Path

SPLITS = ("train2017", "val2017")


def find(raw: Path, name: str, folder: bool) -> Path:
    for path in sorted(raw.rglob(name)):
        if path.is_dir() == folder:
            return path
    raise SystemExit(f"prepare.py: no {name} under {raw}")


def place(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # no second copy of 25 GB on the same file system
    except OSError:
        shutil.copy2(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path, help="the raw COCO download")
    parser.add_argument("out", type=Path, help="the folder to lay out")
    args = parser.parse_args()

    (args.out / "annotations").mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        annotations = find(args.raw, f"instances_{split}.json", folder=False)
        images = find(args.raw, split, folder=True)
        index = json.loads(annotations.read_text(encoding="utf-8"))
        missing = [image["file_name"] for image in index["images"] if not (images / image["file_name"]).is_file()]
        if missing:
            raise SystemExit(f"prepare.py: {len(missing)} images of {annotations.name} are not in {images}, "
                             f"e.g. {missing[0]}")
        place(annotations, args.out / "annotations" / annotations.name)
        (args.out / split).mkdir(exist_ok=True)
        for image in index["images"]:
            place(images / image["file_name"], args.out / split / image["file_name"])
        print(f"{split}: {len(index['images'])} images, {len(index['annotations'])} boxes")


if __name__ == "__main__":
    main()
