"""`AutoMLConfig`: an AutoML-for-tables job's settings, in Azure AutoML's words.

As a scikit-learn estimator, the constructor only stores its arguments; `validated()` checks
them when the work starts (the CLI and the SDK call it before any run exists).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from modelyard.errors import InvalidValue

CLASSIFICATION: Final = "classification"
REGRESSION: Final = "regression"
TASKS: Final = (CLASSIFICATION, REGRESSION)
DEFAULT_TIME_BUDGET_S: Final = 600.0
MIN_SECONDS_PER_FAMILY: Final = 1.0  # less: FLAML cannot finish one trial of a family
VALIDATIONS: Final = ("auto", "cv", "holdout")


@dataclass(frozen=True)
class PrimaryMetric:
    name: str  # Azure's
    flaml_metric: str
    higher_is_better: bool
    sklearn_scorer: str  # the same measure as scikit-learn names it (permutation importance)
    flaml_multiclass_metric: str | None = None  # where FLAML names it apart for 3+ classes

    def flaml_metric_for(self, classes: int) -> str:
        if classes > 2 and self.flaml_multiclass_metric:
            return self.flaml_multiclass_metric
        return self.flaml_metric

    def value_of_loss(self, loss: float) -> float:
        """FLAML minimises a loss: 1 - score for the scores, the error itself otherwise."""
        return 1.0 - loss if self.higher_is_better else loss


PRIMARY_METRICS: Final[Mapping[str, Mapping[str, PrimaryMetric]]] = {
    CLASSIFICATION: {
        m.name: m
        for m in (
            PrimaryMetric("accuracy", "accuracy", True, "accuracy"),
            PrimaryMetric(
                "AUC_weighted", "roc_auc", True, "roc_auc_ovr_weighted", "roc_auc_ovr_weighted"
            ),
            PrimaryMetric("f1_score_macro", "macro_f1", True, "f1_macro"),
            PrimaryMetric("log_loss", "log_loss", False, "neg_log_loss"),
        )
    },
    REGRESSION: {
        m.name: m
        for m in (
            PrimaryMetric("r2_score", "r2", True, "r2"),
            PrimaryMetric("root_mean_squared_error", "rmse", False, "neg_root_mean_squared_error"),
            PrimaryMetric("mean_absolute_error", "mae", False, "neg_mean_absolute_error"),
        )
    },
}
DEFAULT_METRICS: Final = {CLASSIFICATION: "accuracy", REGRESSION: "r2_score"}

# Candidate families: Azure's names → FLAML's estimator, per task.
MODEL_FAMILIES: Final[Mapping[str, Mapping[str, str]]] = {
    CLASSIFICATION: {
        "LightGBM": "lgbm",
        "XGBoostClassifier": "xgboost",
        "RandomForest": "rf",
        "ExtremeRandomTrees": "extra_tree",
        "LogisticRegression": "lrl2",
        "KNN": "kneighbor",
    },
    REGRESSION: {
        "LightGBM": "lgbm",
        "XGBoostRegressor": "xgboost",
        "RandomForest": "rf",
        "ExtremeRandomTrees": "extra_tree",
        "ElasticNet": "enet",
        "KNN": "kneighbor",
    },
}


@dataclass(frozen=True)
class AutoMLConfig:
    """Azure's `AutoMLConfig` (task, training_data, label_column_name, primary_metric,
    experiment_timeout_minutes, n_cross_validations, allowed_models, blocked_models), plus the
    CLI's `time_budget_s` and `validation`, and the compute it runs on. Task
    image-classification (a folder of images, its backbones as the models) is submitted as
    AutoML for images (`services.automl.image_config_of`)."""

    task: str
    training_data: str
    label_column_name: str = ""  # required for tables; task image-classification has none
    primary_metric: str | None = None
    experiment_timeout_minutes: float | None = None
    time_budget_s: float | None = None
    n_cross_validations: int | None = None
    validation: str = "auto"
    allowed_models: Sequence[str] | None = None
    blocked_models: Sequence[str] = field(default_factory=tuple)
    compute_target: str = "local"

    @property
    def budget_s(self) -> float:
        if self.time_budget_s is not None:
            return float(self.time_budget_s)
        if self.experiment_timeout_minutes is not None:
            return float(self.experiment_timeout_minutes) * 60
        return DEFAULT_TIME_BUDGET_S

    @property
    def metric(self) -> PrimaryMetric:
        return PRIMARY_METRICS[self.task][self.primary_metric or DEFAULT_METRICS[self.task]]

    @property
    def families(self) -> dict[str, str]:
        """The candidate families to search, Azure's name → FLAML's estimator, in order."""
        table = MODEL_FAMILIES[self.task]
        allowed = [_family_name(self.task, n) for n in self.allowed_models or table]
        blocked = {_family_name(self.task, n) for n in self.blocked_models}
        return {name: table[name] for name in allowed if name not in blocked}

    def validated(self) -> AutoMLConfig:
        """The config with its data path made absolute; InvalidValue names the bad value."""
        if self.task not in TASKS:
            raise InvalidValue(
                f"--task {self.task!r} is not an AutoML task: choose classification, regression"
                " or image-classification",
                task=self.task,
            )
        _one_of("--primary-metric", self.primary_metric, PRIMARY_METRICS[self.task])
        _one_of("--validation", self.validation, VALIDATIONS)
        if not self.label_column_name:
            raise InvalidValue("--label is empty: name the column to predict")
        self._check_budget()
        if self.n_cross_validations is not None and self.validation == "holdout":
            raise InvalidValue(
                f"n_cross_validations {self.n_cross_validations} with --validation holdout:"
                " give one of the two"
            )
        return replace(
            self,
            training_data=str(Path(self.training_data).expanduser().absolute()),
            allowed_models=None if self.allowed_models is None else tuple(self.allowed_models),
            blocked_models=tuple(self.blocked_models),
        )

    def _check_budget(self) -> None:
        families = self.families
        if not families:
            raise InvalidValue(
                "--allowed-models and --blocked-models leave no model to try: allow at least one"
                f" of {', '.join(MODEL_FAMILIES[self.task])}"
            )
        needed = MIN_SECONDS_PER_FAMILY * len(families)
        if self.budget_s < needed:
            raise InvalidValue(
                f"--time-budget {self.budget_s:g} s is too small for one trial of each of the"
                f" {len(families)} model families: give at least {needed:g} s, or fewer"
                " --allowed-models",
                time_budget_s=self.budget_s,
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("allowed_models", "blocked_models"):
            data[key] = None if data[key] is None else list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AutoMLConfig:
        return cls(**dict(data))


def _family_name(task: str, name: str) -> str:
    table = MODEL_FAMILIES[task]
    by_folded = {key.lower(): key for key in table}
    by_folded.update({"xgboost": next(k for k in table if k.startswith("XGBoost"))})
    found = by_folded.get(name.lower())
    if found is None:
        close = difflib.get_close_matches(name, list(table), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidValue(
            f"model {name!r} is not a {task} candidate: {hint}choose from {', '.join(table)}",
            model=name,
        )
    return found


def _one_of(flag: str, value: str | None, choices: Sequence[str] | Mapping[str, Any]) -> None:
    if value is not None and value not in choices:
        raise InvalidValue(
            f"{flag} {value!r} is not one of {', '.join(choices)}: choose one of them",
            value=value,
        )
