"""`require_extra`: a feature whose extra is missing says, in one line, which extra to install."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from modelyard.errors import MissingExtra, ModelyardError
from modelyard.extras import EXTRA_MODULES, is_installed, require_extra


def test_an_installed_extra_passes() -> None:
    require_extra("vision", "training")  # the dev venv has every extra
    assert is_installed("PIL") and is_installed("sqlalchemy")


def test_a_missing_extra_names_itself_what_is_missing_and_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # None in sys.modules: import blocked
    with pytest.raises(MissingExtra) as raised:
        require_extra("server", "modelyard server")
    assert raised.value.message == (
        "modelyard server needs the 'server' extra, and uvicorn is not installed:"
        " pip install 'modelyard[server]'"
    )
    assert raised.value.context == {"extra": "server", "missing": ["uvicorn"]}
    assert isinstance(raised.value, ModelyardError) and isinstance(raised.value, ImportError)


def test_a_feature_that_needs_part_of_an_extra_asks_only_for_that_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    require_extra("vision", "predicting", modules=("PIL", "numpy", "onnxruntime"))
    with pytest.raises(MissingExtra, match=r"torch is not installed: pip install 'modelyard\["):
        require_extra("vision", "training")


def test_a_module_nobody_installed_is_not_installed() -> None:
    assert not is_installed("modelyard_no_such_module")
    assert not is_installed("modelyard_no_such_module.child")


def test_every_extra_in_pyproject_is_checked_by_its_modules() -> None:
    """The table's extras are pyproject's, less `dev` (tools)."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    extras = set(pyproject["project"]["optional-dependencies"]) - {"dev"}
    assert set(EXTRA_MODULES) == extras
