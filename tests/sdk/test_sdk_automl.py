"""AutoMLConfig submitted from the SDK like any run (Azure's `experiment.submit(automl_config)`),
an AutoMLRun back."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import AutoMLConfig, AutoMLRun, Conflict, Experiment, Workspace

pytest.importorskip("flaml")
from tabular.conftest import LABEL, bundled_frame


def test_submit_an_automl_config_and_read_its_children(tmp_path: Path) -> None:
    table = tmp_path / "wine.csv"
    bundled_frame("wine").to_csv(table, index=False)
    ws = Workspace.create("automl-sdk", path=tmp_path / "ws")
    try:
        config = AutoMLConfig(
            task="classification",
            training_data=str(table),
            label_column_name=LABEL,
            primary_metric="AUC_weighted",
            experiment_timeout_minutes=0.05,
            n_cross_validations=3,
            allowed_models=["LogisticRegression"],
        )
        run = Experiment(ws, "wine").submit(config)
        run.wait_for_completion()
        assert run.get_status() == "Completed", run.get_details().get("error")
        (child,) = run.get_children()
        assert child.display_name == "LogisticRegression"
        # The parent's metric is its best child's (a 3 s budget under load may fit one trial).
        best = child.get_metrics()["best_AUC_weighted"]
        assert 0.5 < run.get_metrics()["AUC_weighted"] == best <= 1.0
        assert run.get_params()["goal"] == "maximize"
        assert run.get_params()["validation"] == "3-fold cross-validation"
        assert "outputs/bestModel.onnx" in run.get_file_names()
        assert isinstance(run, AutoMLRun)
        board = run.get_leaderboard()
        assert board is not None and board["exported"] == "LogisticRegression"
        with pytest.raises(Conflict, match="has completed: nothing to resume"):
            run.resume()
    finally:
        ws.close()
