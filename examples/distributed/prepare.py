"""Download and unpack COCO 2017 (train, val, annotations): the `prepare`
stage of examples/distributed.mlx (standard library only). An archive whose
folder is already unpacked is skipped, so a retried job resumes."""

import argparse
import shutil
import urllib.request
import zipfile
from pathlib import Path

BASE = "http://images.cocodataset.org"
ARCHIVES = {  # archive -> the folder it unpacks to
    "annotations/annotations_trainval2017.zip": "annotations",
    "zips/val2017.zip": "val2017",
    "zips/train2017.zip": "train2017",
}


def fetch(url: str, target: Path) -> None:
    partial = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as sink:
        shutil.copyfileobj(response, sink, length=1 << 20)
    partial.rename(target)  # a complete archive only: an interrupted download starts again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the folder to fill (annotations/, train2017/, val2017/)")
    parser.add_argument("--base-url", default=BASE, help="a mirror of images.cocodataset.org")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    for archive, folder in ARCHIVES.items():
        if (args.out / folder).is_dir():
            print(f"{folder}: already there")
            continue
        local = args.out / Path(archive).name
        if not local.exists():
            print(f"{folder}: downloading {args.base_url}/{archive}", flush=True)
            fetch(f"{args.base_url}/{archive}", local)
        with zipfile.ZipFile(local) as zipped:
            zipped.extractall(args.out)
        local.unlink()
        print(f"{folder}: unpacked")


if __name__ == "__main__":
    main()
