"""MLModel.zip: exactly three members, a manifest that says how to use the model, no pickle."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import modelyard
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.vision import preprocessing
from modelyard.vision.package import (
    LABEL_MAP_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    read_model_zip,
    write_label_map,
    write_model_zip,
)

PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".joblib", ".bin")


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def tampered(source: Path, destination: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of `source` with members replaced or added (bytes) or removed (None)."""
    members = members_of(source)
    for name, data in changes.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    return write_zip(destination, members)


def manifest_bytes(source: Path, **fields: object) -> bytes:
    manifest = json.loads(members_of(source)[MANIFEST_FILE])
    manifest.update(fields)
    return json.dumps(manifest).encode()


def refusal(path: Path, error_class: type[ModelyardError] = InvalidValue) -> str:
    with pytest.raises(error_class) as caught:
        read_model_zip(path)
    message = caught.value.message
    assert "\n" not in message
    assert "fix:" in message
    assert str(path) in message
    return message


# --- writing -----------------------------------------------------------------------------------


def test_the_zip_holds_exactly_manifest_model_and_label_map_and_no_pickle(
    tiny_model_zip: Path,
) -> None:
    names = sorted(members_of(tiny_model_zip))

    assert names == sorted([MANIFEST_FILE, MODEL_FILE, LABEL_MAP_FILE])
    assert not [name for name in names if name.endswith(PICKLE_SUFFIXES)]


def test_the_members_are_the_model_bytes_and_the_labels_as_a_plain_array(
    tiny_model_zip: Path, tiny_onnx_model: Path, tiny_labels: list[str]
) -> None:
    members = members_of(tiny_model_zip)

    assert members[MODEL_FILE] == tiny_onnx_model.read_bytes()
    assert json.loads(members[LABEL_MAP_FILE]) == tiny_labels


def test_the_manifest_says_what_the_model_is_and_how_to_preprocess(tiny_model_zip: Path) -> None:
    manifest = json.loads(members_of(tiny_model_zip)[MANIFEST_FILE])

    assert manifest == {
        "schema_version": 1,
        "task": "image-classification",
        "model": "bestModel.onnx",
        "labels": "bestModelMap.json",
        "input": {"name": "input1", "dtype": "float32", "shape": [None, 3, 224, 224]},
        "output": {"name": "output1", "kind": "logits"},
        "preprocessing": preprocessing.default_spec(),
        "backbone": "tiny-cnn",
        "run_id": "run-1",
        "created_by": f"modelyard {modelyard.__version__}",
    }


def test_a_given_preprocessing_spec_is_recorded_and_sets_the_input_shape(
    tmp_path: Path, tiny_onnx_model: Path, tiny_labels: list[str]
) -> None:
    spec = {**preprocessing.default_spec(), "resize": 160, "crop": 128}

    write_model_zip(
        tmp_path / "m.zip",
        tiny_onnx_model,
        tiny_labels,
        backbone="b",
        run_id=None,
        preprocessing=spec,
    )

    manifest = read_model_zip(tmp_path / "m.zip").manifest
    assert manifest["preprocessing"] == spec
    assert manifest["input"]["shape"] == [None, 3, 128, 128]
    assert manifest["run_id"] is None


def test_writing_is_atomic_and_repeatable(
    tmp_path: Path, tiny_onnx_model: Path, tiny_labels: list[str]
) -> None:
    target = tmp_path / "MLModel.zip"
    target.write_bytes(b"an older package")

    write_model_zip(target, tiny_onnx_model, tiny_labels, backbone="b", run_id="r")
    first = target.read_bytes()
    write_model_zip(target, tiny_onnx_model, tiny_labels, backbone="b", run_id="r")

    assert target.read_bytes() == first  # Same inputs, same bytes: no timestamps inside.
    assert [path.name for path in tmp_path.iterdir()] == ["MLModel.zip"]  # No temp files left.


def test_the_model_is_stored_as_is_and_the_json_members_compressed(tiny_model_zip: Path) -> None:
    # Deflating a large network's weights costs seconds and saves a few per cent.
    with zipfile.ZipFile(tiny_model_zip) as archive:
        methods = {info.filename: info.compress_type for info in archive.infolist()}

    assert methods == {
        MANIFEST_FILE: zipfile.ZIP_DEFLATED,
        MODEL_FILE: zipfile.ZIP_STORED,
        LABEL_MAP_FILE: zipfile.ZIP_DEFLATED,
    }


