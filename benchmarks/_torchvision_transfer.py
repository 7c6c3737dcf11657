"""The peer of Modelyard's image-classification job: a plain torchvision transfer-learning script.

    .venv/bin/python benchmarks/_torchvision_transfer.py --split split.json --backbone resnet18 \
        --weights none --epochs 3

What a user writes from the torchvision tutorials ("ConvNet as fixed feature extractor"): a frozen
backbone, a new linear head, `torchvision.transforms` and a `DataLoader` over an `ImageFolder`,
and every epoch forwards every image through the backbone again (no feature cache). The backbone
is in eval mode under `torch.no_grad()`, the cheapest correct way to freeze it; the head is
trained by SGD with momentum and the best epoch's validation accuracy is kept, as the tutorial
does. Transforms are the evaluation ones (resize 256, center crop 224, ImageNet normalization),
which are also Modelyard's, so both sides see the same pixels and differ only in how they train.

The network itself comes from Modelyard's `load_backbone`, so both sides run the same weights
(torchvision's own constructor gives the same random init for `--weights none`; EfficientNet-Lite0
is not in torchvision). The split is the one Modelyard's job makes, given as a JSON file by
`image_classification.py`. Prints one JSON line with the times and accuracies.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

PROCESS_STARTED = time.perf_counter()

import torch  # noqa: E402 (the clock starts before the imports: they are part of the cost)
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Subset  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, required=True, help="JSON: root, train, validation")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--weights", default="none")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def loaders(
    split: dict[str, Any], batch_size: int, workers: int
) -> tuple[tuple[DataLoader, DataLoader], list[str]]:
    transform = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    dataset = datasets.ImageFolder(split["root"], transform=transform)
    position = {str(Path(path).resolve()): i for i, (path, _) in enumerate(dataset.samples)}
    train = Subset(dataset, [position[str(Path(path).resolve())] for path in split["train"]])
    validation = Subset(dataset, [position[str(Path(p).resolve())] for p in split["validation"]])
    return (
        DataLoader(train, batch_size=batch_size, shuffle=True, num_workers=workers),
        DataLoader(validation, batch_size=batch_size, shuffle=False, num_workers=workers),
    ), dataset.classes


def train_epoch(backbone: nn.Module, head: nn.Module, loader: DataLoader, optimizer: Any) -> float:
    head.train()
    loss_function = nn.CrossEntropyLoss()
    correct = seen = 0
    for inputs, targets in loader:
        with torch.no_grad():
            features = backbone(inputs)
        logits = head(features)
        loss = loss_function(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        correct += int((logits.argmax(1) == targets).sum())
        seen += len(targets)
    return correct / seen


def validate(backbone: nn.Module, head: nn.Module, loader: DataLoader) -> float:
    head.eval()
    correct = seen = 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += int((head(backbone(inputs)).argmax(1) == targets).sum())
            seen += len(targets)
    return correct / seen


def main() -> None:
    args = parse_args()
    from modelyard.vision.backbones import load_backbone

    torch.manual_seed(args.seed)
    split = json.loads(args.split.read_text())
    (train_loader, validation_loader), classes = loaders(split, args.batch_size, args.workers)
    if list(classes) != list(split["labels"]):
        raise SystemExit(f"ImageFolder classes {classes} differ from the split's labels")
    backbone = load_backbone(args.backbone, args.weights, args.seed)
    network = backbone.network.eval()
    for parameter in network.parameters():
        parameter.requires_grad = False
    head = nn.Linear(backbone.feature_dim, len(classes))
    optimizer = torch.optim.SGD(head.parameters(), lr=args.learning_rate, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    setup_seconds = time.perf_counter() - PROCESS_STARTED
    epochs = []
    for _ in range(args.epochs):
        started = time.perf_counter()
        train_accuracy = train_epoch(network, head, train_loader, optimizer)
        validation_accuracy = validate(network, head, validation_loader)
        scheduler.step()
        epochs.append(
            {
                "seconds": time.perf_counter() - started,
                "train_accuracy": train_accuracy,
                "validation_accuracy": validation_accuracy,
            }
        )
    result = {
        "setup_seconds": setup_seconds,
        "epochs": epochs,
        "best_validation_accuracy": max(epoch["validation_accuracy"] for epoch in epochs),
        "final_validation_accuracy": epochs[-1]["validation_accuracy"],
        "train_images": len(split["train"]),
        "validation_images": len(split["validation"]),
        "torch_threads": torch.get_num_threads(),
        "seconds": time.perf_counter() - PROCESS_STARTED,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
