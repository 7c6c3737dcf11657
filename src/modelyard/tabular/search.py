"""FLAML's search, one candidate family at a time, each family's trials read back from
FLAML's log (one JSON line per trial) so that they can be recorded as a child run, and its best
trial's out-of-fold predictions kept (`folds.BestTrialFolds`) on the folds every family shares."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelyard.tabular.config import AutoMLConfig
from modelyard.tabular.folds import BestTrialFolds, OutOfFold, Scoring, splitter
from modelyard.tabular.validation import Validation


@dataclass(frozen=True)
class Trial:
    loss: float
    seconds: float
    config: dict[str, Any]


@dataclass
class FamilyResult:
    family: str  # Azure's name
    estimator: str  # FLAML's
    trials: list[Trial] = field(default_factory=list)
    best_loss: float | None = None
    model: Any = None  # the fitted estimator (scikit-learn's interface), None without a trial
    out_of_fold: OutOfFold | None = None  # the best trial's predictions on the shared folds

    @property
    def best_trial_s(self) -> float:
        """The best trial's seconds: its cross-validation, or its fit and holdout scoring."""
        return min(self.trials, key=lambda trial: trial.loss).seconds if self.trials else 0.0


def search_family(
    config: AutoMLConfig,
    family: str,
    features: np.ndarray,
    label: np.ndarray,
    validation: Validation,
    budget_s: float,
    log_file: Path,
    scoring: Scoring,
    holdout: tuple[np.ndarray, np.ndarray] | None = None,
) -> FamilyResult:
    """Search `family` for `budget_s` seconds. For a holdout, `holdout` is the validation rows
    and the model is fitted on the training rows only (they stay unseen for the parity and
    importance checks); under cross-validation it is refitted on every row."""
    from flaml import AutoML

    estimator = config.families[family]
    automl = AutoML()
    folds = BestTrialFolds(scoring, holdout=validation.method != "cv")
    settings: dict[str, Any] = {
        "task": config.task,
        "estimator_list": [estimator],
        "time_budget": budget_s,
        "metric": folds.metric,  # FLAML's own measure, scored by us to keep the predictions
        "log_file_name": str(log_file),
        "log_type": "all",  # every trial is a point of the family's child run, not only records
        "seed": 0,
        "verbose": 0,
        # The CPUs this job was given (a sized compute pins it), not the machine's count.
        "n_jobs": len(os.sched_getaffinity(0)),
    }
    if validation.method == "cv":
        # Our splitter, not FLAML's: FLAML would shuffle the rows and duplicate rare classes
        # first, and the ensemble and the selection could not read the same folds.
        settings |= {"eval_method": "cv", "split_type": splitter(validation, config.task)}
        settings |= {"cv_score_agg_func": folds.aggregate}
    else:
        assert holdout is not None
        settings |= {"eval_method": "holdout", "X_val": holdout[0], "y_val": holdout[1]}
        settings |= {"retrain_full": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(features, label, **settings)
    return _result(family, estimator, automl, log_file, folds.best)


def _result(
    family: str, estimator: str, automl: Any, log_file: Path, out_of_fold: OutOfFold | None
) -> FamilyResult:
    trials = read_trials(log_file)
    result = FamilyResult(family, estimator, trials)
    if automl.model is None or not trials:
        return result
    result.best_loss = float(automl.best_loss)
    result.model = automl.model.estimator
    result.out_of_fold = out_of_fold
    return result


def read_trials(log_file: Path) -> list[Trial]:
    """FLAML's log: a line per trial, then a line naming the best one (no loss: skipped)."""
    if not log_file.is_file():
        return []
    trials = []
    for line in log_file.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if "validation_loss" in record:
            trials.append(
                Trial(
                    float(record["validation_loss"]),
                    float(record.get("trial_time", 0.0)),
                    dict(record.get("config", {})),
                )
            )
    return trials


def searched_seconds(log_file: Path) -> float:
    """The seconds a finished search spent in its trials (FLAML's `trial_time`): what an
    earlier attempt took of the budget."""
    return sum(trial.seconds for trial in read_trials(log_file))


def refit_from_log(
    config: AutoMLConfig, log_file: Path, features: np.ndarray, label: np.ndarray
) -> Any:
    """The best model of a family searched earlier, refitted from its FLAML log (FLAML can't
    resume a search: this is how a resumed run gets a finished family's model back)."""
    from flaml import AutoML

    automl = AutoML()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.retrain_from_log(
            log_file_name=str(log_file),
            X_train=features,
            y_train=label,
            task=config.task,
            train_full=True,
        )
    return automl.model.estimator
