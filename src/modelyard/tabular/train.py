"""The AutoML-for-tables job, in order:

1. read the table, find the label, run the guardrails (`outputs/guardrails.json`; a Failed
   check stops here, before any fitting);
2. choose the validation (Azure's rule) and fit the featurization;
3. FLAML's search for each candidate family under its share of the time budget (`budget.py`:
   the quickest families first, the steps after the searches kept inside the budget), each
   family a child run with a point per trial, on folds every family shares (`folds.py`); then a
   voting ensemble of the best families, scored on their out-of-fold predictions;
4. the leaderboard (`leaderboard.json`) and the model to export, by the one-standard-error
   rule (`selection.py`; its score is the parent run's primary metric);
5. that pipeline as `bestModel.onnx` with its schema, a parity check against ONNX Runtime
   (`onnx_parity.json`) and permutation feature importance (`feature_importance.json`).

The outputs are built in a staging folder and moved into `./outputs` only at the end, so a
failed run leaves its guardrails report and logs, never half a model. Resuming: a family whose
child run completed in an earlier attempt is not searched again; its best model is refitted
from the FLAML log kept in the run's checkpoint folder.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from modelyard.environments.isolated_python import isolated_python
from modelyard.errors import GuardrailFailed, JobFailed
from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.tabular import ensemble
from modelyard.tabular.budget import (
    FINAL_FIXED_S,
    Allotment,
    BudgetClock,
    reserve_s,
    search_order,
)
from modelyard.tabular.codegen import (
    expected_answer,
    generate_starter,
    parsed_answer,
    project_name,
    sample_row,
)
from modelyard.tabular.config import CLASSIFICATION, AutoMLConfig, PrimaryMetric
from modelyard.tabular.export import check_parity, export_onnx, onnx_feeds, pipeline_of
from modelyard.tabular.featurize import (
    FeatureColumn,
    build_featurizer,
    feature_columns,
    model_frame,
)
from modelyard.tabular.folds import Scoring, refitted_folds
from modelyard.tabular.guardrails import (
    GUARDRAILS_FILE,
    CheckedTable,
    CheckStatus,
    check_table,
    write_report,
)
from modelyard.tabular.importance import IMPORTANCE_FILE, permutation_importance_of
from modelyard.tabular.search import (
    FamilyResult,
    read_trials,
    refit_from_log,
    search_family,
    searched_seconds,
)
from modelyard.tabular.selection import Selection, select
from modelyard.tabular.table import check_label_column, read_table
from modelyard.tabular.validation import Validation, choose_validation

MODEL_FILE: Final = "bestModel.onnx"
SCHEMA_FILE: Final = "bestModelSchema.json"
LEADERBOARD_FILE: Final = "leaderboard.json"
PARITY_FILE: Final = "onnx_parity.json"
FAMILY_TAG: Final = "automl_family"
STAGING: Final = ".automl-staging"


class AutoMLTrainer:
    def __init__(
        self,
        config: AutoMLConfig,
        run: Any,
        checkpoint_dir: Path,
        outputs: Path = Path("outputs"),
        started: float | None = None,
    ) -> None:
        """`started`: when the budget's clock started (`time.monotonic()`; default now)."""
        self.config = config
        self.run = run  # the job's sdk Run: metrics, params, child runs
        self.checkpoint_dir = checkpoint_dir
        # Absolute: the starter check runs generated code from another working folder.
        self.outputs = outputs.absolute()
        self.clock = BudgetClock(config.budget_s, started)
        self.allotments: list[Allotment] = []
        self.searches_ended = 0.0  # the clock when the last search ended

    def train(self) -> None:
        table = self._checked_table()
        columns = feature_columns(table.features)
        frame = model_frame(table.features, columns)
        label, classes = _encoded_label(table)
        validation = self._validation(table)
        split = _split(frame, label, validation, self.config.task)
        featurizer = build_featurizer(columns).fit(split.train_frame)
        data = _Data(split, featurizer, validation, self._scoring(classes))
        results = self._search_every_family(data)
        self.searches_ended = self.clock.elapsed_s()
        leaderboard, selection = self._leaderboard(results, data)
        staging = self._staging()
        best = self._write_model(staging, featurizer, columns, classes, split, leaderboard)
        self._publish(staging, leaderboard, best, selection)

    def _scoring(self, classes: list[str]) -> Scoring:
        metric = self.config.metric.flaml_metric_for(len(classes))
        labels = np.arange(len(classes)) if self.config.task == CLASSIFICATION else None
        return Scoring(metric, self.config.task, labels)

    # 1. the table ----------------------------------------------------------------------------

    def _checked_table(self) -> CheckedTable:
        config = self.config
        frame = read_table(Path(config.training_data))
        check_label_column(frame, config.label_column_name)
        table = check_table(frame, config.label_column_name, config.task)
        self.outputs.mkdir(exist_ok=True)
        write_report(table, self.outputs / GUARDRAILS_FILE)
        _say(table.summary_line())
        for check in table.checks:
            _say(f"  {check.status.value:<8} {check.name:<20} {check.detail}")
        if not table.passed:
            failed = sum(c.status is CheckStatus.FAILED for c in table.checks)
            raise GuardrailFailed(table.summary_line(), errors=failed)
        return table

    def _validation(self, table: CheckedTable) -> Validation:
        smallest = (
            int(table.label.value_counts().min()) if self.config.task == CLASSIFICATION else None
        )
        validation = choose_validation(
            len(table.label), self.config.validation, self.config.n_cross_validations, smallest
        )
        note = f" ({validation.note})" if validation.note else ""
        _say(f"validation: {validation.describe()}{note}")
        self.run.log_params(
            {
                "task": self.config.task,
                "label": self.config.label_column_name,
                "primary_metric": self.config.metric.name,
                "goal": "maximize" if self.config.metric.higher_is_better else "minimize",
                "time_budget_s": self.config.budget_s,
                "validation": validation.describe(),
                "rows": len(table.label),
                "features": table.features.shape[1],
            }
        )
        return validation

    # 3. the search ---------------------------------------------------------------------------

    def _search_every_family(self, data: _Data) -> list[FamilyResult]:
        families = search_order(self.config.families)
        done = self._completed_families()
        if done:
            # A resumed run searches for what is left of the budget, not the whole of it again.
            self.clock.spent_before = sum(searched_seconds(self._log_file(f)) for f in done)
            _say(
                f"{len(done)} of {len(families)} families searched by earlier attempts in"
                f" {self.clock.spent_before:.1f} s:"
                f" {max(0.0, self.clock.seconds_left()):.1f} s of the"
                f" {self.config.budget_s:g} s budget left"
            )
        results = [self._refitted(family, data) for family in families if family in done]
        to_search = [family for family in families if family not in done]
        for index, family in enumerate(to_search):
            folds = data.validation.folds
            reserve = reserve_s(self.config.budget_s, results, folds, self.allotments)
            allotment = self.clock.allot(family, len(to_search) - index, reserve)
            started = time.monotonic()
            results.append(self._searched(family, data, allotment))
            searched = time.monotonic() - started
            self.allotments.append(replace(allotment, searched_s=searched))
        return results

    def _completed_families(self) -> set[str]:
        """Families an earlier attempt of this run searched to the end (its child completed,
        its log kept): their search is not repeated."""
        done = set()
        for child in self.run.get_children():
            family = child.get_tags().get(FAMILY_TAG)
            if family and child.get_status() == "Completed" and self._log_file(family).exists():
                done.add(family)
        return done

    def _log_file(self, family: str) -> Path:
        return self.checkpoint_dir / f"flaml-{family}.log"

    def _searched(self, family: str, data: _Data, allotment: Allotment) -> FamilyResult:
        budget_s = allotment.allotted_s
        _say(
            f"{family}: {budget_s:.1f} s of the {allotment.left_s:.1f} s left for the searches"
            f" ({allotment.reserve_s:.1f} s kept for the steps after them)"
        )
        child = self.run.child_run(name=family)
        child.set_tags({FAMILY_TAG: family, "automl_estimator": self.config.families[family]})
        child.log_params(
            {"budget_s": round(budget_s, 3), "reserve_s": round(allotment.reserve_s, 3)}
        )
        partial = self.checkpoint_dir / f".flaml-{family}.log.partial"
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        try:
            result = search_family(
                self.config,
                family,
                data.train_features,
                data.split.train_label,
                data.validation,
                budget_s,
                partial,
                data.scoring,
                data.holdout,
            )
        except BaseException as error:  # the child must not end Completed at the job's exit
            child.fail(f"the {family} search stopped: {type(error).__name__}: {error}"[:500])
            raise
        self._log_trials(child, result)
        if result.model is None:
            child.fail(f"no {family} trial finished within {budget_s:.1f} s")
            return result
        partial.replace(self._log_file(family))  # the family is done: a resumed run skips it
        child.complete()
        return result

    def _refitted(self, family: str, data: _Data) -> FamilyResult:
        log_file = self._log_file(family)
        trials = read_trials(log_file)
        model = refit_from_log(self.config, log_file, data.train_features, data.split.train_label)
        _say(f"{family}: searched by an earlier attempt ({len(trials)} trials), refitted")
        best = min(trial.loss for trial in trials)
        out_of_fold = refitted_folds(
            model,
            data.train_features,
            data.split.train_label,
            data.validation,
            data.scoring,
            data.holdout,
        )
        return FamilyResult(family, self.config.families[family], trials, best, model, out_of_fold)

    def _log_trials(self, child: Any, result: FamilyResult) -> None:
        metric = self.config.metric
        for step, trial in enumerate(result.trials):
            child.log(metric.name, metric.value_of_loss(trial.loss), step=step)
        if result.best_loss is not None:
            child.log(f"best_{metric.name}", metric.value_of_loss(result.best_loss), step=0)
        child.log("trials", len(result.trials), step=0)
        best = (
            "no trial"
            if result.best_loss is None
            else f"{metric.value_of_loss(result.best_loss):.4f}"
        )
        _say(f"{result.family}: {len(result.trials)} trials, best {metric.name} {best}")

    # 4. the leaderboard ----------------------------------------------------------------------

    def _leaderboard(
        self, results: Sequence[FamilyResult], data: _Data
    ) -> tuple[list[dict[str, Any]], Selection]:
        metric = self.config.metric
        entries = [
            {
                "model": r.model,
                "family": r.family,
                "estimator": r.estimator,
                "trials": len(r.trials),
                metric.name: metric.value_of_loss(r.best_loss),
                "out_of_fold": r.out_of_fold,
            }
            for r in results
            if r.model is not None and r.best_loss is not None
        ]
        if not entries:
            raise JobFailed(
                f"the time budget ({self.config.budget_s:g} s) was too small for one trial of"
                f" any model family: give a larger --time-budget (or fewer --allowed-models)",
            )
        entries += ensemble.voting_entry(entries, self.config, data.scoring)
        entries.sort(key=lambda e: e[metric.name], reverse=metric.higher_is_better)
        selection = select(entries, metric, data.scoring)
        self.run.log("trials", float(sum(e["trials"] for e in entries)), step=0)
        _say(selection.describe(metric))
        # The chosen model first; the others, best first, in case its ONNX fails parity.
        entries.sort(key=lambda e: e["family"] != selection.chosen)
        return entries, selection

    # 5. the model ----------------------------------------------------------------------------

    def _staging(self) -> Path:
        staging = self.outputs.parent / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        return staging

    def _write_model(
        self,
        staging: Path,
        featurizer: Any,
        columns: Sequence[FeatureColumn],
        classes: list[str],
        split: _Split,
        leaderboard: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Export the best model whose ONNX agrees with it; the entry chosen."""
        best, pipeline, onnx_bytes = self._exported(featurizer, columns, split, leaderboard)
        write_bytes_atomic(staging / MODEL_FILE, onnx_bytes)
        write_json_atomic(staging / SCHEMA_FILE, self._schema(columns, classes, best))
        importance = permutation_importance_of(
            pipeline,
            split.check_frame,
            split.check_label,
            columns,
            self.config.metric,
            seconds=self.clock.seconds_left() - FINAL_FIXED_S,
        )
        importance["rows_from"] = split.check_rows_from
        _say(f"importance: {importance['repeats']} repeats on {importance['rows']} rows")
        write_json_atomic(staging / IMPORTANCE_FILE, importance)
        for rank, item in enumerate(importance["features"]):
            self.run.log("feature_importance", float(item["importance"]), step=rank)
        write_json_atomic(staging / PARITY_FILE, self.parity_report)
        self._write_starter(staging, columns, classes, split, onnx_bytes)
        return best

    def _write_starter(
        self,
        staging: Path,
        columns: Sequence[FeatureColumn],
        classes: list[str],
        split: _Split,
        onnx_bytes: bytes,
    ) -> None:
        """Model Builder's two projects, the ConsoleApp run once in a clean interpreter with
        onnxruntime and NumPy only, as the image path does: its answer must be ONNX's."""
        import onnxruntime

        name = project_name(Path(self.config.training_data))
        sample = sample_row(split.check_frame, columns)
        model_dir, console_dir = generate_starter(staging, name, staging, columns, sample)
        session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
        feeds = onnx_feeds(split.check_frame.head(1), columns)
        expected = expected_answer(session.run(None, feeds), self.config.task, classes)
        with isolated_python(model_dir / "requirements.txt") as python:
            result = python.run([str(console_dir / "main.py")], cwd=console_dir)
        if result.returncode != 0:
            tail = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise JobFailed(f"the generated {console_dir.name} failed: {tail}")
        answer = parsed_answer(result.stdout)
        difference = float(
            np.max(np.abs(np.asarray(answer["Score"]) - np.asarray(expected["Score"])))
        )
        self.run.log("starter_max_abs_diff", difference, step=0)
        if answer["Prediction"] != expected["Prediction"] and self.config.task == CLASSIFICATION:
            raise JobFailed(
                f"the generated {console_dir.name} predicted {answer['Prediction']!r} but the"
                f" model predicts {expected['Prediction']!r}: report this with the run's logs"
            )
        _say(f"starter code: {console_dir.name} predicts {answer['Prediction']!r}: ok")

    def _exported(
        self,
        featurizer: Any,
        columns: Sequence[FeatureColumn],
        split: _Split,
        leaderboard: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], Any, bytes]:
        """The leaderboard in order until one exports with parity: a model ONNX can't hold, or
        holds with different answers (a tie of float32 distances, a threshold met exactly), is
        passed over and recorded, never registered."""
        tried: list[dict[str, Any]] = []
        self.parity_report: dict[str, Any] = {"chosen": None, "tried": tried}
        for entry in leaderboard:
            failed = {t["family"] for t in tried}.intersection(entry.get("members", []))
            if failed:  # an ensemble holds a model that failed already: it would fail too
                tried.append(
                    {
                        "family": entry["family"],
                        "exported": False,
                        "error": "skipped:"
                        f" its member {sorted(failed)[0]} did not export with parity",
                    }
                )
                continue
            pipeline = pipeline_of(featurizer, entry["model"])
            try:
                onnx_bytes = export_onnx(pipeline, columns)
            except Exception as error:  # a converter's refusal, whatever its type
                tried.append(
                    {"family": entry["family"], "exported": False, "error": str(error)[:300]}
                )
                _say(f"ONNX: {entry['family']} could not be exported ({type(error).__name__})")
                continue
            parity = check_parity(
                onnx_bytes, pipeline, split.check_frame, columns, self.config.task
            )
            tried.append({"family": entry["family"], "exported": True, **parity.to_dict()})
            _say(
                f"ONNX parity of {entry['family']} on {parity.rows} rows: max |difference| of"
                f" {parity.compared} {parity.max_abs_diff:.3g}"
                f" ({'passed' if parity.passed else 'failed'})"
            )
            if parity.passed:
                self.parity_report["chosen"] = entry["family"]
                # The parent's primary metric is the registered model's (the leaderboard's best
                # unless parity passed it over).
                metric = self.config.metric.name
                self.run.log(metric, float(entry[metric]), step=0)
                self.run.log("onnx_max_abs_diff", parity.max_abs_diff, step=0)
                return entry, pipeline, onnx_bytes
        raise JobFailed(
            "no model on the leaderboard exports to ONNX with the same answers"
            f" ({', '.join(t['family'] for t in tried)}): see onnx_parity.json in the run's"
            " logs and block those families (--blocked-models)",
        )

    def _schema(
        self, columns: Sequence[FeatureColumn], classes: list[str], best: dict[str, Any]
    ) -> dict[str, Any]:
        task = self.config.task
        return {
            "task": task,
            "label": self.config.label_column_name,
            "columns": [column.to_dict() for column in columns],
            "classes": classes if task == CLASSIFICATION else None,
            "outputs": ["label", "probabilities"] if task == CLASSIFICATION else ["variable"],
            "model_family": best["family"],
            "primary_metric": {
                "name": self.config.metric.name,
                "value": best[self.config.metric.name],
            },
        }

    def _publish(
        self,
        staging: Path,
        leaderboard: list[dict[str, Any]],
        best: dict[str, Any],
        selection: Selection,
    ) -> None:
        metric = self.config.metric
        board = sorted(
            (_board_entry(entry, metric) for entry in leaderboard),
            key=lambda e: e[metric.name],
            reverse=metric.higher_is_better,
        )
        after_searches = self.clock.elapsed_s() - self.searches_ended
        self.run.log("after_searches_s", after_searches, step=0)
        budget = {
            "time_budget_s": self.config.budget_s,
            "families": [a.to_dict() for a in self.allotments],
            "after_searches_s": after_searches,
        }
        write_json_atomic(
            staging / LEADERBOARD_FILE,
            {
                "metric": metric.name,
                "exported": best["family"],
                "selection": selection.to_dict(),
                "budget": budget,
                "models": board,
            },
        )
        for item in sorted(staging.iterdir()):
            item.replace(self.outputs / item.name)
        staging.rmdir()
        for item in sorted(self.outputs.iterdir()):
            _say(f"output: {item.name}")


