"""What each kind of pipeline step takes and gives, beyond `command`: the built-in jobs
(image classification training, AutoML, a sweep, batch scoring, a train/test split, an
evaluation, a model's registration) as Azure ML v2's pipeline nodes, each with fixed typed
ports and the fields of its own config.

A model is a port type of its own (`custom_model`, Azure's name): a folder, so a command's
`uri_folder` input may read one, but a step that takes a model refuses a plain folder of data.

A command step declares its own ports; a built-in step's ports are its job's: its inputs are
named here (a required one missing is refused), and its outputs are fixed folders of its run
(declaring one only binds it to a pipeline output or names the data asset it is registered
as). `Pipeline.check()` reads this table, so a wrong binding is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from modelyard.errors import InvalidValue


class PortType(StrEnum):
    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CUSTOM_MODEL = "custom_model"  # a model's folder

    @property
    def is_data(self) -> bool:
        return self in (PortType.URI_FOLDER, PortType.URI_FILE, PortType.CUSTOM_MODEL)

    @property
    def is_folder(self) -> bool:
        return self in (PortType.URI_FOLDER, PortType.CUSTOM_MODEL)

    def accepts(self, source: PortType) -> bool:
        """A port of this type may be fed from `source`: an integer is a number too, and a
        model is a folder (not the other way round: a folder of data is no model)."""
        return (
            source is self
            or (self is PortType.NUMBER and source is PortType.INTEGER)
            or (self is PortType.URI_FOLDER and source is PortType.CUSTOM_MODEL)
        )

    @classmethod
    def parse(cls, value: object, where: str) -> PortType:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidValue(
                f"{where} has type {value!r}: use one of {', '.join(t.value for t in cls)}",
                type=str(value),
            ) from None

    @classmethod
    def of_literal(cls, value: object) -> PortType:
        if isinstance(value, bool):
            return cls.BOOLEAN
        if isinstance(value, int):
            return cls.INTEGER
        if isinstance(value, float):
            return cls.NUMBER
        return cls.STRING


@dataclass(frozen=True)
class InputSpec:
    types: frozenset[PortType]
    required: bool = True

    def describe(self) -> str:
        return " or ".join(sorted(kind.value for kind in self.types))

    def accepts(self, source: PortType) -> bool:
        return any(kind.accepts(source) for kind in self.types)


@dataclass(frozen=True)
class StepKind:
    """A built-in step: its job's inputs, its outputs, and its fields besides the common ones
    (type, compute, inputs, outputs, force_rerun, description)."""

    title: str  # what its runs' source shows
    inputs: Mapping[str, InputSpec]
    outputs: Mapping[str, PortType]
    fields: frozenset[str]
    required_fields: frozenset[str] = field(default_factory=frozenset)
    runs_code: bool = False  # a sweep's trial: `code`, `command` and `environment` as a command's


_DATA: Final = frozenset({PortType.URI_FOLDER, PortType.URI_FILE})
_FOLDER: Final = frozenset({PortType.URI_FOLDER})
# A model is an upstream step's model output or a registered model's reference.
_MODEL: Final = frozenset({PortType.CUSTOM_MODEL, PortType.STRING})

# What each of the later kinds does, in one sentence, for a palette to show.
SPLIT_DESCRIPTION: Final = (
    "Splits a table (a CSV file, or a folder of one) or a folder of images in a folder per"
    " label into train and test folders of the same layout, the same for the same seed."
)
EVALUATE_DESCRIPTION: Final = (
    "Scores labeled test data (images in a folder per label, or a table with its label column)"
    " with a model and logs its metrics (accuracy and macro F1, or R² and RMSE) on its run."
)
REGISTER_MODEL_DESCRIPTION: Final = (
    "Registers a model folder as the next version of a registered model, with the step's run"
    " as its lineage."
)
BUILTIN_STEP_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "split": SPLIT_DESCRIPTION,
    "evaluate": EVALUATE_DESCRIPTION,
    "register_model": REGISTER_MODEL_DESCRIPTION,
}

BUILTIN_STEP_KINDS: Final[Mapping[str, StepKind]] = {
    "image_classification": StepKind(
        title="image classification (built-in)",
        # Azure's validation_data: images to validate on, instead of a held-out share.
        inputs={"training_data": InputSpec(_DATA), "validation_data": InputSpec(_DATA, False)},
        outputs={"model": PortType.CUSTOM_MODEL},
        fields=frozenset({"training_parameters"}),
    ),
    "automl": StepKind(
        title="AutoML (built-in)",
        inputs={"training_data": InputSpec(_DATA)},
        outputs={"best_model": PortType.CUSTOM_MODEL},
        fields=frozenset(
            {
                "task",
                "target_column_name",
                "primary_metric",
                "limits",
                "n_cross_validations",
                "allowed_training_algorithms",
                "blocked_training_algorithms",
            }
        ),
        required_fields=frozenset({"task"}),
    ),
    "sweep": StepKind(
        title="sweep (built-in)",
        inputs={},  # the trial's command names its own, as a command step's does
        outputs={"best_trial": PortType.URI_FOLDER},
        fields=frozenset(
            {
                "trial",
                "search_space",
                "sampling_algorithm",
                "objective",
                "limits",
                "early_termination",
            }
        ),
        required_fields=frozenset({"trial", "search_space", "objective"}),
        runs_code=True,
    ),
    "batch_score": StepKind(
        title="batch scoring (built-in)",
        inputs={"model": InputSpec(_MODEL), "data": InputSpec(_FOLDER)},
        outputs={"scores": PortType.URI_FOLDER},
        fields=frozenset({"mini_batch_size", "error_threshold"}),
    ),
    "split": StepKind(
        title="train/test split (built-in)",
        inputs={"data": InputSpec(_DATA)},
        outputs={"train": PortType.URI_FOLDER, "test": PortType.URI_FOLDER},
        fields=frozenset({"test_size", "seed", "stratify_column"}),
    ),
    "evaluate": StepKind(
        title="model evaluation (built-in)",
        inputs={"model": InputSpec(_MODEL), "data": InputSpec(_DATA)},
        outputs={"metrics": PortType.URI_FOLDER},
        fields=frozenset({"label_column"}),
    ),
    "register_model": StepKind(
        title="model registration (built-in)",
        inputs={"model": InputSpec(frozenset({PortType.CUSTOM_MODEL}))},
        outputs={},
        fields=frozenset({"model_name", "description", "tags"}),
        required_fields=frozenset({"model_name"}),
    ),
}


# What the designer's palette shows of each kind and field (`services/pipelines/
# designer_palette.py`). Kept beside the table above, not in it: a kind or field missing here
# is still offered, titled by its `StepKind.title` and taken as text.


@dataclass(frozen=True)
class FieldInfo:
    """A step field as a form shows it: its JSON kind (string, number, integer, boolean,
    mapping, list; or component: a registered component's reference, picked from the
    palette's components), what it does, and its default (None: none, or the job's own)."""

    kind: str
    description: str
    default: object = None


STEP_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "command": "Runs a script (a registered component's, from the designer) with its inputs.",
    "image_classification": "Trains an image classifier on a folder of images, one subfolder"
    " per class.",
    "automl": "Tries models and their settings on a table (or images) and keeps the best.",
    "sweep": "Runs a component's trials over a search space of its inputs and keeps the best"
    " trial.",
    "batch_score": "Scores a folder of files with a model, in mini-batches.",
    "split": "Splits a table into a training part and a test part.",
    "evaluate": "Scores a model on labelled data and writes its metrics.",
    "register_model": "Registers a model in the workspace's model registry.",
}

STEP_FIELD_INFO: Final[Mapping[str, FieldInfo]] = {
    # Every step's
    "compute": FieldInfo("string", "the compute it runs on (default: the pipeline's)"),
    "force_rerun": FieldInfo("boolean", "never reuse an earlier run of this step", False),
    "description": FieldInfo("string", "what the step does"),
    # A command's
    "component": FieldInfo("string", "the registered component it runs: NAME:VERSION"),
    "command": FieldInfo("string", "python SCRIPT ARGS…, with ${{inputs.x}}/${{outputs.y}}"),
    "code": FieldInfo("string", "the folder holding the script (a file's only)", "."),
    "environment": FieldInfo("mapping", "its Python environment: {name, pip_requirements}"),
    # Built-in jobs'
    "training_parameters": FieldInfo(
        "mapping", "the trainer's settings: backbone, epochs, learning_rate…"
    ),
    "task": FieldInfo("string", "classification, regression or image_classification"),
    "target_column_name": FieldInfo("string", "the column to predict"),
    "primary_metric": FieldInfo("string", "the metric that ranks the models", "accuracy"),
    "limits": FieldInfo("mapping", "how long or how many trials: timeout_minutes…"),
    "n_cross_validations": FieldInfo("integer", "folds of cross-validation"),
    "allowed_training_algorithms": FieldInfo("list", "only these algorithms"),
    "blocked_training_algorithms": FieldInfo("list", "never these algorithms"),
    "trial": FieldInfo(
        "component", "the registered component each trial runs; its inputs are searched or bound"
    ),
    "search_space": FieldInfo("mapping", "each searched input's distribution"),
    "sampling_algorithm": FieldInfo("string", "random, grid or bayesian", "random"),
    "objective": FieldInfo("mapping", "{primary_metric, goal: maximize|minimize}"),
    "early_termination": FieldInfo("mapping", "a policy that stops poor trials early"),
    "mini_batch_size": FieldInfo("integer", "files scored per call"),
    "test_size": FieldInfo("number", "the share of rows held out for testing", 0.2),
    "seed": FieldInfo("integer", "the random seed of the split", 0),
    "stratify_column": FieldInfo("string", "keep this column's classes in proportion"),
    "label_column": FieldInfo("string", "the column holding the true labels"),
    "model_name": FieldInfo("string", "the registered model's name"),
    "tags": FieldInfo("mapping", "the model version's tags"),
    "error_threshold": FieldInfo(
        "string", "failed files tolerated: a count (10), a share (2.5%) or -1 (any)"
    ),
}
