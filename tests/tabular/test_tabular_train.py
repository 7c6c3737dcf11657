"""The trainer in this process, its run an interactive one in a real workspace (SQLite and
PostgreSQL): child runs per family, the leaderboard, the ONNX export and its parity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime
import pandas as pd
import pytest

from modelyard import Experiment, Workspace
from modelyard.errors import GuardrailFailed, InvalidValue
from modelyard.tabular.config import AutoMLConfig
from modelyard.tabular.search import searched_seconds
from modelyard.tabular.train import AutoMLTrainer
from tabular.conftest import LABEL, bundled_frame


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Workspace:
    workspace = Workspace.create("automl-ws", path=tmp_path / "ws", store_uri=store_uri)
    yield workspace  # type: ignore[misc]
    workspace.close()


def train(ws: Workspace, tmp_path: Path, csv: Path, **settings: object) -> tuple[Path, object]:
    config = AutoMLConfig(training_data=str(csv), label_column_name=LABEL, **settings).validated()  # type: ignore[arg-type]
    outputs = tmp_path / "job" / "outputs"
    outputs.parent.mkdir(exist_ok=True)
    with Experiment(ws, "automl").start_logging() as run:
        AutoMLTrainer(config, run, tmp_path / "checkpoints", outputs).train()
    return outputs, run


def test_classification_children_leaderboard_and_onnx(ws, tmp_path, write_csv, capsys) -> None:
    frame = bundled_frame("iris")
    frame["colour"] = np.where(frame["petal width (cm)"] > 1.0, "dark", "pale")  # a text column
    frame.loc[[5, 60], "sepal length (cm)"] = np.nan
    outputs, run = train(
        ws,
        tmp_path,
        write_csv(frame),
        task="classification",
        time_budget_s=6,
        allowed_models=["LightGBM", "RandomForest", "LogisticRegression"],
    )
    children = {child.display_name: child for child in run.get_children()}
    assert set(children) == {"LightGBM", "RandomForest", "LogisticRegression"}
    for child in children.values():
        assert child.get_status() == "Completed"
        assert child.get_tags()["automl_family"] == child.display_name
        assert child.get_metrics()["trials"] >= 1
    board = json.loads((outputs / "leaderboard.json").read_text())
    families = [entry["family"] for entry in board["models"]]
    assert set(families) == {"LightGBM", "RandomForest", "LogisticRegression", "VotingEnsemble"}
    scores = [entry["accuracy"] for entry in board["models"]]
    assert scores == sorted(scores, reverse=True)
    assert run.get_metrics()["accuracy"] > 0.8
    _every_model_scored_on_the_same_folds(board)
    _the_choice_recorded_and_said(board, capsys.readouterr().out)
    guardrails = json.loads((outputs / "guardrails.json").read_text())
    assert "missing_values" in [w["kind"] for w in guardrails["warnings"]]
    parity = json.loads((outputs / "onnx_parity.json").read_text())
    assert parity["chosen"] == board["exported"]
    assert parity["tried"][-1]["passed"] and parity["tried"][-1]["max_abs_diff"] < 1e-4
    schema = json.loads((outputs / "bestModelSchema.json").read_text())
    assert schema["classes"] == ["0", "1", "2"]
    assert [c["input_name"] for c in schema["columns"]][:2] == ["sepal_length_cm", "sepal_width_cm"]
    _onnx_predicts_like_the_table(outputs, frame)
    importance = json.loads((outputs / "feature_importance.json").read_text())
    assert {item["column"] for item in importance["features"]} == set(frame.columns) - {LABEL}
    model_input = (outputs / "Table.Model" / "model_input.py").read_text()
    assert "sepal_length_cm: Optional[float] = None  # 'sepal length (cm)'" in model_input
    assert "colour: Optional[str] = None" in model_input
    assert (outputs / "Table.ConsoleApp" / "main.py").is_file()
    assert run.get_metrics()["starter_max_abs_diff"] < 1e-5


def _every_model_scored_on_the_same_folds(board: dict) -> None:
    """Iris: 10-fold cross-validation. The families' scores and the ensemble's are means over
    the same ten folds (the ensemble's from its members' out-of-fold predictions)."""
    for entry in board["models"]:
        assert len(entry["fold_scores"]) == 10, entry["family"]
        assert entry["accuracy"] == pytest.approx(np.mean(entry["fold_scores"]))
    [voting] = [e for e in board["models"] if e["family"] == "VotingEnsemble"]
    assert len(voting["members"]) == 3 and voting["trials"] == 0


def _the_choice_recorded_and_said(board: dict, said: str) -> None:
    selection = board["selection"]
    assert selection["rule"].startswith("one standard error")
    finalists = {f["family"]: f for f in selection["finalists"]}
    assert selection["chosen"] in finalists and selection["best_mean"] in finalists
    best = finalists[selection["best_mean"]]
    assert selection["threshold"] == pytest.approx(best["score"] - best["standard_error"])
    assert all(f["score"] >= selection["threshold"] - 1e-9 for f in finalists.values())
    outside = [e for e in board["models"] if e["family"] not in finalists]
    assert all(e["accuracy"] < selection["threshold"] for e in outside)
    fewest = min(f["hyperparameters"] for f in finalists.values())
    assert finalists[selection["chosen"]]["hyperparameters"] == fewest
    assert board["exported"] == selection["chosen"]  # all three families export with parity
    assert f"chosen {selection['chosen']}" in said
    assert "selection by one standard error" in said


def test_quick_families_go_first_and_hand_their_leftover_on(ws, tmp_path, write_csv) -> None:
    """LightGBM listed first, k-NN second: k-NN is searched first, and LightGBM's budget is
    everything k-NN's search left, its unused time included (on a quiet machine k-NN's search
    converges well inside its half; on a loaded one it may use it all, or run a little over)."""
    outputs, run = train(
        ws,
        tmp_path,
        write_csv(bundled_frame("iris")),
        task="classification",
        time_budget_s=8,
        allowed_models=["LightGBM", "KNN"],
    )
    budget = json.loads((outputs / "leaderboard.json").read_text())["budget"]
    knn, lightgbm = budget["families"]
    assert (knn["family"], lightgbm["family"]) == ("KNN", "LightGBM")
    assert knn["allotted_s"] == pytest.approx(knn["left_s"] / 2)
    # LightGBM, the last, gets all the searches' time left: k-NN's share and its leftover.
    assert lightgbm["allotted_s"] == pytest.approx(lightgbm["left_s"])
    handed_on = knn["left_s"] + knn["reserve_s"] - knn["searched_s"] - lightgbm["reserve_s"]
    # (Not "more than k-NN's share": the reserve kept back for the steps after the searches
    # grows with the searches' overrun, which follows the machine's load.)
    assert lightgbm["allotted_s"] == pytest.approx(handed_on, abs=0.25)
    children = {c.display_name: c for c in run.get_children()}
    for family in (knn, lightgbm):
        params = children[family["family"]].get_params()
        assert float(params["budget_s"]) == pytest.approx(family["allotted_s"], abs=1e-3)
    assert budget["after_searches_s"] > 0


def _onnx_predicts_like_the_table(outputs: Path, frame: pd.DataFrame) -> None:
    schema = json.loads((outputs / "bestModelSchema.json").read_text())
    session = onnxruntime.InferenceSession(str(outputs / "bestModel.onnx"))
    feeds = {}
    for column in schema["columns"]:
        values = frame[[column["name"]]]
        if column["kind"] == "numeric":
            feeds[column["input_name"]] = values.to_numpy(dtype=np.float32)
        else:
            feeds[column["input_name"]] = values.fillna("").astype(str).to_numpy(dtype=object)
    label, probabilities = session.run(["label", "probabilities"], feeds)
    assert probabilities.shape == (len(frame), 3)
    accuracy = float(np.mean(label == frame[LABEL].to_numpy()))
    assert accuracy > 0.8


def test_regression_on_diabetes_with_a_holdout(ws, tmp_path, write_csv) -> None:
    outputs, run = train(
        ws,
        tmp_path,
        write_csv(bundled_frame("diabetes")),
        task="regression",
        time_budget_s=4,
        validation="holdout",
        allowed_models=["LightGBM", "ElasticNet"],
    )
    board = json.loads((outputs / "leaderboard.json").read_text())
    assert board["metric"] == "r2_score"
    assert run.get_params()["validation"] == "a 10% holdout"
    parity = json.loads((outputs / "onnx_parity.json").read_text())
    assert parity["tried"][-1]["compared"] == "predictions"
    importance = json.loads((outputs / "feature_importance.json").read_text())
    assert importance["rows_from"] == "validation"
    assert importance["features"][0]["column"] in {"bmi", "s5", "bp", "s1", "s2"}


def test_a_failed_guardrail_writes_its_report_and_no_model(ws, tmp_path, write_csv) -> None:
    frame = bundled_frame("iris")
    frame[LABEL] = "one"
    with pytest.raises(GuardrailFailed, match="the label has one class"):
        train(ws, tmp_path, write_csv(frame), task="classification", time_budget_s=6)
    outputs = tmp_path / "job" / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == ["guardrails.json"]
    assert json.loads((outputs / "guardrails.json").read_text())["passed"] is False


def test_a_misspelled_label_is_one_line_and_writes_nothing(ws, tmp_path, write_csv) -> None:
    csv = write_csv(bundled_frame("wine"))
    config = AutoMLConfig("classification", str(csv), "targte", time_budget_s=6)
    with (
        pytest.raises(InvalidValue, match="did you mean 'target'"),
        Experiment(ws, "automl").start_logging() as run,
    ):
        AutoMLTrainer(config, run, tmp_path / "c", tmp_path / "outputs").train()
    assert not (tmp_path / "outputs").exists()


def test_a_resumed_run_searches_only_the_families_not_finished(
    ws, tmp_path, write_csv, capsys
) -> None:
    """A second attempt of the run (same run, same checkpoint folder): the family whose child
    completed and whose FLAML log was kept is refitted from the log, not searched again; the
    one whose log is missing (killed mid-search) is searched again, as a new child."""
    csv = write_csv(bundled_frame("breast_cancer"))
    config = AutoMLConfig(
        "classification",
        str(csv),
        LABEL,
        time_budget_s=4,
        allowed_models=["LightGBM", "LogisticRegression"],
    ).validated()
    checkpoints = tmp_path / "checkpoints"
    for attempt in ("a1", "a2"):
        (tmp_path / attempt).mkdir()
    with Experiment(ws, "automl").start_logging() as run:
        AutoMLTrainer(config, run, checkpoints, tmp_path / "a1" / "outputs").train()
        (checkpoints / "flaml-LogisticRegression.log").unlink()
        capsys.readouterr()
        AutoMLTrainer(config, run, checkpoints, tmp_path / "a2" / "outputs").train()
    said = capsys.readouterr().out
    assert "LightGBM: searched by an earlier attempt" in said
    # The second attempt searches for what the first left of the 4 s budget, not 4 s again.
    spent = searched_seconds(checkpoints / "flaml-LightGBM.log")
    [left] = re.findall(r"families searched by earlier attempts in [\d.]+ s: ([\d.]+) s of", said)
    assert spent > 0 and float(left) <= 4 - spent + 0.05
    assert "LogisticRegression: searched by an earlier attempt" not in said
    names = sorted(child.display_name for child in run.get_children())
    assert names == ["LightGBM", "LogisticRegression", "LogisticRegression"]
    assert (tmp_path / "a2" / "outputs" / "bestModel.onnx").is_file()