def _board_entry(entry: dict[str, Any], metric: PrimaryMetric) -> dict[str, Any]:
    """A leaderboard entry as the artifact keeps it: its fold scores, not its model."""
    shown = {k: v for k, v in entry.items() if k not in ("model", "out_of_fold")}
    out_of_fold = entry.get("out_of_fold")
    if out_of_fold is not None:
        shown["fold_scores"] = [metric.value_of_loss(loss) for loss in out_of_fold.losses]
    return shown


# The data, split -----------------------------------------------------------------------------


class _Split:
    """Training rows, and the rows the parity and importance checks read: the holdout's, or
    under cross-validation (the model refitted on every row) the training rows themselves."""

    def __init__(
        self,
        train_frame: pd.DataFrame,
        train_label: np.ndarray,
        holdout: tuple[pd.DataFrame, np.ndarray] | None,
    ) -> None:
        self.train_frame = train_frame
        self.train_label = train_label
        self.holdout = holdout
        self.check_frame, self.check_label = holdout or (train_frame, train_label)
        self.check_rows_from = "validation" if holdout else "training"


class _Data:
    def __init__(
        self, split: _Split, featurizer: Any, validation: Validation, scoring: Scoring
    ) -> None:
        self.split = split
        self.featurizer = featurizer
        self.validation = validation
        self.scoring = scoring
        self.train_features = _features(featurizer, split.train_frame)
        self.holdout = (
            None
            if split.holdout is None
            else (_features(featurizer, split.holdout[0]), split.holdout[1])
        )


def _features(featurizer: Any, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(featurizer.transform(frame), dtype=np.float32)


def _split(frame: pd.DataFrame, label: np.ndarray, validation: Validation, task: str) -> _Split:
    if validation.method == "cv":
        return _Split(frame, label, None)
    from sklearn.model_selection import train_test_split

    train, held, train_label, held_label = train_test_split(
        frame,
        label,
        test_size=validation.holdout_fraction,
        random_state=0,
        stratify=label if task == CLASSIFICATION else None,
    )
    return _Split(train, train_label, (held, held_label))


def _encoded_label(table: CheckedTable) -> tuple[np.ndarray, list[str]]:
    """A classifier's label as class indices (and the class names, sorted); a regressor's
    as floats."""
    if table.task != CLASSIFICATION:
        return table.label.to_numpy(dtype=float), []
    classes = sorted(table.label.unique())
    index = {name: number for number, name in enumerate(classes)}
    return table.label.map(index).to_numpy(dtype=np.int64), [str(c) for c in classes]


def _say(line: str) -> None:
    print(line, flush=True)


def read_leaderboard(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))
