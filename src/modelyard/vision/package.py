"""MLModel.zip: the trained model, its labels and how to feed it, in one file without pickle.

A package holds exactly three members, Model Builder style::

    manifest.json       what the model is and how to preprocess its input (schema_version 1)
    bestModel.onnx      the whole model: input `input1` float32 [N, 3, crop, crop], output
                        `output1` logits [N, classes]
    bestModelMap.json   the labels, a JSON array in output-index order

Reading refuses anything else inside the zip (a `model.pkl` or `model.pt` above all): loading a
pickle runs whatever code it carries, so Modelyard never loads one, from anyone.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from modelyard._version import __version__
from modelyard.errors import InvalidValue, LimitExceeded, NotFound
from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.vision.preprocessing import default_spec

if TYPE_CHECKING:
    import onnx

INPUT_NAME: Final = "input1"
OUTPUT_NAME: Final = "output1"
MODEL_FILE: Final = "bestModel.onnx"
LABEL_MAP_FILE: Final = "bestModelMap.json"
MODEL_ZIP_FILE: Final = "MLModel.zip"
MANIFEST_FILE: Final = "manifest.json"
PACKAGE_MEMBERS: Final = (MANIFEST_FILE, MODEL_FILE, LABEL_MAP_FILE)

SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = frozenset({1})
TASK: Final = "image-classification"
# Protobuf cannot parse a model over 2 GiB; the JSON members are small by nature.
MAX_MODEL_BYTES: Final = 2 * 1024**3
MAX_METADATA_BYTES: Final = 16 * 1024**2
# A fixed timestamp makes the same model and labels give the same zip, byte for byte.
_ZIP_TIMESTAMP: Final = (1980, 1, 1, 0, 0, 0)
_PREPROCESSING_KEYS: Final = ("resize", "crop", "scale", "mean", "std")


@dataclass(frozen=True)
class ModelPackage:
    """The checked contents of an MLModel.zip."""

    manifest: dict[str, Any]
    onnx_bytes: bytes
    labels: list[str]

    @property
    def preprocessing(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.manifest["preprocessing"]
        return spec

    @property
    def input_name(self) -> str:
        return str(self.manifest["input"]["name"])

    @property
    def output_name(self) -> str:
        return str(self.manifest["output"]["name"])


# --- writing -----------------------------------------------------------------------------------


def write_label_map(path: Path, labels: Sequence[str]) -> None:
    """bestModelMap.json: the labels as a plain JSON array, in output-index order."""
    write_json_atomic(Path(path), check_labels(labels, subject=f"label map {str(path)!r}"))


def write_model_zip(
    path: Path,
    onnx_path: Path,
    labels: Sequence[str],
    *,
    backbone: str,
    run_id: str | None,
    preprocessing: dict[str, Any] | None = None,
    durable: bool = True,
) -> None:
    """Write MLModel.zip atomically; the model and labels are checked against each other first.

    `durable=False` skips the fsync, for a staging copy that is made durable where it is kept.
    """
    source = str(path)
    label_list = check_labels(labels, subject=f"model package {source!r}")
    spec = default_spec() if preprocessing is None else preprocessing
    _check_preprocessing(source, spec)
    onnx_bytes = _read_model_file(Path(onnx_path))
    manifest = build_manifest(spec, backbone=backbone, run_id=run_id)
    _check_model(source, onnx_bytes, manifest, label_list)
    members = {
        MANIFEST_FILE: _json_bytes(manifest),
        MODEL_FILE: onnx_bytes,
        LABEL_MAP_FILE: _json_bytes(label_list),
    }
    write_bytes_atomic(Path(path), _zip_bytes(members), durable=durable)


def build_manifest(spec: dict[str, Any], *, backbone: str, run_id: str | None) -> dict[str, Any]:
    crop = int(spec["crop"])
    return {
        "schema_version": SCHEMA_VERSION,
        "task": TASK,
        "model": MODEL_FILE,
        "labels": LABEL_MAP_FILE,
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [None, 3, crop, crop]},
        "output": {"name": OUTPUT_NAME, "kind": "logits"},
        "preprocessing": spec,
        "backbone": backbone,
        "run_id": run_id,
        "created_by": f"modelyard {__version__}",
    }


def _read_model_file(onnx_path: Path) -> bytes:
    try:
        return onnx_path.read_bytes()
    except FileNotFoundError as error:
        raise NotFound(
            f"ONNX model {str(onnx_path)!r}: no such file; fix: pass the {MODEL_FILE} written "
            "by the training run",
            path=str(onnx_path),
        ) from error


def _json_bytes(data: Any) -> bytes:
    # The same text write_json_atomic produces, so bestModelMap.json reads alike in and out.
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            info.compress_type = _compression_of(name)
            archive.writestr(info, data)
    return buffer.getvalue()


def _compression_of(member: str) -> int:
    # A network's float weights shrink by about 7 % when deflated, and deflating ResNet50's
    # 94 MB takes seconds: the model is stored as is, the JSON members compressed.
    return zipfile.ZIP_STORED if member == MODEL_FILE else zipfile.ZIP_DEFLATED


# --- reading -----------------------------------------------------------------------------------


def read_model_zip(path: str | Path, *, check_graph: bool = True) -> ModelPackage:
    """The package at `path`, checked member by member; every refusal says what to fix.

    `check_graph=False` leaves the ONNX graph's names and classes unchecked, for a caller that
    checks them with `check_signature` on the loaded session instead of parsing the graph with
    `onnx` (the scoring replica, which has onnxruntime only).
    """
    path = Path(path)
    _check_is_file(path)
    members = _read_members(path)
    source = str(path)
    manifest = _parse_manifest(source, members[MANIFEST_FILE])
    labels = _parse_labels(source, members[LABEL_MAP_FILE])
    if check_graph:
        _check_model(source, members[MODEL_FILE], manifest, labels)
    return ModelPackage(manifest, members[MODEL_FILE], labels)


def _check_is_file(path: Path) -> None:
    if not path.exists():
        raise NotFound(
            f"model package {str(path)!r}: no such file; fix: pass the {MODEL_ZIP_FILE} "
            "written by a Modelyard training run",
            path=str(path),
        )
    if not path.is_file():
        raise _problem(str(path), "is a folder, not a zip file", f"pass the {MODEL_ZIP_FILE} file")


def _read_members(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_member_names(str(path), [info.filename for info in infos])
            return {info.filename: _read_member(str(path), archive, info) for info in infos}
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise _problem(
            str(path),
            f"not a readable zip file ({error})",
            f"pass the {MODEL_ZIP_FILE} written by a Modelyard training run",
        ) from error
    except OSError as error:
        raise _problem(
            str(path), f"cannot read it ({error.strerror or error})", "make it readable"
        ) from error


def _check_member_names(source: str, names: list[str]) -> None:
    allowed = ", ".join(PACKAGE_MEMBERS)
    unexpected = [name for name in names if name not in PACKAGE_MEMBERS]
    if unexpected:
        raise _problem(
            source,
            f"holds {', '.join(map(repr, unexpected))}, which a model package may not contain "
            f"(only {allowed}; Modelyard never loads pickled or other code-carrying files)",
            f"re-export the model as {MODEL_FILE} and package it with write_model_zip",
            unexpected=unexpected,
        )
    missing = [name for name in PACKAGE_MEMBERS if name not in names]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    problems = []
    if missing:
        problems.append(f"lacks {', '.join(map(repr, missing))}")
    if repeated:
        problems.append(f"repeats {', '.join(map(repr, repeated))}")
    if problems:
        raise _problem(
            source,
            f"{' and '.join(problems)} (it must hold exactly {allowed})",
            "re-package the model with write_model_zip",
        )


def _read_member(source: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    limit = MAX_MODEL_BYTES if info.filename == MODEL_FILE else MAX_METADATA_BYTES
    if info.file_size > limit:
        raise LimitExceeded(
            f"model package {source!r}: {info.filename} is {info.file_size} bytes, over the "
            f"limit of {limit}; fix: package a smaller model",
            path=source,
            member=info.filename,
            size=info.file_size,
            limit=limit,
        )
    return archive.read(info)


def _parse_manifest(source: str, data: bytes) -> dict[str, Any]:
    manifest = _parse_json(source, MANIFEST_FILE, data)
    if not isinstance(manifest, dict):
        raise _problem(source, f"{MANIFEST_FILE} is not a JSON object", "re-package the model")
    _check_schema_version(source, manifest.get("schema_version"))
    _check_field(source, manifest, "task", TASK)
    _check_field(source, manifest, "model", MODEL_FILE)
    _check_field(source, manifest, "labels", LABEL_MAP_FILE)
    for block in ("input", "output"):
        if not isinstance(manifest.get(block), dict) or not isinstance(
            manifest[block].get("name"), str
        ):
            raise _problem(source, f"{MANIFEST_FILE} has no {block}.name", "re-package the model")
    _check_preprocessing(source, manifest.get("preprocessing"))
    return manifest


def _parse_json(source: str, member: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _problem(
            source, f"{member} is not UTF-8 JSON ({error})", "re-package the model"
        ) from error


def _check_schema_version(source: str, version: Any) -> None:
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(map(str, sorted(SUPPORTED_SCHEMA_VERSIONS)))
        raise _problem(
            source,
            f"{MANIFEST_FILE} schema_version {version!r} is not supported (this Modelyard "
            f"{__version__} reads {supported})",
            "use the Modelyard version that wrote it, or re-package the model with this one",
            schema_version=version,
        )


def _check_field(source: str, manifest: dict[str, Any], key: str, expected: str) -> None:
    if manifest.get(key) != expected:
        raise _problem(
            source,
            f"{MANIFEST_FILE} {key} is {manifest.get(key)!r}, expected {expected!r}",
            "re-package the model with write_model_zip",
        )


def _check_preprocessing(source: str, spec: Any) -> None:
    def refuse(problem: str) -> InvalidValue:
        return _problem(source, f"{MANIFEST_FILE} preprocessing {problem}", "re-package the model")

    if not isinstance(spec, dict):
        raise refuse(f"is {spec!r}, expected an object")
    missing = [key for key in _PREPROCESSING_KEYS if key not in spec]
    if missing:
        raise refuse(f"lacks {', '.join(missing)}")
    for key in ("resize", "crop"):
        if not isinstance(spec[key], int) or isinstance(spec[key], bool) or spec[key] < 1:
            raise refuse(f"{key} is {spec[key]!r}, expected a positive whole number")
    for key in ("mean", "std"):
        if not _is_three_numbers(spec[key]) or (key == "std" and 0 in spec[key]):
            raise refuse(f"{key} is {spec[key]!r}, expected three numbers, one per channel")


def _is_three_numbers(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(item, int | float) and not isinstance(item, bool) for item in value)
    )


def _parse_labels(source: str, data: bytes) -> list[str]:
    labels = _parse_json(source, LABEL_MAP_FILE, data)
    return check_labels(labels, subject=f"model package {source!r}: {LABEL_MAP_FILE}")


def check_labels(labels: Any, *, subject: str) -> list[str]:
    """A non-empty list of distinct, non-empty strings; `subject` names where they come from."""

    def refuse(problem: str, fix: str) -> InvalidValue:
        return InvalidValue(f"{subject}: {problem}; fix: {fix}", labels=_short(labels))

    if isinstance(labels, str | bytes) or not isinstance(labels, Sequence) or not labels:
        raise refuse(
            f"labels are {_short(labels)}, expected a non-empty list of strings",
            'give the labels in output order, e.g. ["cat", "dog"]',
        )
    bad = [label for label in labels if not isinstance(label, str) or not label.strip()]
    if bad:
        raise refuse(f"labels {_short(bad)} are not non-empty strings", "give every class a name")
    repeated = sorted(label for label, count in Counter(labels).items() if count > 1)
    if repeated:
        raise refuse(
            f"labels {_short(repeated)} appear more than once", "give every class a distinct name"
        )
    return list(labels)


def _check_model(
    source: str, onnx_bytes: bytes, manifest: dict[str, Any], labels: list[str]
) -> None:
    """The graph has the manifest's input and output, with one output per label."""
    inputs, outputs = _graph_signature(source, onnx_bytes)
    check_signature(source, inputs, outputs, manifest, labels)


