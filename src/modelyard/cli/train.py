"""`modelyard train image-classification`: Model Builder's scenario as one command.

The training itself is a job (a run in an experiment on a compute target); this command submits
it, then follows it with progress bars read from the run's own metrics, the same numbers the
portal shows, and ends with the guardrails table or the results.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any, get_type_hints

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import cell_text, console, emit_mapping, emit_table
from modelyard.cli.run import announce_submitted, raise_unless_completed
from modelyard.entities.names import validate_model_name
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import GuardrailFailed, InvalidValue
from modelyard.services import models, runs, training
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.config import ImageClassificationConfig, cli_flag

app = typer.Typer(help="Train models with built-in trainers.", no_args_is_help=True)

_RESULT_METRICS = (
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "log_loss",
    "best_epoch",
    "best_validation_accuracy",
    "onnx_max_abs_diff",
    "feature_cache_hits",
    "featurize_images_per_s",
)
FIRST_FILES_SHOWN = 3  # of a guardrail finding about many files; guardrails.json has them all


def image_classification(
    experiment: str,
    display_name: str | None,
    wait: bool,
    register: str | None,
    workspace: str | None,
    **options: Any,
) -> None:
    """Train an image classifier on a folder of images per label (ResNet50 by default)."""
    config = ImageClassificationConfig(**options)
    check_register(register, wait)
    with opened_workspace(workspace) as ws:
        config, download_to = training.output_downloaded_here(ws, config, wait)
        run = training.submit_image_classification(ws, experiment, config, display_name)
        announce_submitted(ws, run, config.compute_target)
        if wait:
            _follow(ws, run.id, config.epochs)
            project = download_to or (None if config.output is None else Path(config.output))
            _report(ws, run.id, project)
            if download_to is not None and training.download_project(ws, run.id, download_to):
                console.print(f"Project written to {download_to}")
            if register is not None:
                _register_outputs(ws, run.id, register)


def check_register(register: str | None, wait: bool) -> None:
    """Before training: a model name that would be refused at the end is refused now."""
    if register is None:
        return
    validate_model_name(register)
    if not wait:
        raise InvalidValue(
            f"--register {register} with --no-wait: the model is registered from the run's"
            " outputs once it completes, which this command waits for; drop --no-wait, or"
            f" later run `modelyard model register --run RUN_ID --name {register}`",
            model=register,
        )


def _register_outputs(ws: OpenWorkspace, run_id: str, name: str) -> None:
    """The completed run's outputs as the next version of `name` (the CLI waited for them:
    a job's outputs are the run's once its job has uploaded them, at its end)."""
    version = models.register_run_model(ws, run_id, ModelVersionRequest(name))
    console.print(
        f"Registered {version.reference} ({version.framework or 'files'}): deploy or download"
        f" it as {version.name}:{version.version}"
    )


def _command_parameters() -> list[inspect.Parameter]:
    """The command's options: its own, then one per config field, each with the field's flag,
    default and help (vision/config.py), so the CLI and the SDK cannot drift apart."""
    own = {
        "experiment": typer.Option(..., "--experiment", "-e", help="experiment name"),
        "display_name": typer.Option(None, "--display-name", help="the run's name"),
        "wait": typer.Option(True, "--wait/--no-wait", help="follow the run until it ends"),
        "register": typer.Option(
            None, "--register", help="register the outputs as a version of this model at the end"
        ),
        "workspace": WorkspaceOption,
    }
    hints = get_type_hints(ImageClassificationConfig)
    config = {
        item.name: (hints[item.name], _config_option(item))
        for item in fields(ImageClassificationConfig)
    }
    annotations = {**get_type_hints(image_classification), **{k: v[0] for k, v in config.items()}}
    defaults = {**own, **{name: option for name, (_, option) in config.items()}}
    return [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotations[name]
        )
        for name, default in defaults.items()
    ]


def _config_option(item: Field[Any]) -> Any:
    default = ... if item.default is MISSING else item.default
    return typer.Option(default, cli_flag(item), help=item.metadata["help"])


image_classification.__signature__ = inspect.Signature(_command_parameters())  # type: ignore[attr-defined]
app.command("image-classification")(image_classification)


def _follow(ws: OpenWorkspace, run_id: str, epochs: int) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        featurize = progress.add_task("featurize", total=None, detail="", visible=False)
        train = progress.add_task("epochs", total=epochs, detail="", visible=False)
        while True:
            run = runs.get_run(ws, run_id)
            data = ws.store.get_run_data(run_id)
            _update(progress, featurize, train, data.latest_metrics, data.properties)
            if run.status.is_terminal:
                return
            time.sleep(ws.settings.poll_interval_s)


def _update(
    progress: Progress,
    featurize: Any,
    train: Any,
    metrics: dict[str, float],
    properties: dict[str, str],
) -> None:
    if "featurized_images" in metrics:
        total = int(properties.get("data_usable_count", "0")) or None
        rate = metrics.get("featurize_images_per_s")
        detail = f"{rate:.1f} images/s" if rate else ""
        progress.update(
            featurize,
            visible=True,
            total=total,
            completed=int(metrics["featurized_images"]),
            detail=detail,
        )
    if "epoch" in metrics:
        detail = f"validation accuracy {metrics.get('validation_accuracy', 0.0):.4f}"
        progress.update(train, visible=True, completed=int(metrics["epoch"]), detail=detail)


def _report(ws: OpenWorkspace, run_id: str, project: Path | None) -> None:
    details = runs.get_run_details(ws, run_id)
    run = details.run
    guardrails = training.read_guardrails(ws, run_id)
    if guardrails is not None and not guardrails.get("passed", True):
        _print_guardrails(guardrails, run_id)
        raise GuardrailFailed(f"run {run_id} stopped: {guardrails.get('summary')}")
    raise_unless_completed(run)
    emit_mapping("Results", result_metrics(details.data.latest_metrics), sort=False)
    outputs = [[name] for name in _top_level_outputs(ws, run_id)]
    emit_table("Outputs", ["artifact"], outputs, whole={"artifact"})
    _print_how_to_predict(run_id, project)


def result_metrics(
    latest: dict[str, float], names: tuple[str, ...] = _RESULT_METRICS
) -> dict[str, float]:
    """The metrics worth a line, in reading order; no featurizing rate when the feature cache
    served every image (a rate over nothing computed says nothing)."""
    shown = {name: latest[name] for name in names if name in latest}
    if not latest.get("featurized_images_computed"):
        shown.pop("featurize_images_per_s", None)
    return shown


def _print_how_to_predict(run_id: str, project: Path | None) -> None:
    if project is not None:
        console.print(f"Predict with: modelyard predict --model {project / 'MLModel.zip'} IMAGE")
        return
    console.print(
        f"Predict with: modelyard run artifacts download {run_id} outputs/MLModel.zip, then"
        " modelyard predict --model MLModel.zip IMAGE"
    )


def _top_level_outputs(ws: OpenWorkspace, run_id: str) -> list[str]:
    """outputs/bestModel.onnx, …, outputs/MLModel.Model/ (folders once, not file by file)."""
    names: list[str] = []
    for info in ws.artifacts.list(run_id, "outputs"):
        head, _, rest = info.path.removeprefix("outputs/").partition("/")
        name = f"outputs/{head}/" if rest else f"outputs/{head}"
        if name not in names:
            names.append(name)
    return names


def _print_guardrails(report: dict[str, Any], run_id: str) -> None:
    """Findings about the data set one row each; findings about files counted by reason, with
    the first few files (a folder of 58 bad files is one row, not 58): guardrails.json has
    every file."""
    findings: list[list[str]] = []
    per_file: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for severity, issues in (
        ("error", report.get("errors", [])),
        ("warning", report.get("warnings", [])),
    ):
        for issue in issues:
            if issue.get("path"):
                per_file.setdefault((severity, _reason(issue)), []).append(issue)
            else:
                findings.append([severity, str(issue.get("kind")), _message(issue)])
    if findings:
        emit_table("Guardrails", ["severity", "kind", "detail"], findings)
    if per_file:
        rows = [
            [severity, reason, cell_text(len(issues)), _first_files(issues)]
            for (severity, reason), issues in per_file.items()
        ]
        columns = ["severity", "reason", "files", "first files"]
        emit_table("Guardrails: files", columns, rows, whole={"first files"})
        console.print(
            f"Every file is listed in the run's {training.GUARDRAILS_ARTIFACT}: modelyard run"
            f" artifacts download {run_id} {training.GUARDRAILS_ARTIFACT}"
        )


def _reason(issue: dict[str, Any]) -> str:
    """The reason code an unreadable file's detail starts with ("not_an_image: 'a.png' …"),
    else the finding's kind."""
    head, found, _ = str(issue.get("detail", "")).partition(": ")
    return head if found and head.isidentifier() else str(issue.get("kind"))


def _message(issue: dict[str, Any]) -> str:
    return str(issue.get("message") or issue.get("detail") or "")


def _first_files(issues: list[dict[str, Any]]) -> str:
    shown = [str(issue["path"]) for issue in issues[:FIRST_FILES_SHOWN]]
    more = len(issues) - len(shown)
    return "\n".join(shown + ([f"… and {more} more"] if more else []))
