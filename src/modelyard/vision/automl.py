"""AutoML for images, run as a job by `modelyard.builtin_jobs.automl_images`, in order:

1. the image trainer's guardrails and stratified split, once, on the parent run;
2. each candidate (backbone × learning rate × epochs, `automl_config.py`) a child run that
   trains a head on the bottleneck features of its backbone: the workspace's feature cache is
   shared, so a backbone's images are featurized once whatever the number of its candidates;
3. with `fine_tune_finalists`, the best that many candidates trained again as whole networks,
   each a child run too;
4. the leaderboard (`outputs/leaderboard.json`), the best candidate first, by validation
   accuracy;
5. the best candidate's model published on the parent by the image trainer's own export
   (`Trainer.export`): bestModel.onnx, bestModelMap.json, MLModel.zip, the evaluation and the
   generated starter projects, checked as a training run's are.

Each candidate is the image trainer (`Trainer.fit`) with its own checkpoint folder under the
run's durable checkpoints. The best model is not kept in memory: it is restored from its
candidate's checkpoint (no epoch trained again) for the export. Resuming: a candidate whose
child completed in an earlier attempt of the run is not trained again, and a candidate stopped
mid-training continues from its last epoch.

The time budget is the search's: a candidate is started only while time is left (the first
always), and a training in progress is not cut short; each attempt of a resumed run has the
whole budget for what is left, as AutoML for tables does. Backbones whose weights can't be had
here (offline, no cached ImageNet weights) are skipped and listed in the leaderboard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from modelyard.errors import JobFailed
from modelyard.fileio import write_json_atomic
from modelyard.vision.automl_config import PRIMARY_METRIC, Candidate, ImageAutoMLConfig
from modelyard.vision.backbones import Backbone, WeightsUnavailable, load_backbone
from modelyard.vision.checkpoints import TrainingStopped
from modelyard.vision.train import LabelledData, Trainer
from modelyard.vision.training import CHECKPOINT_FILE, HEAD_CHECKPOINT_FILE, Split

LEADERBOARD_FILE: Final = "leaderboard.json"
CANDIDATE_TAG: Final = "automl_candidate"
CANDIDATES_FOLDER: Final = "candidates"
TRIAL_METRIC: Final = "best_validation_accuracy"  # what Trainer.fit logs on each child


@dataclass(frozen=True)
class CandidateResult:
    candidate: Candidate
    run_id: str
    accuracy: float
    validation_loss: float  # at the best epoch: among equal accuracies, the lower wins

    def entry(self) -> dict[str, Any]:
        return {
            "model": self.candidate.key,
            **self.candidate.to_dict(),
            "run_id": self.run_id,
            PRIMARY_METRIC: self.accuracy,
            "validation_loss": self.validation_loss,
        }


class ImageAutoMLTrainer:
    def __init__(
        self,
        config: ImageAutoMLConfig,
        feature_cache: Path,
        run: Any,
        guardrail_cache: Path | None,
        checkpoint_dir: Path,
        outputs: Path = Path("outputs"),
    ) -> None:
        self.config = config
        self.feature_cache = feature_cache
        self.guardrail_cache = guardrail_cache
        self.run = run  # the job's sdk Run: params, child runs
        self.checkpoint_dir = checkpoint_dir
        self.outputs = outputs
        self.started = time.monotonic()
        self.backbones: dict[str, Backbone] = {}
        self.unavailable: dict[str, str] = {}  # backbone → why its weights can't be had
        self.skipped: dict[str, str] = {}  # candidate key → why it was not tried

    def train(self) -> None:
        """Search, then publish the best; TrainingStopped when asked to stop before the end."""
        self._stop_requested()  # opts in: SIGTERM now asks for a stop at the next safe point
        self.run.log_params(self._params())
        parent = self._trainer(self.config.base_config(), self.run, self.checkpoint_dir)
        data = parent.check_data()
        self._stop_here_if_requested("after the guardrails")
        split = parent.split(data)
        done = self._completed_candidates()
        results = self._search(self.config.candidates(), done, data, split)
        results += self._search(self._finalists(results), done, data, split)
        board = self._ranked(results)
        self._stop_here_if_requested("after the search, before the outputs")
        self._export(board[0], data, split)
        self._write_leaderboard(board)

    # the search -------------------------------------------------------------------------------

    def _search(
        self,
        candidates: list[Candidate],
        done: dict[str, CandidateResult],
        data: LabelledData,
        split: Split,
    ) -> list[CandidateResult]:
        """Each candidate's result: an earlier attempt's, or trained now while time is left
        (the list's first whatever the time: a search, or a fine-tuning asked for, has one)."""
        results: list[CandidateResult] = []
        for candidate in candidates:
            self._stop_here_if_requested(f"before {candidate.key}")
            if candidate.key in done:
                results.append(done[candidate.key])
                _say(f"{candidate.key}: trained by an earlier attempt, not again")
            elif candidate.backbone in self.unavailable:
                self.skipped[candidate.key] = self.unavailable[candidate.backbone]
            elif self._seconds_left() <= 0 and results:
                self.skipped[candidate.key] = "the time budget was spent"
            else:
                result = self._trial(candidate, data, split)
                results += [result] if result is not None else []
        return results

    def _seconds_left(self) -> float:
        return self.config.time_budget_s - (time.monotonic() - self.started)

    def _trial(
        self, candidate: Candidate, data: LabelledData, split: Split
    ) -> CandidateResult | None:
        backbone = self._backbone(candidate)
        if backbone is None:
            return None
        child = self.run.child_run(name=candidate.key)
        child.set_tags({CANDIDATE_TAG: candidate.key, "backbone": candidate.backbone})
        config = self.config.candidate_config(candidate)
        trainer = self._trainer(config, child, self._candidate_folder(candidate))
        _say(f"{candidate.key}: training (child run {child.id})")
        try:
            child.log_params(
                {
                    "learning_rate": config.learning_rate,
                    "epochs": config.epochs,
                    "fine_tune": config.fine_tune,
                }
            )
            trainer.fit(backbone, data, split)
        except TrainingStopped as stopped:
            child.fail(f"preempted, {stopped}")  # a new child of the next attempt goes on
            raise
        except BaseException as error:  # the child must not end Completed at the job's exit
            child.fail(f"{candidate.key} stopped: {type(error).__name__}: {error}"[:500])
            raise
        result = _result_of(child, candidate)
        child.log(PRIMARY_METRIC, result.accuracy, step=0)
        child.complete()
        _say(f"{candidate.key}: {PRIMARY_METRIC} {result.accuracy:.4f}")
        return result

    def _backbone(self, candidate: Candidate) -> Backbone | None:
        """The candidate's backbone (loaded once for every head trained on its features; anew
        for each fine-tuning, which changes its weights); None when its weights can't be had."""
        name = candidate.backbone
        if name in self.backbones and not candidate.fine_tuned:
            return self.backbones[name]
        try:
            backbone = load_backbone(name, self.config.weights, self.config.seed)
        except WeightsUnavailable as unavailable:
            self.unavailable[name] = self.skipped[candidate.key] = unavailable.message
            _say(f"{name}: skipped, {unavailable.message}")
            return None
        if not candidate.fine_tuned:
            self.backbones[name] = backbone
        return backbone

    def _finalists(self, results: list[CandidateResult]) -> list[Candidate]:
        count = self.config.fine_tune_finalists
        best = self._ranked(results)[:count] if count and results else []
        return [
            Candidate(r.candidate.backbone, r.candidate.learning_rate, r.candidate.epochs, True)
            for r in best
        ]

    def _completed_candidates(self) -> dict[str, CandidateResult]:
        """Candidates an earlier attempt of this run trained to the end (their child completed,
        their checkpoint kept): they are not trained again."""
        by_key = {c.key: c for c in self.config.candidates()}
        done: dict[str, CandidateResult] = {}
        for child in self.run.get_children():
            key = child.get_tags().get(CANDIDATE_TAG, "")
            fine_tuned = key.endswith(" fine-tuned")
            candidate = by_key.get(key.removesuffix(" fine-tuned"))
            if candidate is None or child.get_status() != "Completed":
                continue
            if fine_tuned:
                candidate = Candidate(
                    candidate.backbone, candidate.learning_rate, candidate.epochs, True
                )
            if self._checkpoint_file(candidate).exists():
                done[key] = _result_of(child, candidate)
        return done

    # the leaderboard and the best model -------------------------------------------------------

    def _ranked(self, results: list[CandidateResult]) -> list[CandidateResult]:
        """The best first; among equal accuracies the lower validation loss, then the earlier
        in the search (a small validation set gives many equal accuracies)."""
        if not results:
            reasons = "; ".join(sorted(set(self.skipped.values()))) or "no candidate ran"
            raise JobFailed(f"no candidate could be trained: {reasons}")
        return sorted(results, key=lambda result: (-result.accuracy, result.validation_loss))

    def _export(self, best: CandidateResult, data: LabelledData, split: Split) -> None:
        """The best candidate restored from its checkpoint (no epoch trained again) and
        published on the parent run by the image trainer's export."""
        candidate = best.candidate
        _say(f"best: {candidate.key} with {PRIMARY_METRIC} {best.accuracy:.4f}")
        self.run.set_tags({"best_child_run_id": best.run_id, "best_model": candidate.key})
        backbone = self._backbone(candidate)
        assert backbone is not None  # it was loaded for the candidate's own trial
        config = self.config.candidate_config(candidate)
        trainer = self._trainer(config, self.run, self._candidate_folder(candidate))
        model = trainer.fit(backbone, data, split)
        trainer.export(model, data, split)

    def _write_leaderboard(self, board: list[CandidateResult]) -> None:
        write_json_atomic(
            self.outputs / LEADERBOARD_FILE,
            {
                "task": "image-classification",
                "metric": PRIMARY_METRIC,
                "exported": board[0].candidate.key,
                "best_run_id": board[0].run_id,
                "models": [result.entry() for result in board],
                "skipped": [
                    {"model": key, "reason": reason} for key, reason in self.skipped.items()
                ],
            },
        )
        self.run.log("candidates", float(len(board)), step=0)

    # helpers ----------------------------------------------------------------------------------

    def _trainer(self, config: Any, run: Any, checkpoints: Path) -> Trainer:
        return Trainer(config, self.feature_cache, run, self.guardrail_cache, checkpoints)

    def _candidate_folder(self, candidate: Candidate) -> Path:
        return self.checkpoint_dir / CANDIDATES_FOLDER / candidate.folder

    def _checkpoint_file(self, candidate: Candidate) -> Path:
        name = CHECKPOINT_FILE if candidate.fine_tuned else HEAD_CHECKPOINT_FILE
        return self._candidate_folder(candidate) / name

    def _params(self) -> dict[str, object]:
        config = self.config
        return {
            "task": "image-classification",
            "primary_metric": PRIMARY_METRIC,
            "time_budget_s": config.time_budget_s,
            "backbones": ",".join(config.backbones),
            "learning_rates": ",".join(f"{rate:g}" for rate in config.learning_rates),
            "epochs": ",".join(str(count) for count in config.epochs),
            "fine_tune_finalists": config.fine_tune_finalists,
            "weights": config.weights,
            "seed": config.seed,
        }

    def _stop_requested(self) -> bool:
        return bool(self.run.stop_requested)

    def _stop_here_if_requested(self, where: str) -> None:
        if self._stop_requested():
            raise TrainingStopped(where)


def _result_of(child: Any, candidate: Candidate) -> CandidateResult:
    """A trained candidate's result, from what the image trainer logged on its child run."""
    metrics = child.get_metrics()
    best_epoch = int(metrics["best_epoch"])
    losses = metrics["validation_loss"]
    losses = losses if isinstance(losses, list) else [losses]
    return CandidateResult(
        candidate, child.id, float(metrics[TRIAL_METRIC]), float(losses[best_epoch - 1])
    )


def _say(line: str) -> None:
    print(line, flush=True)
