"""Built-in pipeline steps: an image_classification, automl, sweep or batch_score step is the
same job `modelyard train`, `modelyard automl`, a sweep file or `modelyard batch-score` would
submit (their services build it: `training.image_classification_job`, `automl.automl_job`,
`SweepJob.to_module_job`, `batch_scoring.batch_score_job`), submitted as the step's child run.
A split, evaluate or register_model step is a job of its own (`builtin_jobs.split`,
`.evaluate`, `.register_model`), built here.

Each step type has one function here that turns its fields into that job's config, called
twice: when the pipeline file is read (with stand-in paths, so a bad value is refused before
anything runs) and when the step is submitted (with its inputs' real paths). Where its outputs
are in its run is said once too (`output_location`): a built-in job writes `outputs/` itself.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from modelyard.entities import RunSource
from modelyard.entities.names import validate_model_name
from modelyard.entities.pipelines import COMMAND_PARAMETER, Step, StepType
from modelyard.entities.registry import parse_model_reference
from modelyard.entities.validation import refuse_unknown_fields
from modelyard.environments import Environment
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.services import models
from modelyard.services.job_inputs import data_goes_with_the_job
from modelyard.services.jobs import Job, ModuleJob
from modelyard.services.run_files import OUTPUTS_FOLDER
from modelyard.services.workspaces import OpenWorkspace

SETTINGS_PARAMETER: Final = "settings"  # a built-in step's fields, a parameter of its key
MODEL_PREFIXES: Final = ("model:", "azureml:")
# The trainer's fields a step does not set through training_parameters: its inputs and the
# pipeline's own say where the data is, where the job runs and where the outputs go.
_NOT_TRAINING_PARAMETERS: Final = frozenset(
    {"data", "validation_data", "output", "compute_target", "allow_paths_outside_table"}
)
_AUTOML_LIMITS: Final = frozenset({"timeout_minutes", "time_budget_s"})
_IMAGE_TASKS: Final = ("image_classification", "image-classification")
_CONFIG_FILE: Final = "config.json"
# The built-in jobs whose outputs are folders of their own (`outputs/<name>`), not the whole
# of `outputs/`.
_NAMED_OUTPUTS: Final = frozenset({StepType.SPLIT})


@dataclass(frozen=True)
class StepContext:
    """What a built-in step's job is built from: its inputs as local paths (or a model's
    reference), the experiment and compute it runs in, and the name its run shows. A sweep's
    trials may carry its data inputs (`carried`: snapshot path → local copy, as the driver
    decides for a command step), `values` then naming them where each trial's snapshot has them."""

    values: Mapping[str, str]
    experiment: str
    compute: str
    display_name: str
    carried: Mapping[str, Path] = field(default_factory=dict)


def check_settings(step: Step, base: Path) -> None:
    """Refuse, naming the step and the field, a built-in step's settings its job would refuse;
    `base` (a folder that exists) stands in for its data."""
    if step.type is StepType.COMMAND:
        return
    stand_in = {name: str(base) for name in (*step.inputs, "training_data", "data")}
    context = StepContext(stand_in, "check", "local", step.name)
    try:
        _CONFIGS[step.type](step, context)
    except ModelyardError as error:
        raise InvalidValue(
            f"step {step.name!r} ({step.type.value}): {error.message}",
            step=step.name,
            **{k: v for k, v in error.context.items() if k != "step"},
        ) from None


def step_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    """The job a built-in step submits, its config checked as its command would check it."""
    return _JOBS[step.type](ws, step, context)


def key_parameters(step: Step) -> dict[str, str]:
    """What a step's reuse key holds of its definition: a command's (a sweep's trial's)
    command, a built-in job's fields (its inputs' content and its code are hashed apart)."""
    parameters = {}
    if step.type.runs_code:
        parameters[COMMAND_PARAMETER] = shlex.join(step.command)
    if step.type is not StepType.COMMAND:
        settings = json.dumps(dict(step.settings), sort_keys=True, default=str)
        parameters[SETTINGS_PARAMETER] = settings
    return parameters


def code_of(step: Step) -> str | None:
    """The folder whose content a step's key names: a command's code or a sweep's trial; a
    built-in job's code is Modelyard's own (its version is the environment's part)."""
    return step.code if step.type.runs_code else None


def output_artifact(ws: OpenWorkspace, step: Step, run_id: str, output: str) -> tuple[str, str]:
    """The run and the artifact path of output `output` of `step`'s run `run_id`: a command's
    `outputs/<name>`; a built-in job's whole `outputs/` (a sweep's: its best trial's)."""
    if step.type is StepType.COMMAND or step.type in _NAMED_OUTPUTS:
        return run_id, f"{OUTPUTS_FOLDER}/{output}"
    if step.type is StepType.SWEEP:
        return _best_trial(ws, run_id), OUTPUTS_FOLDER
    return run_id, OUTPUTS_FOLDER


def model_reference(value: str) -> str | None:
    """A batch_score step's `model` given as a registered model (`model:NAME@latest`,
    `azureml:NAME:3`): the reference without its prefix; None for a path."""
    for prefix in MODEL_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :].replace("@latest", "")
    return None


