"""A user's entry script, Azure Machine Learning's contract verbatim::

    def init():            # called once, when the replica starts
        global model
        model = load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.onnx"))

    def run(raw_data):     # called per request with the body (str; bytes if not UTF-8)
        return {"result": model.predict(json.loads(raw_data)["data"])}  # JSON-serialisable

`MODELYARD_MODEL_DIR` and `AZUREML_MODEL_DIR` both name the model folder; the source directory
is put first on `sys.path`, so the script imports its neighbours.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from modelyard.errors import InvalidValue, NotFound

MODEL_DIR_ENV: Final = "MODELYARD_MODEL_DIR"
AZURE_MODEL_DIR_ENV: Final = "AZUREML_MODEL_DIR"
MODULE_NAME: Final = "__modelyard_entry_script__"


def expose_model_dir(model_dir: Path) -> None:
    """Both variables name the model folder, for init() to find its files."""
    os.environ[MODEL_DIR_ENV] = str(Path(model_dir).resolve())
    os.environ[AZURE_MODEL_DIR_ENV] = str(Path(model_dir).resolve())


def resolve_entry_script(entry_script: Path, source_directory: Path | None) -> Path:
    """The script's path: relative paths are inside the source directory, as Azure reads them."""
    path = Path(entry_script)
    if not path.is_absolute() and source_directory is not None:
        path = Path(source_directory) / path
    if not path.is_file():
        raise NotFound(
            f"entry script {str(path)!r}: no such file; fix: pass the path of your score.py "
            "(relative to --source-directory)",
            path=str(path),
        )
    return path


def load_entry_script(entry_script: Path, source_directory: Path | None) -> ModuleType:
    """Import the script (its top level runs here); it must define init() and run(raw_data)."""
    path = resolve_entry_script(entry_script, source_directory)
    folder = str(Path(source_directory or path.parent).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise InvalidValue(f"entry script {str(path)!r} cannot be imported", path=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    _check_contract(module, path)
    return module


def _check_contract(module: ModuleType, path: Path) -> None:
    missing = [name for name in ("init", "run") if not callable(getattr(module, name, None))]
    if missing:
        raise InvalidValue(
            f"entry script {str(path)!r} defines no {' and no '.join(missing)}(); fix: define "
            "init() (called once at start) and run(raw_data) (called per request)",
            path=str(path),
            missing=missing,
        )


def raw_data_of(body: bytes) -> str | bytes:
    """The body as run() receives it: text when it is UTF-8, else the bytes themselves."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def call_run(module: ModuleType, body: bytes) -> Any:
    return module.run(raw_data_of(body))
