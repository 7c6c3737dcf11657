"""AutoMLConfig with task image-classification submitted from the SDK like any run (Azure's
`experiment.submit(automl_config)`): AutoML for images, its candidates the run's children."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import AutoMLConfig, Experiment, InvalidValue, Workspace
from vision.shapes import write_shapes


def test_submit_an_image_automl_config_and_read_its_children(tmp_path: Path) -> None:
    data = write_shapes(tmp_path / "shapes", per_class=5)
    ws = Workspace.create("automl-images-sdk", path=tmp_path / "ws")
    try:
        config = AutoMLConfig(
            task="image-classification",
            training_data=str(data),
            experiment_timeout_minutes=1,
            allowed_models=["efficientnet-lite0"],  # its ImageNet weights work offline
        )
        run = Experiment(ws, "shapes").submit(config)
        run.wait_for_completion()
        assert run.get_status() == "Completed", run.get_details().get("error")
        children = run.get_children()
        assert children and all(c.display_name.startswith("efficientnet-lite0 ") for c in children)
        assert run.get_params()["backbones"] == "efficientnet-lite0"
        assert run.get_tags()["best_child_run_id"] in {child.id for child in children}
        names = run.get_file_names()
        for name in ("bestModel.onnx", "bestModelMap.json", "MLModel.zip", "leaderboard.json"):
            assert f"outputs/{name}" in names
    finally:
        ws.close()


def test_the_tables_options_are_refused_for_images_before_any_run(tmp_path: Path) -> None:
    data = write_shapes(tmp_path / "shapes", per_class=2)
    ws = Workspace.create("automl-images-bad", path=tmp_path / "ws")
    try:
        config = AutoMLConfig(
            task="image-classification",
            training_data=str(data),
            label_column_name="Label",
            n_cross_validations=3,
        )
        with pytest.raises(InvalidValue) as raised:
            Experiment(ws, "shapes").submit(config)
        assert raised.value.message.startswith(
            "label_column_name, n_cross_validations are for tables"
        )
        assert list(Experiment(ws, "shapes").get_runs()) == []
    finally:
        ws.close()
