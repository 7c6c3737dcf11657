from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modelyard.errors import InvalidValue
from modelyard.vision.backbones import WeightsUnavailable, load_backbone


@pytest.mark.parametrize(
    ("name", "dim"),
    [
        ("resnet18", 512),
        ("resnet50", 2048),
        ("mobilenet_v3_large", 1280),
        ("efficientnet_b0", 1280),
        ("efficientnet-lite0", 1280),
    ],
)
def test_every_backbone_turns_an_image_into_a_feature_vector(name: str, dim: int) -> None:
    backbone = load_backbone(name, "none", seed=0)
    with torch.no_grad():
        features = backbone.network(torch.rand(2, 3, 224, 224))
    assert backbone.feature_dim == dim
    assert features.shape == (2, dim)
    assert not backbone.network.training


def test_random_init_depends_on_the_seed_only() -> None:
    first = load_backbone("resnet18", "none", seed=1)
    again = load_backbone("resnet18", "none", seed=1)
    other = load_backbone("resnet18", "none", seed=2)
    weight = "conv1.weight"
    assert torch.equal(first.network.state_dict()[weight], again.network.state_dict()[weight])
    assert not torch.equal(first.network.state_dict()[weight], other.network.state_dict()[weight])
    assert first.weights_id == "none-seed1" != other.weights_id


def test_efficientnet_lite0_imagenet_weights_load_offline_from_their_package() -> None:
    backbone = load_backbone("efficientnet-lite0", "imagenet")
    assert backbone.weights_id.startswith("package-efficientnet-lite0")
    random = load_backbone("efficientnet-lite0", "none")
    trained = backbone.network.state_dict()["_conv_stem.weight"]
    assert not torch.equal(trained, random.network.state_dict()["_conv_stem.weight"])


def test_torchvision_imagenet_weights_offline_name_the_alternatives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-cache"))
    # No internet here: the download fails, and the message says what works instead.
    with pytest.raises(WeightsUnavailable) as raised:
        load_backbone("resnet18", "imagenet")
    message = raised.value.message
    assert "ImageNet weights for resnet18" in message
    assert "--weights PATH" in message and "--weights none" in message
    assert "--backbone efficientnet-lite0" in message


def test_weights_path_loads_a_saved_state_dict_with_or_without_its_classifier(
    tmp_path: Path,
) -> None:
    source = load_backbone("resnet18", "none", seed=7)
    features_only = tmp_path / "features.pt"
    torch.save(source.network.state_dict(), features_only)
    loaded = load_backbone("resnet18", str(features_only), seed=0)
    image = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(loaded.network(image), source.network(image))
    assert loaded.weights_id.startswith("file-")

    import torchvision

    whole = tmp_path / "whole.pt"
    torch.save(torchvision.models.resnet18().state_dict(), whole)
    assert load_backbone("resnet18", str(whole)).feature_dim == 512


def test_weights_for_another_architecture_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "resnet18.pt"
    torch.save(load_backbone("resnet18", "none").network.state_dict(), path)
    with pytest.raises(InvalidValue, match="do not fit backbone 'resnet50'"):
        load_backbone("resnet50", str(path))


def test_a_weights_file_that_is_not_a_state_dict_is_refused_without_running_it(
    tmp_path: Path,
) -> None:
    import pickle

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pickle code ran",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InvalidValue, match="is not a readable PyTorch state dict"):
        load_backbone("resnet18", str(evil))
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(InvalidValue, match="not a readable PyTorch state dict"):
        load_backbone("resnet18", str(text))
