"""Train an mmdetection model: the `Train` template of examples/rtmdet.mlx.
The project's own script (not mmdetection's tools/train.py, which the
PyTorch image does not have): it loads CONFIG, points it at the prepared
data, sets the learning rate and epochs, trains with mmengine's Runner and
copies the best checkpoint (by COCO bbox mAP) to --checkpoint.

Needs mmdetection (`pip install -U openmim && mim install mmengine mmcv mmdet`)."""

import argparse
import shutil
import sys
from pathlib import Path

try:
    from mmengine.config import Config
    from mmengine.runner import Runner
except ImportError as missing:
    sys.exit(f"train.py needs mmdetection ({missing}): "
             "`pip install -U openmim && mim install mmengine mmcv mmdet` in the stage's image")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path, help="the model's config, e.g. rtmdet/configs/rtmdet_tiny.py")
    parser.add_argument("--data", type=Path, required=True, help="COCO as the prepare stage laid it out")
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True, help="where the best checkpoint goes")
    args = parser.parse_args()

    config = Config.fromfile(str(args.config))
    work_dir = args.checkpoint.parent / "mmdet"
    config.work_dir = str(work_dir)
    config.optim_wrapper.optimizer.lr = args.lr
    config.train_cfg.max_epochs = args.epochs
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        config[loader].dataset.data_root = f"{args.data}/"
    for evaluator in ("val_evaluator", "test_evaluator"):
        config[evaluator].ann_file = str(args.data / "annotations" / "instances_val2017.json")

    Runner.from_cfg(config).train()
    best = sorted(work_dir.glob("best_coco_bbox_mAP_epoch_*.pth"))
    if not best:
        sys.exit(f"train.py: no best checkpoint in {work_dir}")
    shutil.copyfile(best[-1], args.checkpoint)
    print(f"best checkpoint: {best[-1].name} -> {args.checkpoint}")


if __name__ == "__main__":
    main()