def test_write_label_map_writes_a_plain_json_array(tmp_path: Path, tiny_labels: list[str]) -> None:
    path = tmp_path / LABEL_MAP_FILE

    write_label_map(path, tiny_labels)

    assert json.loads(path.read_text(encoding="utf-8")) == ["cat", "dog", "grüne Wiese"]


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        ([], "expected a non-empty list of strings"),
        ("cat", "expected a non-empty list of strings"),
        (["cat", ""], "are not non-empty strings"),
        (["cat", 3], "are not non-empty strings"),
        (["cat", "dog", "cat"], "appear more than once"),
    ],
)
def test_bad_labels_are_refused_before_anything_is_written(
    tmp_path: Path, labels: object, problem: str
) -> None:
    with pytest.raises(InvalidValue, match=problem):
        write_label_map(tmp_path / LABEL_MAP_FILE, labels)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_model_with_another_number_of_classes_than_labels_is_not_packaged(
    tmp_path: Path, tiny_onnx_model: Path
) -> None:
    with pytest.raises(InvalidValue, match="outputs 3 classes but there are 2 labels"):
        write_model_zip(tmp_path / "m.zip", tiny_onnx_model, ["a", "b"], backbone="b", run_id=None)
    assert not (tmp_path / "m.zip").exists()


def test_a_missing_onnx_file_is_not_found(tmp_path: Path, tiny_labels: list[str]) -> None:
    with pytest.raises(NotFound, match="no such file"):
        write_model_zip(
            tmp_path / "m.zip", tmp_path / "nope.onnx", tiny_labels, backbone="b", run_id=None
        )


# --- reading -----------------------------------------------------------------------------------


def test_reading_returns_the_manifest_the_model_bytes_and_the_labels(
    tiny_model_zip: Path, tiny_onnx_model: Path, tiny_labels: list[str]
) -> None:
    package = read_model_zip(tiny_model_zip)

    assert package.labels == tiny_labels
    assert package.onnx_bytes == tiny_onnx_model.read_bytes()
    assert package.manifest["backbone"] == "tiny-cnn"
    assert (package.input_name, package.output_name) == ("input1", "output1")
    assert package.preprocessing == preprocessing.default_spec()


def test_a_missing_package_is_not_found(tmp_path: Path) -> None:
    message = refusal(tmp_path / "MLModel.zip", NotFound)

    assert "no such file" in message


def test_a_folder_is_not_a_package(tmp_path: Path) -> None:
    assert "is a folder" in refusal(tmp_path)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "MLModel.zip"
    path.write_text("hello")

    assert "not a readable zip file" in refusal(path)


@pytest.mark.parametrize("extra", ["model.pkl", "model.pt", "notes.txt", "bestModel/weights.bin"])
def test_any_member_beyond_the_three_is_refused(
    tmp_path: Path, tiny_model_zip: Path, extra: str
) -> None:
    members = {**members_of(tiny_model_zip), extra: b"\x80\x04K\x01."}  # A pickled 1.

    message = refusal(write_zip(tmp_path / "MLModel.zip", members))

    assert repr(extra) in message
    assert "never loads pickled" in message


def test_a_missing_member_is_refused(tmp_path: Path, tiny_model_zip: Path) -> None:
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"bestModelMap.json": None})

    assert "lacks 'bestModelMap.json'" in refusal(path)


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_an_unsupported_schema_version_is_refused(
    tmp_path: Path, tiny_model_zip: Path, version: object
) -> None:
    manifest = manifest_bytes(tiny_model_zip, schema_version=version)
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"manifest.json": manifest})

    assert f"schema_version {version!r} is not supported" in refusal(path)


def test_a_label_count_that_does_not_match_the_model_is_refused(
    tmp_path: Path, tiny_model_zip: Path
) -> None:
    labels = json.dumps(["cat", "dog"]).encode()
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"bestModelMap.json": labels})

    assert "outputs 3 classes but there are 2 labels ['cat', 'dog']" in refusal(path)


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (b'{"0": "cat"}', "expected a non-empty list of strings"),
        (b"[]", "expected a non-empty list of strings"),
        (b'["cat", 1, "dog"]', "labels [1] are not non-empty strings"),
        (b"not json", "bestModelMap.json is not UTF-8 JSON"),
    ],
)
def test_labels_must_be_a_non_empty_list_of_strings(
    tmp_path: Path, tiny_model_zip: Path, labels: bytes, problem: str
) -> None:
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"bestModelMap.json": labels})

    assert problem in refusal(path)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"task": "object-detection"},
            "task is 'object-detection', expected 'image-classification'",
        ),
        ({"model": "other.onnx"}, "model is 'other.onnx', expected 'bestModel.onnx'"),
        ({"input": {"name": "pixels"}}, "manifest names input 'pixels'"),
        ({"preprocessing": {"crop": 224}}, "preprocessing lacks resize, scale, mean, std"),
        ({"preprocessing": {**preprocessing.default_spec(), "std": [0, 1, 1]}}, "std is"),
    ],
)
def test_a_manifest_that_does_not_describe_the_model_is_refused(
    tmp_path: Path, tiny_model_zip: Path, fields: dict[str, object], problem: str
) -> None:
    manifest = manifest_bytes(tiny_model_zip, **fields)
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"manifest.json": manifest})

    assert problem in refusal(path)


def test_a_model_member_that_is_not_onnx_is_refused(tmp_path: Path, tiny_model_zip: Path) -> None:
    path = tampered(tiny_model_zip, tmp_path / "MLModel.zip", {"bestModel.onnx": b"\x80\x04K\x01."})

    assert "bestModel.onnx is not a valid ONNX model" in refusal(path)