def resolve_model(ws: OpenWorkspace, reference: str) -> tuple[Path, str]:
    """A registered model's read-only folder and its `NAME:VERSION`."""
    version = models.get_model_version(ws, parse_model_reference(reference))
    pinned = f"{version.name}:{version.version}"
    return models.model_dir(ws, pinned), pinned


# One function per step type: its job's config from the step's fields --------------------


def _image_classification_config(step: Step, context: StepContext) -> Any:
    from modelyard.vision.config import ImageClassificationConfig

    parameters = _mapping(step.settings.get("training_parameters"), "training_parameters")
    known = {item.name for item in fields(ImageClassificationConfig)} - _NOT_TRAINING_PARAMETERS
    refuse_unknown_fields("training_parameters", parameters, known)
    return ImageClassificationConfig(
        data=context.values["training_data"],
        validation_data=context.values.get("validation_data"),
        compute_target=context.compute,
        **parameters,
    ).validated()


def _image_classification_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    from modelyard.services import training

    config = _image_classification_config(step, context)
    return training.image_classification_job(ws, context.experiment, config, step.name)


def _automl_config(step: Step, context: StepContext) -> Any:
    from modelyard.services.automl import image_config_of
    from modelyard.tabular.config import TASKS, AutoMLConfig

    settings = step.settings
    task = str(settings.get("task"))
    if task not in (*TASKS, *_IMAGE_TASKS):
        raise InvalidValue(
            f"task {task!r} is not an AutoML task: use {', '.join(TASKS)} or image_classification",
            field="task",
        )
    limits = _mapping(settings.get("limits"), "limits")
    refuse_unknown_fields("limits", limits, _AUTOML_LIMITS)
    config = AutoMLConfig(
        task="image-classification" if task in _IMAGE_TASKS else task,
        training_data=context.values["training_data"],
        label_column_name=str(settings.get("target_column_name") or ""),
        primary_metric=settings.get("primary_metric"),
        experiment_timeout_minutes=limits.get("timeout_minutes"),
        time_budget_s=limits.get("time_budget_s"),
        n_cross_validations=settings.get("n_cross_validations"),
        allowed_models=settings.get("allowed_training_algorithms"),
        blocked_models=tuple(settings.get("blocked_training_algorithms") or ()),
        compute_target=context.compute,
    )
    if task in _IMAGE_TASKS:
        return image_config_of(config).validated()
    return config.validated()


def _automl_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    from modelyard.services import automl
    from modelyard.vision.automl_config import ImageAutoMLConfig

    config = _automl_config(step, context)
    if isinstance(config, ImageAutoMLConfig):
        return automl.image_automl_job(ws, context.experiment, config, step.name)
    return automl.automl_job(ws, context.experiment, config, step.name)


def _sweep_config(step: Step, context: StepContext) -> Any:
    from modelyard.entities.sweep import TrialCommand
    from modelyard.services.sweeps.sweep_file import sweep_config_from

    arguments = step.render(context.values, {})
    return sweep_config_from(step.settings, TrialCommand(step.script, arguments), context.compute)


def _sweep_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    from modelyard.services.sweeps.samplers import require_sampling_extra
    from modelyard.services.sweeps.sweep_job import SweepJob, TrialFiles

    config = _sweep_config(step, context)
    require_sampling_extra(config)
    environment = (
        Environment.default()
        if step.environment is None
        else Environment.from_dict(dict(step.environment))
    )
    sweep = SweepJob(
        context.experiment,
        config,
        Path(step.code),
        environment,
        display_name=step.name,
        trial_files=TrialFiles(context.carried, step.trial_outputs),
    )
    sweep.validate()
    return sweep.with_seed().to_module_job()


def _batch_score_config(step: Step, context: StepContext) -> Any:
    from modelyard.serving.batch.config import BatchScoreConfig

    model = context.values["model"]
    settings: dict[str, Any] = {}
    if "mini_batch_size" in step.settings:
        settings["mini_batch_size"] = _whole_number(
            "mini_batch_size", step.settings["mini_batch_size"]
        )
    if "error_threshold" in step.settings:  # YAML reads `10` as a number, `2.5%` as text
        threshold = step.settings["error_threshold"]
        if not isinstance(threshold, str):
            threshold = str(_whole_number("error_threshold", threshold, _THRESHOLD_FORMS))
        settings["error_threshold"] = threshold
    return BatchScoreConfig(model, model, context.values["data"], **settings).validated()


_THRESHOLD_FORMS: Final = "a count of files (10), a share ('2.5%') or -1 (no limit)"


def _whole_number(field: str, value: object, forms: str = "a whole number, as in 10") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidValue(f"{field} is {value!r}: give {forms}", field=field, value=str(value))


def _batch_score_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    from modelyard.services import batch_scoring

    config = _batch_score_config(step, context)
    folder, reference = Path(config.model), f"step {step.name} model"
    named = model_reference(context.values["model"])
    if named is not None:
        folder, reference = resolve_model(ws, named)
    return batch_scoring.batch_score_job(
        ws,
        folder,
        reference,
        Path(config.data),
        context.experiment,
        context.compute,
        config.error_threshold,
        config.mini_batch_size,
        step.name,
    )