def check_signature(
    source: str,
    inputs: dict[str, list[int | None]],
    outputs: dict[str, list[int | None]],
    manifest: dict[str, Any],
    labels: list[str],
) -> None:
    """The model's inputs and outputs (name → shape, None where symbolic) are the manifest's,
    with one output per label."""
    input_name, output_name = manifest["input"]["name"], manifest["output"]["name"]
    if input_name not in inputs or output_name not in outputs:
        raise _problem(
            source,
            f"{MODEL_FILE} has inputs {sorted(inputs)} and outputs {sorted(outputs)}, but the "
            f"manifest names input {input_name!r} and output {output_name!r}",
            f"export the model with input_names=[{INPUT_NAME!r}] and "
            f"output_names=[{OUTPUT_NAME!r}]",
        )
    classes = outputs[output_name][-1] if outputs[output_name] else None
    if classes is not None and classes != len(labels):
        raise _problem(
            source,
            f"{MODEL_FILE} outputs {classes} classes but there are {len(labels)} labels "
            f"{_short(labels)}",
            "package the label map written by the same training run as the model",
            classes=classes,
            labels=len(labels),
        )


def _graph_signature(
    source: str, onnx_bytes: bytes
) -> tuple[dict[str, list[int | None]], dict[str, list[int | None]]]:
    """Input and output names with their shapes (None where a dimension is symbolic)."""
    import onnx  # here, not at the top: it takes about a second, `import modelyard.predict` not

    try:
        graph = onnx.load_model_from_string(onnx_bytes).graph
    except Exception as error:  # protobuf raises several types for bytes that aren't a model
        raise _problem(
            source,
            f"{MODEL_FILE} is not a valid ONNX model ({type(error).__name__})",
            f"re-export the model with torch.onnx.export to {MODEL_FILE}",
        ) from error
    initializers = {initializer.name for initializer in graph.initializer}
    inputs = {value.name: _dims(value) for value in graph.input if value.name not in initializers}
    return inputs, {value.name: _dims(value) for value in graph.output}


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    shape = value.type.tensor_type.shape
    return [dim.dim_value if dim.HasField("dim_value") else None for dim in shape.dim]


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem(source: str, problem: str, fix: str, **context: Any) -> InvalidValue:
    return InvalidValue(f"model package {source!r}: {problem}; fix: {fix}", path=source, **context)
