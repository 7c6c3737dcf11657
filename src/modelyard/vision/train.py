"""The image-classification job: `python -m modelyard.vision.train --config config.json`.

It runs inside a Modelyard job like any user script and reports through `Run.get_context()`:

1. guardrails on the data (`guardrails.json`; a failure stops here, before any training);
2. stratified split, bottleneck features from the workspace cache (computing only the missing);
3. the head trained on them (or, with fine_tune, the whole network) with ML.NET's schedule;
4. `bestModel.onnx` checked by onnx.checker and against PyTorch, `bestModelMap.json`,
   `MLModel.zip`, the evaluation, and the generated starter projects, whose ConsoleApp is run
   once in a clean interpreter and must agree with the in-process prediction.

Everything is built in a staging folder and moved into `./outputs` only when every check has
passed, so a failed run leaves its guardrails report and its logs, never half a model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from torch import nn

from modelyard.errors import GuardrailFailed, InvalidValue, JobFailed, ModelyardError
from modelyard.predict import softmax
from modelyard.runtime.job_env import CHECKPOINT_DIR_ENV
from modelyard.vision import package, preprocessing
from modelyard.vision.backbones import Backbone, load_backbone
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.dataset import load_inputs, scan_dataset
from modelyard.vision.evaluation import evaluate, write_evaluation
from modelyard.vision.features import (
    FeatureCache,
    FeatureProgress,
    default_engine,
    export_onnx,
    featurize,
    make_engine,
)
from modelyard.vision.guardrails import (
    GUARDRAILS_FILE,
    GuardrailReport,
    check_dataset,
    write_report,
)
from modelyard.vision.training import (
    EpochStats,
    FineTuneData,
    Split,
    fine_tune,
    stratified_split,
    train_head,
)

PARITY_TOLERANCE: Final = 1e-3
ONNX_BATCH: Final = 32  # also the number of images the PyTorch parity check runs on
EVALUATION_FOLDER: Final = "evaluation"
CHECKPOINT_FOLDER: Final = "checkpoints"


@dataclass(frozen=True)
class LabelledData:
    paths: list[Path]
    hashes: list[str]
    labels: list[str]  # the label names in output-index order (sorted)
    targets: list[int]  # index into labels, per image


class Trainer:
    def __init__(self, config: ImageClassificationConfig, feature_cache: Path, run: Any) -> None:
        self.config = config
        self.feature_cache = feature_cache
        self.run = run
        self.outputs = Path("outputs")
        self.spec = preprocessing.default_spec()

    def train(self) -> None:
        torch.manual_seed(self.config.seed)
        self.run.log_params(_params_of(self.config))
        with tempfile.TemporaryDirectory(prefix=".staging-", dir=".") as scratch:
            staging = Path(scratch)
            data = self._check_data()
            split = stratified_split(
                data.targets, self.config.validation_fraction, self.config.seed
            )
            _say(
                f"split: {len(split.train)} training and {len(split.validation)} validation images"
            )
            backbone = load_backbone(self.config.backbone, self.config.weights, self.config.seed)
            model = self._fit(backbone, data, split, staging)
            self._write_outputs(model, data, split, staging)
            self._publish(staging)

    # 1. data --------------------------------------------------------------------------------

    def _check_data(self) -> LabelledData:
        scan = scan_dataset(Path(self.config.data))
        _say(f"guardrails: checking {len(scan.records)} files")
        report = check_dataset(scan.records, scan.skipped)
        self.outputs.mkdir(exist_ok=True)
        write_report(report, self.outputs / GUARDRAILS_FILE)
        _print_report(report)
        self._record_data(report)
        if not report.passed:
            raise GuardrailFailed(report.summary_line(), errors=len(report.errors))
        labels = sorted(report.class_counts)
        index = {label: position for position, label in enumerate(labels)}
        return LabelledData(
            paths=[record.path for record in report.usable],
            hashes=list(report.usable_hashes),
            labels=labels,
            targets=[index[record.label] for record in report.usable],
        )

    def _record_data(self, report: GuardrailReport) -> None:
        fingerprint = report.fingerprint
        self.run.add_properties(
            {
                "data_content_hash": fingerprint.get("content_hash", ""),
                "data_file_count": report.file_count,
                "data_usable_count": len(report.usable),
                "data_class_counts": json.dumps(report.class_counts, sort_keys=True),
                "guardrails": "passed" if report.passed else "failed",
            }
        )
        self.run.set_tags({"data_content_hash": str(fingerprint.get("content_hash", ""))[:16]})

    # 2-3. features and training -----------------------------------------------------------

    def _fit(
        self, backbone: Backbone, data: LabelledData, split: Split, staging: Path
    ) -> nn.Module:
        if self.config.fine_tune:
            return self._fine_tune(backbone, data, split)
        features = self._features(backbone, data)
        targets = np.asarray(data.targets)
        result = train_head(
            features[split.train],
            targets[split.train],
            features[split.validation],
            targets[split.validation],
            len(data.labels),
            self.config,
            on_epoch=self._log_epoch,
        )
        self._log_result(result.best_epoch, result.best_validation_accuracy, result.stopped_early)
        return nn.Sequential(backbone.network, result.model).eval()

    def _features(self, backbone: Backbone, data: LabelledData) -> Any:
        cache = FeatureCache(self.feature_cache, backbone, self.spec)
        self.run.add_properties({"feature_cache_key": cache.key, "weights_id": backbone.weights_id})
        engine = default_engine()
        _say(
            f"featurize: {len(data.paths)} images with {backbone.name} on {engine}"
            f" (cache {cache.key})"
        )
        result = featurize(
            data.paths,
            data.hashes,
            cache,
            lambda: make_engine(engine, backbone, cache, int(self.spec["crop"])),
            self.spec,
            on_progress=self._log_featurize,
        )
        self.run.log_metrics(
            {
                "feature_cache_hits": result.cache_hits,
                "featurized_images_computed": result.computed,
                "featurize_seconds": result.seconds,
                "featurize_images_per_s": result.images_per_s,
            }
        )
        return result.features

    def _fine_tune(self, backbone: Backbone, data: LabelledData, split: Split) -> nn.Module:
        _say(f"fine-tune: {backbone.name}, whole network, {len(split.train)} training images")
        result = fine_tune(
            backbone.network,
            backbone.feature_dim,
            FineTuneData(data.paths, data.targets, split, len(data.labels)),
            self.config,
            Path(os.environ.get(CHECKPOINT_DIR_ENV, CHECKPOINT_FOLDER)),
            on_epoch=self._log_epoch,
        )
        self._log_result(result.best_epoch, result.best_validation_accuracy, result.stopped_early)
        return result.model.eval()

    def _log_featurize(self, progress: FeatureProgress) -> None:
        self.run.log("featurized_images", progress.done, step=progress.done)
        _say(
            f"featurize: {progress.done}/{progress.total} images"
            f" ({progress.images_per_s:.1f} images/s)"
        )

    def _log_epoch(self, stats: EpochStats) -> None:
        self.run.log_metrics(stats.as_metrics(), step=stats.epoch)
        self.run.log("epoch", stats.epoch, step=stats.epoch)
        _say(
            f"epoch {stats.epoch}/{self.config.epochs}: train accuracy"
            f" {stats.train_accuracy:.4f} loss {stats.train_loss:.4f}, validation accuracy"
            f" {stats.validation_accuracy:.4f} loss {stats.validation_loss:.4f},"
            f" learning rate {stats.learning_rate:.6f}"
        )

    def _log_result(self, best_epoch: int, best_accuracy: float, stopped_early: bool) -> None:
        self.run.log_metrics({"best_epoch": best_epoch, "best_validation_accuracy": best_accuracy})
        self.run.set_tags({"stopped_early": str(stopped_early).lower()})
        _say(f"best epoch {best_epoch}: validation accuracy {best_accuracy:.4f}")

    # 4. outputs -----------------------------------------------------------------------------

    def _write_outputs(
        self, model: nn.Module, data: LabelledData, split: Split, staging: Path
    ) -> None:
        onnx_path = staging / package.MODEL_FILE
        export_onnx(model, onnx_path, int(self.spec["crop"]), output_name=package.OUTPUT_NAME)
        _check_onnx(onnx_path)
        validation_paths = [data.paths[i] for i in split.validation]
        logits, first_batch = _onnx_logits(onnx_path, validation_paths, self.spec)
        self._check_parity(model, first_batch, logits)
        label_map = staging / package.LABEL_MAP_FILE
        package.write_label_map(label_map, data.labels)
        model_zip = staging / package.MODEL_ZIP_FILE
        package.write_model_zip(
            model_zip, onnx_path, data.labels, backbone=self.config.backbone, run_id=self.run.id
        )
        self._evaluate(data, split, logits, staging)
        self._generate_starter(staging, model_zip, onnx_path, label_map, validation_paths[0])

    def _check_parity(self, model: nn.Module, batch: Any, onnx_logits: Any) -> None:
        """PyTorch against onnxruntime on the first batch of validation images."""
        with torch.no_grad():
            torch_logits = model(torch.from_numpy(batch)).numpy()
        difference = float(np.max(np.abs(torch_logits - onnx_logits[: len(batch)])))
        # float32 error grows with the logits' size: an untrained network (--weights none) can
        # produce logits in the hundreds, so the limit scales with them beyond 1.
        limit = PARITY_TOLERANCE * max(1.0, float(np.max(np.abs(torch_logits))))
        self.run.log("onnx_max_abs_diff", difference)
        _say(f"onnx parity: max abs difference {difference:.2e} on {len(batch)} images")
        if difference > limit:
            raise JobFailed(
                f"bestModel.onnx disagrees with the PyTorch model by {difference:.2e}"
                f" (limit {limit:.2e}): report this with the run's logs",
                difference=difference,
            )

    def _evaluate(self, data: LabelledData, split: Split, logits: Any, staging: Path) -> None:
        scores = softmax(logits)
        evaluation = evaluate(
            data.labels,
            [data.targets[i] for i in split.validation],
            [int(i) for i in scores.argmax(axis=1)],
            scores,
            [str(data.paths[i]) for i in split.validation],
        )
        write_evaluation(evaluation, staging / EVALUATION_FOLDER)
        metrics = evaluation.metrics()
        self.run.log_metrics(metrics)
        _say(evaluation.summary_line())

    def _generate_starter(
        self, staging: Path, model_zip: Path, onnx_path: Path, label_map: Path, sample: Path
    ) -> None:
        from modelyard import predict
        from modelyard.vision.codegen import generate_starter
        from modelyard.vision.starter_check import run_console_app

        project = generate_starter(
            staging,
            self.config.model_name,
            model_zip=model_zip,
            onnx_model=onnx_path,
            label_map=label_map,
            sample_image=sample,
        )
        expected = predict.load(model_zip).predict(predict.ModelInput(ImageSource=str(sample)))
        generated = run_console_app(project.console_dir)
        self.run.log(
            "starter_score_max_abs_diff",
            float(np.max(np.abs(np.asarray(expected.Score) - np.asarray(generated.Score)))),
        )
        if generated.Prediction != expected.Prediction:
            raise JobFailed(
                f"the generated {project.console_dir.name} predicted {generated.Prediction!r}"
                f" for {sample.name} but the model predicts {expected.Prediction!r}:"
                " report this with the run's logs",
            )
        _say(f"starter code: {project.console_dir.name} predicts {generated.Prediction!r}: ok")

    def _publish(self, staging: Path) -> None:
        """Move the finished outputs into ./outputs and, when asked, the project folder."""
        for item in sorted(staging.iterdir()):
            item.rename(self.outputs / item.name)
        if self.config.output:
            _copy_project(self.outputs, Path(self.config.output))
            _say(f"project written to {self.config.output}")
        for item in sorted(self.outputs.iterdir()):
            _say(f"output: {item.name}")


def _check_onnx(path: Path) -> None:
    import onnx

    onnx.checker.check_model(str(path), full_check=True)


def _onnx_logits(onnx_path: Path, paths: Sequence[Path], spec: dict[str, Any]) -> tuple[Any, Any]:
    """bestModel.onnx's logits for `paths`, and the first batch's pixels (for the parity check)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    chunks = []
    first_batch = None
    for start in range(0, len(paths), ONNX_BATCH):
        batch = load_inputs(paths[start : start + ONNX_BATCH], spec)
        first_batch = batch if first_batch is None else first_batch
        chunks.append(session.run([package.OUTPUT_NAME], {package.INPUT_NAME: batch})[0])
    return np.concatenate(chunks), first_batch


def _copy_project(outputs: Path, destination: Path) -> None:
    if destination.exists() and any(destination.iterdir()):
        raise InvalidValue(
            f"output folder {str(destination)!r} is not empty: choose a new folder",
            path=str(destination),
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.parent / f".{destination.name}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    shutil.copytree(outputs, temporary)
    if destination.exists():
        destination.rmdir()
    temporary.rename(destination)


def _params_of(config: ImageClassificationConfig) -> dict[str, object]:
    return {key: value for key, value in config.to_dict().items() if value is not None}


def _print_report(report: GuardrailReport) -> None:
    _say(report.summary_line())
    for issue in [*report.errors, *report.warnings]:
        where = issue.path or issue.label or ""
        _say(f"  {issue.kind:<22} {where}  {issue.message}")


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    from modelyard import Run

    parser = argparse.ArgumentParser(prog="modelyard.vision.train")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--feature-cache", required=True, type=Path)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        config = ImageClassificationConfig.from_dict(json.loads(options.config.read_text()))
        run = Run.get_context()
        Trainer(config, options.feature_cache, run).train()
    except ModelyardError as error:
        print(f"error: {error.message}", file=sys.stderr, flush=True)
        return 1
    _say(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
