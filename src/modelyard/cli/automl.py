"""`modelyard automl`: AutoML for tables (Model Builder's data classification and value
prediction) and for images (`--task image-classification`: backbones × learning rates × epochs)
as one command: submits the built-in job, waits for it, prints the leaderboard."""

from __future__ import annotations

from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import console, emit_table
from modelyard.cli.run import announce_submitted, raise_unless_completed
from modelyard.cli.train import check_register
from modelyard.entities import Run
from modelyard.errors import GuardrailFailed, InvalidValue
from modelyard.services import automl as automl_service
from modelyard.services import jobs, training
from modelyard.services.workspaces import OpenWorkspace
from modelyard.tabular.config import (
    DEFAULT_METRICS,
    MODEL_FAMILIES,
    PRIMARY_METRICS,
    AutoMLConfig,
)
from modelyard.vision.automl_config import (
    DEFAULT_BACKBONES,
    DEFAULT_EPOCHS,
    DEFAULT_LEARNING_RATES,
    IMAGE_CLASSIFICATION_TASK,
    ImageAutoMLConfig,
)

_METRICS_HELP = "; ".join(
    f"{task}: {', '.join(metrics)} (default {DEFAULT_METRICS[task]})"
    for task, metrics in PRIMARY_METRICS.items()
)
_FAMILIES_HELP = "; ".join(
    [f"{task}: {', '.join(names)}" for task, names in MODEL_FAMILIES.items()]
    + [f"{IMAGE_CLASSIFICATION_TASK}: {', '.join(DEFAULT_BACKBONES)} (mobilenet)"]
)
_IMAGES = f"{IMAGE_CLASSIFICATION_TASK} only"


def automl(
    task: str = typer.Option(
        ..., "--task", help=f"classification, regression or {IMAGE_CLASSIFICATION_TASK}"
    ),
    data: str = typer.Option(
        ..., "--data", help="the training table (CSV with a header row), or a folder of images"
    ),
    label: str | None = typer.Option(None, "--label", help="the column to predict (tables)"),
    experiment: str = typer.Option(..., "--experiment", "-e", help="experiment name"),
    time_budget: float = typer.Option(600, "--time-budget", help="seconds for the search"),
    compute: str = typer.Option("local", "--compute", help="compute target"),
    primary_metric: str | None = typer.Option(None, "--primary-metric", help=_METRICS_HELP),
    allowed_models: list[str] | None = typer.Option(
        None, "--allowed-models", help=f"only these (repeat the option): {_FAMILIES_HELP}"
    ),
    blocked_models: list[str] | None = typer.Option(
        None, "--blocked-models", help="never these (repeat the option)"
    ),
    validation: str = typer.Option("auto", "--validation", help="auto, cv or holdout"),
    folds: int | None = typer.Option(None, "--n-cross-validations", help="folds for cv"),
    display_name: str | None = typer.Option(None, "--display-name", help="the run's name"),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="follow the run until it ends"),
    register: str | None = typer.Option(
        None, "--register", help="register the best model as a version of this model"
    ),
    learning_rates: list[float] | None = typer.Option(
        None,
        "--learning-rates",
        help=f"{_IMAGES}: rates to try (repeat; default {DEFAULT_LEARNING_RATES})",
    ),
    epochs: list[int] | None = typer.Option(
        None, "--epochs", help=f"{_IMAGES}: epoch counts to try (repeat; default {DEFAULT_EPOCHS})"
    ),
    fine_tune_finalists: int = typer.Option(
        0, "--fine-tune-finalists", help=f"{_IMAGES}: fine-tune the whole network of the best N"
    ),
    weights: str = typer.Option(
        "imagenet", "--weights", help=f"{_IMAGES}: imagenet, none or a state dict's path"
    ),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Find the best model for a table (FLAML's search) or a folder of images (backbones ×
    learning rates × epochs on cached features) within a time budget. A run whose process was
    killed carries on with `modelyard run resume RUN`, searching only what no earlier attempt
    finished."""
    if task == IMAGE_CLASSIFICATION_TASK:
        if label is not None or folds is not None or validation != "auto":
            raise InvalidValue(
                "--label, --n-cross-validations and --validation are for tables: image"
                " classification takes a folder with one sub-folder per label; leave them out"
            )
        images = ImageAutoMLConfig(
            data=data,
            time_budget_s=time_budget,
            allowed_backbones=allowed_models or None,
            blocked_backbones=tuple(blocked_models or ()),
            learning_rates=tuple(learning_rates or DEFAULT_LEARNING_RATES),
            epochs=tuple(epochs or DEFAULT_EPOCHS),
            fine_tune_finalists=fine_tune_finalists,
            primary_metric=primary_metric or "accuracy",
            weights=weights,
            compute_target=compute,
        )
        check_register(register, wait)
        with opened_workspace(workspace) as ws:
            run = automl_service.submit_image_automl(ws, experiment, images, display_name)
            _follow(ws, run, compute, wait, register)
        return
    if learning_rates or epochs or fine_tune_finalists or weights != "imagenet":
        raise InvalidValue(
            "--learning-rates, --epochs, --fine-tune-finalists and --weights are for --task"
            f" {IMAGE_CLASSIFICATION_TASK}: leave them out for a table"
        )
    config = AutoMLConfig(
        task=task,
        training_data=data,
        label_column_name=label or "",
        primary_metric=primary_metric,
        time_budget_s=time_budget,
        n_cross_validations=folds,
        validation=validation,
        allowed_models=allowed_models or None,
        blocked_models=tuple(blocked_models or ()),
        compute_target=compute,
    )
    check_register(register, wait)
    with opened_workspace(workspace) as ws:
        run = automl_service.submit_automl(ws, experiment, config, display_name)
        _follow(ws, run, config.compute_target, wait, register)


def _follow(ws: OpenWorkspace, run: Run, compute: str, wait: bool, register: str | None) -> None:
    announce_submitted(ws, run, compute)
    if not wait:
        return
    for chunk in jobs.follow_log(ws, run.id):
        console.out(chunk, end="", highlight=False)
    _report(ws, run.id)
    if register is not None:
        version = automl_service.register_best_model(ws, run.id, register)
        console.print(f"Registered {version.reference} ({version.framework})")


def _report(ws: OpenWorkspace, run_id: str) -> None:
    run = jobs.wait_for_completion(ws, run_id)
    guardrails = training.read_guardrails(ws, run_id)
    if guardrails is not None and not guardrails.get("passed", True):
        raise GuardrailFailed(f"run {run_id} stopped: {guardrails.get('summary')}")
    raise_unless_completed(run)
    board = automl_service.read_leaderboard(ws, run_id) or {"metric": "", "models": []}
    metric = str(board["metric"])
    if board.get("task") == IMAGE_CLASSIFICATION_TASK:
        rows: list[list[Any]] = [
            [entry["model"], entry["run_id"], entry[metric]] for entry in board["models"]
        ]
        emit_table(f"Leaderboard ({metric})", ["model", "child run", metric], rows)
        for skipped in board.get("skipped", []):
            console.print(f"Not tried: {skipped['model']}: {skipped['reason']}")
    else:
        rows = [[entry["family"], entry["trials"], entry[metric]] for entry in board["models"]]
        emit_table(f"Leaderboard ({metric})", ["model", "trials", metric], rows)
    console.print(f"Exported: {board.get('exported')} as outputs/bestModel.onnx")