def _split_config(step: Step, context: StepContext) -> Any:
    from modelyard.data.split import DEFAULT_TEST_SIZE, SplitConfig

    settings = step.settings
    return SplitConfig(
        context.values["data"],
        test_size=settings.get("test_size", DEFAULT_TEST_SIZE),
        seed=settings.get("seed", 0),
        stratify_column=settings.get("stratify_column"),
    ).validated()


def _split_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    config = _split_config(step, context)
    paths = {"data": Path(config.data)}
    return _module_job(ws, step, context, "split", asdict(config), paths)


def _evaluate_config(step: Step, context: StepContext) -> Any:
    from modelyard.serving.evaluation import EvaluateConfig

    model, label = context.values["model"], step.settings.get("label_column")
    return EvaluateConfig(
        model, model, context.values["data"], None if label is None else str(label)
    ).validated()


def _evaluate_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    config = _evaluate_config(step, context)
    folder, reference = Path(config.model), f"step {step.name} model"
    named = model_reference(context.values["model"])
    if named is not None:
        folder, reference = resolve_model(ws, named)
    values = {**config.to_dict(), "model": str(folder), "model_reference": reference}
    paths = {"model": folder, "data": Path(config.data)}
    return _module_job(ws, step, context, "evaluate", values, paths)


def _register_model_config(step: Step, context: StepContext) -> dict[str, Any]:
    settings = step.settings
    try:
        name = validate_model_name(str(settings.get("model_name") or ""))
    except InvalidValue as error:
        raise InvalidValue(f"model_name: {error.message}", field="model_name") from None
    tags = {str(k): str(v) for k, v in _mapping(settings.get("tags"), "tags").items()}
    description = settings.get("description")
    return {
        "model": context.values["model"],
        "model_name": name,
        "description": None if description is None else str(description),
        "tags": tags,
    }


def _register_model_job(ws: OpenWorkspace, step: Step, context: StepContext) -> Job:
    config = _register_model_config(step, context)
    return _module_job(
        ws, step, context, "register_model", config, {"model": Path(config["model"])}
    )


def _module_job(
    ws: OpenWorkspace,
    step: Step,
    context: StepContext,
    job: str,
    config: Mapping[str, Any],
    paths: Mapping[str, Path],
) -> ModuleJob:
    """The job `python -m modelyard.builtin_jobs.<job> --config config.json`; its `paths`
    (config keys) go in its snapshot when it runs where this disk is not."""
    config = dict(config)
    files: dict[str, bytes] = {}
    folders: dict[str, Path] = {}
    if data_goes_with_the_job(ws, context.compute):
        for key, path in paths.items():
            if path.is_file():
                files[f"{key}/{path.name}"] = path.read_bytes()
                config[key] = f"{key}/{path.name}"
            else:
                folders[key] = path
                config[key] = key
    files[_CONFIG_FILE] = json.dumps(config, indent=2, sort_keys=True, default=str).encode()
    kind = step.type.kind
    assert kind is not None
    arguments = tuple(f"--{key}={value}" for key, value in sorted(paths.items()))
    return ModuleJob(
        experiment=context.experiment,
        module=f"modelyard.builtin_jobs.{job}",
        arguments=("--config", _CONFIG_FILE),
        files=files,
        folders=folders,
        compute_target=context.compute,
        display_name=context.display_name,
        source=RunSource(script=kind.title, arguments=arguments),
    )


_CONFIGS: Final[Mapping[StepType, Callable[[Step, StepContext], Any]]] = {
    StepType.IMAGE_CLASSIFICATION: _image_classification_config,
    StepType.AUTOML: _automl_config,
    StepType.SWEEP: _sweep_config,
    StepType.BATCH_SCORE: _batch_score_config,
    StepType.SPLIT: _split_config,
    StepType.EVALUATE: _evaluate_config,
    StepType.REGISTER_MODEL: _register_model_config,
}
_JOBS: Final[Mapping[StepType, Callable[[OpenWorkspace, Step, StepContext], Job]]] = {
    StepType.IMAGE_CLASSIFICATION: _image_classification_job,
    StepType.AUTOML: _automl_job,
    StepType.SWEEP: _sweep_job,
    StepType.BATCH_SCORE: _batch_score_job,
    StepType.SPLIT: _split_job,
    StepType.EVALUATE: _evaluate_job,
    StepType.REGISTER_MODEL: _register_model_job,
}


def _best_trial(ws: OpenWorkspace, run_id: str) -> str:
    from modelyard.services.sweeps.leaderboard import BEST_TRIAL_TAG

    best = ws.store.get_run_data(run_id).tags.get(BEST_TRIAL_TAG)
    if best is None:
        raise NotFound(
            f"sweep run {run_id} has no best trial (none completed with its primary metric):"
            " its best_trial output is empty",
            run_id=run_id,
        )
    return best


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{where} is {value!r}: write a mapping", field=where)
    return value
