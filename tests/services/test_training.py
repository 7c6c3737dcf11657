"""Submitting the image-classification trainer: what is checked before any run exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelyard.errors import MissingExtra
from modelyard.services import training
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.guardrails import GUARDRAILS_FILE


def test_without_the_vision_extra_nothing_is_submitted(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "images" / "cat").mkdir(parents=True)
    monkeypatch.setitem(sys.modules, "torch", None)  # None in sys.modules: import blocked
    config = ImageClassificationConfig(data=str(tmp_path / "images"))
    with pytest.raises(MissingExtra, match=r"pip install 'modelyard\[vision\]'"):
        training.submit_image_classification(sqlite_workspace, "cats", config)
    assert sqlite_workspace.store.list_runs() == []


def test_the_guardrails_report_is_read_where_the_trainer_writes_it() -> None:
    # Spelled out in services/training.py, so reading a report needs no Pillow.
    assert f"outputs/{GUARDRAILS_FILE}" == training.GUARDRAILS_ARTIFACT
