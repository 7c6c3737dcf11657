"""Starter code for a trained model, mirroring the two projects ML.NET Model Builder generates.

::

    <destination>/<Name>.Model/        consume_model.py (predict), model_input.py, model_output.py,
                                       image_preprocessing.py (a byte-for-byte copy of
                                       modelyard/vision/preprocessing.py), bestModel.onnx,
                                       bestModelMap.json, MLModel.zip, requirements.txt
    <destination>/<Name>.ConsoleApp/   main.py (predicts the copied sample image or argv[1]),
                                       the sample image

The generated code imports onnxruntime, Pillow and NumPy, never Modelyard: it is meant to be
copied into the user's own application. Both projects are written in a hidden folder beside
them and renamed into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from modelyard.errors import AlreadyExists, InvalidName, InvalidValue, NotFound
from modelyard.vision.dataset import ImageUnreadable, decode_image
from modelyard.vision.package import (
    LABEL_MAP_FILE,
    MODEL_FILE,
    MODEL_ZIP_FILE,
    ModelPackage,
    read_model_zip,
)

MODEL_PROJECT_SUFFIX: Final = ".Model"
CONSOLE_PROJECT_SUFFIX: Final = ".ConsoleApp"
REQUIREMENTS_FILE: Final = "requirements.txt"
PREPROCESSING_FILE: Final = "image_preprocessing.py"
CONSOLE_MAIN_FILE: Final = "main.py"
# The distributions the generated model project imports, in the order requirements.txt lists them.
STARTER_REQUIREMENTS: Final = ("onnxruntime", "pillow", "numpy")
_PROJECT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_MODEL_TEMPLATES: Final = {
    "model_input.py": "model_input.py.tmpl",
    "model_output.py": "model_output.py.tmpl",
    "consume_model.py": "consume_model.py.tmpl",
}
_CONSOLE_TEMPLATE: Final = "console_main.py.tmpl"


@dataclass(frozen=True)
class StarterProject:
    model_dir: Path
    console_dir: Path


@dataclass(frozen=True)
class _Assets:
    model_zip: Path
    onnx_model: Path
    label_map: Path
    sample_image: Path


def generate_starter(
    destination: Path,
    name: str,
    *,
    model_zip: Path,
    onnx_model: Path,
    label_map: Path,
    sample_image: Path,
    overwrite: bool = False,
) -> StarterProject:
    """Write `<name>.Model/` and `<name>.ConsoleApp/` under `destination`, both or neither."""
    check_project_name(name)
    assets = _Assets(Path(model_zip), Path(onnx_model), Path(label_map), Path(sample_image))
    _check_assets(assets)
    destination = Path(destination).absolute()
    target = starter_paths(destination, name)
    _refuse_existing(target, overwrite)
    try:
        _stage_and_place(destination, name, assets, target)
    except OSError as error:
        raise InvalidValue(
            f"cannot write the starter projects into {str(destination)!r} ({error}); "
            "fix: choose a folder you can write to",
            path=str(destination),
        ) from error
    return target


def starter_paths(destination: Path, name: str) -> StarterProject:
    return StarterProject(
        destination / f"{name}{MODEL_PROJECT_SUFFIX}",
        destination / f"{name}{CONSOLE_PROJECT_SUFFIX}",
    )


def check_project_name(name: str) -> str:
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name):
        raise InvalidName(
            f"invalid starter project name {name!r}: use 1–64 letters, digits, '_' or '-', "
            "starting with a letter or digit (for example 'MLModel1')",
            kind="starter project",
            name=name,
        )
    return name


# --- checking the inputs ---------------------------------------------------------------------


def _check_assets(assets: _Assets) -> None:
    """The zip is a valid package and the loose model and label map are the same as inside it."""
    package = read_model_zip(assets.model_zip)
    _require_file(assets.onnx_model, "ONNX model", MODEL_FILE)
    _require_file(assets.label_map, "label map", LABEL_MAP_FILE)
    _check_same_as_package(assets, package)
    _check_sample_image(assets.sample_image)


def _require_file(path: Path, what: str, expected_name: str) -> None:
    if not path.is_file():
        raise NotFound(
            f"{what} {str(path)!r}: no such file; fix: pass the {expected_name} written by the "
            "training run",
            path=str(path),
        )


def _check_same_as_package(assets: _Assets, package: ModelPackage) -> None:
    # The starter reads the loose files; the zip's manifest says how. They must agree.
    mismatched = []
    if assets.onnx_model.read_bytes() != package.onnx_bytes:
        mismatched.append(f"{str(assets.onnx_model)!r} is not the {MODEL_FILE}")
    if _read_labels(assets.label_map) != package.labels:
        mismatched.append(f"{str(assets.label_map)!r} does not hold the labels")
    if mismatched:
        raise InvalidValue(
            f"{' and '.join(mismatched)} inside {str(assets.model_zip)!r}; fix: pass the "
            f"{MODEL_FILE}, {LABEL_MAP_FILE} and {MODEL_ZIP_FILE} written by the same run",
            model_zip=str(assets.model_zip),
        )


def _read_labels(label_map: Path) -> object:
    try:
        return json.loads(label_map.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None  # Reported as a mismatch with the package's labels.


def _check_sample_image(path: Path) -> None:
    try:
        decode_image(path)
    except ImageUnreadable as error:
        error_class = NotFound if error.reason == "missing" else InvalidValue
        raise error_class(
            f"sample image {str(path)!r} cannot be used ({error.detail}); fix: pass one of the "
            "training images",
            path=str(path),
        ) from error


def _refuse_existing(target: StarterProject, overwrite: bool) -> None:
    existing = [path for path in (target.model_dir, target.console_dir) if _exists(path)]
    if existing and not overwrite:
        raise AlreadyExists(
            f"starter project {', '.join(repr(str(path)) for path in existing)} already exists; "
            "fix: choose another name or destination, or pass overwrite=True to replace it",
            paths=[str(path) for path in existing],
        )


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


# --- writing -----------------------------------------------------------------------------------


def _stage_and_place(destination: Path, name: str, assets: _Assets, target: StarterProject) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-starter-", dir=destination))
    set_aside = staging / "replaced"
    try:
        staged = starter_paths(staging, name)
        _write_model_project(staged.model_dir, assets)
        _write_console_project(staged.console_dir, name, assets.sample_image)
        _move_into_place(staged, target, set_aside)
        shutil.rmtree(set_aside, ignore_errors=True)  # The replaced projects, now unused.
    finally:
        # Old projects are left set aside only if restoring them failed: never delete those.
        if not (set_aside.exists() and any(set_aside.iterdir())):
            shutil.rmtree(staging, ignore_errors=True)


def _write_model_project(model_dir: Path, assets: _Assets) -> None:
    model_dir.mkdir()
    for file_name, template in _MODEL_TEMPLATES.items():
        (model_dir / file_name).write_text(_template(template), encoding="utf-8")
    (model_dir / PREPROCESSING_FILE).write_bytes(preprocessing_source())
    shutil.copyfile(assets.onnx_model, model_dir / MODEL_FILE)
    shutil.copyfile(assets.label_map, model_dir / LABEL_MAP_FILE)
    shutil.copyfile(assets.model_zip, model_dir / MODEL_ZIP_FILE)
    (model_dir / REQUIREMENTS_FILE).write_text(requirements_text(), encoding="utf-8")


def _write_console_project(console_dir: Path, name: str, sample_image: Path) -> None:
    console_dir.mkdir()
    sample_name = _sample_file_name(sample_image)
    shutil.copyfile(sample_image, console_dir / sample_name)
    values = {"MODEL_PROJECT": f"{name}{MODEL_PROJECT_SUFFIX}", "SAMPLE_IMAGE": sample_name}
    main_source = _render(_template(_CONSOLE_TEMPLATE), values)
    (console_dir / CONSOLE_MAIN_FILE).write_text(main_source, encoding="utf-8")


def _sample_file_name(sample_image: Path) -> str:
    # Keep the user's file name where it is plain text; a name the code can't spell gets a
    # neutral one (and main.py itself must never be overwritten).
    name = sample_image.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = ""
    if not name.isprintable() or name == CONSOLE_MAIN_FILE:
        return f"sample_image{sample_image.suffix.lower()}"
    return name


def _move_into_place(staged: StarterProject, target: StarterProject, set_aside: Path) -> None:
    """Rename both projects into place; if the second rename fails, undo the first."""
    placed: list[Path] = []
    replaced: list[tuple[Path, Path]] = []
    pairs = [(staged.model_dir, target.model_dir), (staged.console_dir, target.console_dir)]
    try:
        for source, destination in pairs:
            if _exists(destination):  # Only reached with overwrite=True.
                set_aside.mkdir(exist_ok=True)
                destination.rename(set_aside / destination.name)
                replaced.append((set_aside / destination.name, destination))
            source.rename(destination)
            placed.append(destination)
    except OSError:
        for destination in placed:
            shutil.rmtree(destination, ignore_errors=True)
        for old, destination in replaced:
            old.rename(destination)
        raise


# --- the generated text --------------------------------------------------------------------


def preprocessing_source() -> bytes:
    """modelyard/vision/preprocessing.py exactly as installed: preprocessing exists once."""
    return resources.files("modelyard.vision").joinpath("preprocessing.py").read_bytes()


def requirements_text() -> str:
    lines = [
        "# What the model project needs; the lower bounds are the versions it was generated with.",
        *(_requirement_line(distribution) for distribution in STARTER_REQUIREMENTS),
    ]
    return "\n".join(lines) + "\n"


def _requirement_line(distribution: str) -> str:
    try:
        return f"{distribution}>={importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return distribution  # Not installed here: any version will do.


def _template(file_name: str) -> str:
    return (resources.files("modelyard.vision") / "templates" / file_name).read_text("utf-8")


def _render(template: str, values: dict[str, str]) -> str:
    """Fill each {{KEY}} with a double-quoted Python string literal of its value."""
    for key, value in values.items():
        # A JSON string is also a valid Python string literal, in the quotes ruff prefers.
        template = template.replace("{{" + key + "}}", json.dumps(value, ensure_ascii=False))
    if "{{" in template:
        raise ValueError(f"template placeholder left unfilled: {template.split('{{')[1][:40]!r}")
    return template
