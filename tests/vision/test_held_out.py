"""A validation folder beside the training data (vision/held_out.py): images the training data
holds too are left out and counted, the same image under two labels across the sets is refused,
and the fingerprint changes with either set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shapes import write_shapes

from modelyard.errors import GuardrailFailed
from modelyard.vision.dataset import scan_folder
from modelyard.vision.guardrails import GuardrailReport, check_dataset
from modelyard.vision.held_out import combined_content_hash, held_out_images


def _report(root: Path) -> GuardrailReport:
    scan = scan_folder(root)
    return check_dataset(scan.records, scan.skipped)


def test_validation_images_the_training_data_holds_too_are_left_out(tmp_path: Path) -> None:
    train = write_shapes(tmp_path / "train", per_class=4)
    check = write_shapes(tmp_path / "check", per_class=2, seed=1)
    # Two training images copied, renamed, into the validation folder under the same label.
    for label in ("red circle", "blue triangle"):
        shutil.copy(train / label / "image 3.png", check / label / "copied.png")

    kept = held_out_images(_report(train), _report(check), check)

    assert kept.dropped == 2
    assert len(kept.records) == 6
    assert all(record.path.name != "copied.png" for record in kept.records)


def test_the_same_image_under_another_label_across_the_sets_is_refused(tmp_path: Path) -> None:
    train = write_shapes(tmp_path / "train", per_class=4)
    check = write_shapes(tmp_path / "check", per_class=2, seed=1)
    shutil.copy(train / "red circle" / "image 0.png", check / "green square" / "odd.png")

    with pytest.raises(GuardrailFailed) as refused:
        held_out_images(_report(train), _report(check), check)

    message = refused.value.message
    assert "\n" not in message
    assert message == (
        "the same image is labelled differently in the validation and training data:"
        f" {str(check / 'green square' / 'odd.png')!r} ('green square') is"
        f" {str(train / 'red circle' / 'image 0.png')!r} ('red circle'):"
        " keep each image under one label only"
    )


def test_validation_data_of_training_images_only_is_refused(tmp_path: Path) -> None:
    train = write_shapes(tmp_path / "train", per_class=4)
    check = write_shapes(tmp_path / "check", per_class=4)  # the same seed: the same images

    with pytest.raises(GuardrailFailed, match=r"holds only images of the training data \(12 the"):
        held_out_images(_report(train), _report(check), check)


def test_the_fingerprint_covers_the_validation_images(tmp_path: Path) -> None:
    train = _report(write_shapes(tmp_path / "train", per_class=4))
    one = write_shapes(tmp_path / "one", per_class=2, seed=1)
    same = write_shapes(tmp_path / "same elsewhere", per_class=2, seed=1)
    other = write_shapes(tmp_path / "other", per_class=2, seed=2)
    training_hash = str(train.fingerprint["content_hash"])

    def combined(folder: Path) -> str:
        return combined_content_hash(training_hash, held_out_images(train, _report(folder), folder))

    assert combined(one) == combined(same)  # the content counts, not the path
    assert combined(one) != combined(other)
    assert training_hash not in {combined(one), combined(other)}
