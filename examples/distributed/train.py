"""Train a detector on COCO with DistributedDataParallel: the `train` stage
of examples/distributed.mlx, started by torchrun on every node (one process
per GPU; torchrun sets RANK, LOCAL_RANK, WORLD_SIZE and the rendezvous).
Needs torch, torchvision and pycocotools (the NGC PyTorch image has the
first two). Rank 0 writes the checkpoint with the lowest validation loss."""

import argparse
import os
import sys
from pathlib import Path

try:
    import torch
    import torch.distributed as dist
    import torchvision
    from torch.nn.parallel import DistributedDataParallel
    from torchvision.transforms import functional as F
except ImportError as missing:
    sys.exit(f"train.py needs torch and torchvision ({missing}): run it in a PyTorch image "
             "(the stage's `image`) or `pip install torch torchvision pycocotools`")


def to_target(annotations: list[dict]) -> dict:
    """COCO's [x, y, w, h] boxes as the [x1, y1, x2, y2] tensors torchvision's detectors take."""
    boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
             for a in annotations if a["bbox"][2] > 1 and a["bbox"][3] > 1]
    labels = [a["category_id"] for a in annotations if a["bbox"][2] > 1 and a["bbox"][3] > 1]
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64)}


def collate(items):
    """Images differ in size: a batch is a tuple of images and one of targets."""
    return tuple(zip(*items))


def loader(data: Path, split: str, batch: int, train: bool):
    dataset = torchvision.datasets.CocoDetection(
        str(data / split), str(data / "annotations" / f"instances_{split}.json"),
        transform=F.to_tensor, target_transform=to_target)
    sampler = torch.utils.data.DistributedSampler(dataset, shuffle=train)
    return torch.utils.data.DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=4,
                                       collate_fn=collate)


def mean_loss(model, batches, device) -> float:
    """The summed detection losses, averaged over every rank's batches."""
    total = torch.zeros(2, device=device)
    model.train()  # torchvision detectors return losses only in training mode (no steps are taken here)
    with torch.no_grad():
        for images, targets in batches:
            images = [image.to(device) for image in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            total += torch.stack([sum(model(images, targets).values()), torch.tensor(1.0, device=device)])
    dist.all_reduce(total)
    return (total[0] / total[1]).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="COCO as the prepare stage unpacked it")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch", type=int, default=4, help="images per GPU")
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--out", type=Path, required=True, help="the best checkpoint to write")
    args = parser.parse_args()

    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(weights=None, num_classes=91).to(device)
    model = DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    train, val = loader(args.data, "train2017", args.batch, True), loader(args.data, "val2017", args.batch, False)

    best = float("inf")
    for epoch in range(args.epochs):
        train.sampler.set_epoch(epoch)
        model.train()
        for images, targets in train:
            images = [image.to(device) for image in images]
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            loss = sum(model(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        score = mean_loss(model, val, device)
        if dist.get_rank() == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: validation loss {score:.4f}", flush=True)
            if score < best:
                best = score
                args.out.parent.mkdir(parents=True, exist_ok=True)
                torch.save({"model": model.module.state_dict(), "epoch": epoch + 1, "val_loss": score}, args.out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
