"""The image-classification trainer, run as a job by `modelyard.builtin_jobs.image_classification`.

It reports to the job's run (`Run.get_context()`, handed in by the job's entry point):

1. guardrails on the data (`guardrails.json`; a failure stops here, before any training), each
   file's decode verdict cached by content hash in the workspace (`--guardrail-cache`);
2. stratified split, bottleneck features from the workspace cache (computing only the missing);
3. the head trained on them (or, with fine_tune, the whole network) with ML.NET's schedule;
4. `bestModel.onnx` checked by onnx.checker and against PyTorch, `bestModelMap.json`,
   `MLModel.zip`, the evaluation, and the generated starter projects, whose ConsoleApp is run
   once in a clean interpreter and must agree with the in-process prediction.

A head trained on cached features costs little beyond its epochs when the cache is warm: the
model is the cached featurizer with the head's nodes appended (`compose.py`), and it is
evaluated on the cached validation features; only the parity check runs the backbone, on
PARITY_IMAGES images. A fine-tuned network is exported by torch.onnx and evaluated by
onnxruntime on the validation images.

Everything is built in a staging folder and moved into `./outputs` only when every check has
passed, so a failed run leaves its guardrails report and its logs, never half a model.

Preemption: the trainer reads `run.stop_requested` (opting in to a graceful stop) and, once it
is set, stops at the next safe point (after the guardrails, after a featurization batch, after
an epoch's checkpoint, before the outputs) by raising TrainingStopped; nothing of the outputs
is written then. The next attempt of the run finds the featurized images in the feature cache
(each written as soon as computed) and the training in its checkpoint (`checkpoints`, the
run's durable folder in a job), and the run's metrics skip the steps already logged, so the run
ends with exactly the metrics of an uninterrupted one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import torch
from torch import nn

from modelyard.errors import GuardrailFailed, InvalidValue, JobFailed
from modelyard.fileio import folder_written_atomically
from modelyard.vision import package, predictor, preprocessing
from modelyard.vision.backbones import Backbone, load_backbone
from modelyard.vision.checkpoints import TrainingStopped
from modelyard.vision.codegen import StarterProject, generate_starter
from modelyard.vision.compose import HeadWeights, compose_with_head
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
    VerdictCache,
    check_dataset,
    write_report,
)
from modelyard.vision.held_out import HeldOutImages, combined_content_hash, held_out_images
from modelyard.vision.starter_check import RunningConsoleApp, console_app_started
from modelyard.vision.training import (
    Checkpointing,
    EpochStats,
    FineTuneData,
    Head,
    Split,
    fine_tune,
    one_thread,
    stratified_split,
    train_head,
)

PARITY_TOLERANCE: Final = 1e-3
# Validation images run by both PyTorch and onnxruntime for the parity check: enough to catch
# a wrong graph, few enough that running the backbone in torch stays well under a second.
PARITY_IMAGES: Final = 8
ONNX_BATCH: Final = 32
FEATURIZER_OUTPUT: Final = "features"
EVALUATION_FOLDER: Final = "evaluation"
# Staging is scratch until published: the run's outputs are made durable when they are
# uploaded as artifacts, so fsyncing the large model files here (ResNet50: 94 MB each, about
# 0.35 s apiece) would only be paid twice.
STAGING_DURABLE: Final = False
CHECKPOINT_FOLDER: Final = "checkpoints"


@dataclass(frozen=True)
class LabelledData:
    paths: list[Path]
    hashes: list[str]
    labels: list[str]  # the label names in output-index order (sorted)
    targets: list[int]  # index into labels, per image
    # Images from this index on are the config's validation_data (the split is given).
    validation_start: int | None = None


@dataclass(frozen=True)
class ModelFiles:
    onnx: Path  # bestModel.onnx
    label_map: Path  # bestModelMap.json
    model_zip: Path  # MLModel.zip


@dataclass(frozen=True)
class ParityBatch:
    pixels: Any  # preprocessed validation images [N, 3, crop, crop]
    onnx_logits: Any  # bestModel.onnx's logits for them, under onnxruntime


@dataclass(frozen=True)
class FittedModel:
    network: nn.Module  # backbone + head on the CPU in eval mode: the parity check's reference
    head: Head | None = None  # set when only the head was trained, on the cached features...
    featurizer: Path | None = None  # ...of this ONNX export of the backbone
    validation_logits: Any = None  # the head on the cached validation features


class Trainer:
    def __init__(
        self,
        config: ImageClassificationConfig,
        feature_cache: Path,
        run: Any,
        guardrail_cache: Path | None = None,
        checkpoints: Path = Path(CHECKPOINT_FOLDER),
    ) -> None:
        self.config = config
        self.feature_cache = feature_cache
        self.guardrail_cache = guardrail_cache
        self.checkpoints = checkpoints  # the training's (a job's outlive its working folder)
        self.run = run
        self.outputs = Path("outputs")
        self.spec = preprocessing.default_spec()

    def train(self) -> None:
        """Train and publish the outputs; TrainingStopped when asked to stop before the end."""
        torch.manual_seed(self.config.seed)
        self._stop_requested()  # opts in: SIGTERM now asks for a stop at the next safe point
        self.run.log_params(_params_of(self.config))
        data = self.check_data()
        self._stop_here_if_requested("after the guardrails")
        split = self.split(data)
        backbone = load_backbone(self.config.backbone, self.config.weights, self.config.seed)
        model = self.fit(backbone, data, split)
        self._stop_here_if_requested("after training, before the outputs")
        self.export(model, data, split)

    def split(self, data: LabelledData) -> Split:
        if data.validation_start is not None:
            start = data.validation_start
            split = Split(list(range(start)), list(range(start, len(data.paths))))
        else:
            split = stratified_split(
                data.targets, self.config.validation_fraction, self.config.seed
            )
        _say(f"split: {len(split.train)} training and {len(split.validation)} validation images")
        return split

    def export(self, model: FittedModel, data: LabelledData, split: Split) -> None:
        """Write, check and publish the outputs of a fitted model (AutoML publishes its best
        candidate's through this too)."""
        with tempfile.TemporaryDirectory(prefix=".staging-", dir=".") as scratch:
            staging = Path(scratch)
            self._write_outputs(model, data, split, staging)
            self._publish(staging)

    def _stop_requested(self) -> bool:
        return bool(self.run is not None and self.run.stop_requested)

    def _stop_here_if_requested(self, where: str) -> None:
        if self._stop_requested():
            raise TrainingStopped(where)

    def _checkpointing(self) -> Checkpointing:
        return Checkpointing(self.checkpoints, self._stop_requested, self._log_resumed)

    # 1. data --------------------------------------------------------------------------------

    def check_data(self) -> LabelledData:
        scan = scan_dataset(Path(self.config.data), self.config.allow_paths_outside_table)
        _say(f"guardrails: checking {len(scan.records)} files")
        verdicts = self._verdicts()
        report = check_dataset(scan.records, scan.skipped, verdicts)
        if verdicts is not None:
            self.run.log("guardrail_cache_hits", verdicts.hits, step=0)
        self.outputs.mkdir(exist_ok=True)
        write_report(report, self.outputs / GUARDRAILS_FILE)
        _print_report(report)
        if not report.passed:
            self._record_data(report, None)
            raise GuardrailFailed(report.summary_line(), errors=len(report.errors))
        labels = sorted(report.class_counts)
        held_out = None
        if self.config.validation_data is not None:
            held_out = self._held_out(report, labels, Path(self.config.validation_data))
        self._record_data(report, held_out)
        index = {label: position for position, label in enumerate(labels)}
        data = LabelledData(
            paths=[record.path for record in report.usable],
            hashes=list(report.usable_hashes),
            labels=labels,
            targets=[index[record.label] for record in report.usable],
        )
        return data if held_out is None else _with_validation_data(data, held_out)

    def _verdicts(self) -> VerdictCache | None:
        return VerdictCache(self.guardrail_cache) if self.guardrail_cache else None

    def _held_out(
        self, training: GuardrailReport, labels: list[str], source: Path
    ) -> HeldOutImages:
        """The validation folder's usable images that the training data lacks. Its images
        are decoded as the training's are; the class-size rules are the training data's (a
        validation set is often small), but each of its labels must be one the model learns."""
        scan = scan_dataset(source, self.config.allow_paths_outside_table)
        report = check_dataset(scan.records, scan.skipped, self._verdicts())
        unknown = sorted({record.label for record in report.usable} - set(labels))
        if not report.usable or unknown:
            problem = (
                f"has labels the training data lacks: {', '.join(unknown)}"
                if unknown
                else "has no usable image"
            )
            raise GuardrailFailed(
                f"validation data {str(source)!r} {problem}: validate on images of the"
                f" training data's labels ({', '.join(labels)})",
                errors=1,
            )
        held_out = held_out_images(training, report, source)
        _say(f"validation data: {len(held_out.records)} images of {source}")
        if held_out.dropped:
            found = held_out.dropped + len(held_out.records)
            _say(
                f"validation data: {held_out.dropped} of its {found} images left out, being"
                " images of the training data too (the same content): validating on them"
                " would overstate the accuracy"
            )
        return held_out

    def _record_data(self, report: GuardrailReport, held_out: HeldOutImages | None) -> None:
        """What the run trained on (and validated on, with a validation folder): the same
        images under the same labels give the same hash, wherever they lie."""
        content_hash = str(report.fingerprint.get("content_hash", ""))
        properties = {
            "data_file_count": report.file_count,
            "data_usable_count": len(report.usable),
            "data_class_counts": json.dumps(report.class_counts, sort_keys=True),
            "guardrails": "passed" if report.passed else "failed",
        }
        if held_out is not None:
            content_hash = combined_content_hash(content_hash, held_out)
            properties["validation_usable_count"] = len(held_out.records)
            properties["validation_duplicates_left_out"] = held_out.dropped
        self.run.add_properties({"data_content_hash": content_hash, **properties})
        self.run.set_tags({"data_content_hash": content_hash[:16]})

    # 2-3. features and training -----------------------------------------------------------

    def fit(self, backbone: Backbone, data: LabelledData, split: Split) -> FittedModel:
        if self.config.fine_tune:
            return FittedModel(self._fine_tune(backbone, data, split))
        cache = FeatureCache(self.feature_cache, backbone, self.spec)
        features = self._features(backbone, cache, data)
        targets = np.asarray(data.targets)
        result = train_head(
            features[split.train],
            targets[split.train],
            features[split.validation],
            targets[split.validation],
            len(data.labels),
            self.config,
            on_epoch=self._log_epoch,
            checkpointing=self._checkpointing(),
        )
        self._log_result(result.best_epoch, result.best_validation_accuracy, result.stopped_early)
        head = cast(Head, result.model)
        return FittedModel(
            nn.Sequential(backbone.network, head).cpu().eval(),
            head=head,
            featurizer=self._featurizer(backbone, cache),
            validation_logits=_head_logits(head, features[split.validation]),
        )

    def _featurizer(self, backbone: Backbone, cache: FeatureCache) -> Path:
        """The backbone's ONNX export beside its feature cache, made now if it is missing.

        It is missing when every feature came from the torch engine; the onnxruntime engine
        exports the same file the same way.
        """
        path = cache.engine_model()
        if not path.exists():
            export_onnx(backbone.network, path, int(self.spec["crop"]), FEATURIZER_OUTPUT)
        return path

    def _features(self, backbone: Backbone, cache: FeatureCache, data: LabelledData) -> Any:
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
            },
            step=0,
        )
        self.run.flush()  # as each batch's progress: what this attempt did, kept if it is killed
        return result.features

    def _fine_tune(self, backbone: Backbone, data: LabelledData, split: Split) -> nn.Module:
        _say(f"fine-tune: {backbone.name}, whole network, {len(split.train)} training images")
        result = fine_tune(
            backbone.network,
            backbone.feature_dim,
            FineTuneData(data.paths, data.targets, split, len(data.labels)),
            self.config,
            self._checkpointing(),
            on_epoch=self._log_epoch,
        )
        self._log_result(result.best_epoch, result.best_validation_accuracy, result.stopped_early)
        return result.model.eval()

    def _log_featurize(self, progress: FeatureProgress) -> None:
        self.run.log("featurized_images", progress.done, step=progress.done)
        # A rate over no computed image is no rate: a warm cache served them all.
        rate = f"{progress.images_per_s:.1f} images/s" if progress.computed else "from the cache"
        _say(f"featurize: {progress.done}/{progress.total} images ({rate})")
        # Written now, as the batch's features are: an attempt killed later (past its grace
        # period) leaves no gap where the next attempt finds these images in the cache.
        self.run.flush()
        if progress.done < progress.total:
            # Every image featurized so far is in the cache already: the next attempt reads it.
            self._stop_here_if_requested(f"featurizing, {progress.done} images done")

    def _log_resumed(self, history: list[EpochStats]) -> None:
        """A resumed training logs its checkpoint's epochs again: the points the run has are
        skipped, and those a killed attempt never wrote are filled in."""
        for stats in history:
            self._log_epoch_metrics(stats)
        _say(f"resumed from the checkpoint after epoch {len(history)}/{self.config.epochs}")

    def _log_epoch(self, stats: EpochStats) -> None:
        self._log_epoch_metrics(stats)
        _say(
            f"epoch {stats.epoch}/{self.config.epochs}: train accuracy"
            f" {stats.train_accuracy:.4f} loss {stats.train_loss:.4f}, validation accuracy"
            f" {stats.validation_accuracy:.4f} loss {stats.validation_loss:.4f},"
            f" learning rate {stats.learning_rate:.6f}"
        )

    def _log_epoch_metrics(self, stats: EpochStats) -> None:
        self.run.log_metrics(stats.as_metrics(), step=stats.epoch)
        self.run.log("epoch", stats.epoch, step=stats.epoch)

    def _log_result(self, best_epoch: int, best_accuracy: float, stopped_early: bool) -> None:
        self.run.log_metrics(
            {"best_epoch": best_epoch, "best_validation_accuracy": best_accuracy}, step=0
        )
        self.run.set_tags({"stopped_early": str(stopped_early).lower()})
        _say(f"best epoch {best_epoch}: validation accuracy {best_accuracy:.4f}")

    # 4. outputs -----------------------------------------------------------------------------

    def _write_outputs(
        self, model: FittedModel, data: LabelledData, split: Split, staging: Path
    ) -> None:
        validation_paths = [data.paths[i] for i in split.validation]
        files = self._write_model_files(model, data.labels, staging)
        session = _onnx_session(files.onnx)
        parity = _parity_batch(session, validation_paths[:PARITY_IMAGES], self.spec)
        sample = validation_paths[0]
        project = generate_starter(
            staging,
            self.config.model_name,
            model_zip=files.model_zip,
            onnx_model=files.onnx,
            label_map=files.label_map,
            sample_image=sample,
        )
        # The ConsoleApp runs in a process of its own, mostly importing onnxruntime; this one
        # runs the PyTorch side of the parity check and the evaluation meanwhile, on one core.
        with console_app_started(project.console_dir) as console_app:
            self._check_parity(model.network, parity)
            logits = model.validation_logits
            if logits is None:
                logits = _onnx_logits(session, validation_paths, self.spec)
            self._evaluate(data, split, logits, staging)
            self._check_starter(project, files.model_zip, sample, console_app)

    def _write_model_files(
        self, model: FittedModel, labels: list[str], staging: Path
    ) -> ModelFiles:
        files = ModelFiles(
            staging / package.MODEL_FILE,
            staging / package.LABEL_MAP_FILE,
            staging / package.MODEL_ZIP_FILE,
        )
        self._write_model(model, files.onnx)
        _check_onnx(files.onnx)
        package.write_label_map(files.label_map, labels)
        package.write_model_zip(
            files.model_zip,
            files.onnx,
            labels,
            backbone=self.config.backbone,
            run_id=self.run.id,
            durable=STAGING_DURABLE,
        )
        return files

    def _write_model(self, model: FittedModel, path: Path) -> None:
        if model.head is None or model.featurizer is None:
            export_onnx(model.network, path, int(self.spec["crop"]), package.OUTPUT_NAME)
        else:
            compose_with_head(
                model.featurizer, _head_weights(model.head), path, durable=STAGING_DURABLE
            )

    def _check_parity(self, model: nn.Module, parity: ParityBatch) -> None:
        """PyTorch against onnxruntime on the first few validation images."""
        # One thread: the ConsoleApp is starting on the other core meanwhile, and torch's
        # threads waiting for each other on a busy machine cost more than they save here.
        with torch.no_grad(), one_thread():
            torch_logits = model(torch.from_numpy(parity.pixels)).numpy()
        difference = float(np.max(np.abs(torch_logits - parity.onnx_logits)))
        # float32 error grows with the logits' size: an untrained network (--weights none) can
        # produce logits in the hundreds, so the limit scales with them beyond 1.
        limit = PARITY_TOLERANCE * max(1.0, float(np.max(np.abs(torch_logits))))
        self.run.log("onnx_max_abs_diff", difference, step=0)
        _say(f"onnx parity: max abs difference {difference:.2e} on {len(torch_logits)} images")
        if difference > limit:
            raise JobFailed(
                f"bestModel.onnx disagrees with the PyTorch model by {difference:.2e}"
                f" (limit {limit:.2e}): report this with the run's logs",
                difference=difference,
            )

    def _evaluate(self, data: LabelledData, split: Split, logits: Any, staging: Path) -> None:
        scores = predictor.softmax(logits)
        evaluation = evaluate(
            data.labels,
            [data.targets[i] for i in split.validation],
            [int(i) for i in scores.argmax(axis=1)],
            scores,
            [str(data.paths[i]) for i in split.validation],
        )
        write_evaluation(evaluation, staging / EVALUATION_FOLDER)
        metrics = evaluation.metrics()
        self.run.log_metrics(metrics, step=0)
        _say(evaluation.summary_line())

    def _check_starter(
        self, project: StarterProject, model_zip: Path, sample: Path, app: RunningConsoleApp
    ) -> None:
        expected = predictor.load(model_zip).predict(predictor.ModelInput(ImageSource=str(sample)))
        generated = app.output()
        self.run.log(
            "starter_score_max_abs_diff",
            float(np.max(np.abs(np.asarray(expected.Score) - np.asarray(generated.Score)))),
            step=0,
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


def _onnx_session(onnx_path: Path) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


def _run_onnx(session: Any, batch: Any) -> Any:
    return session.run([package.OUTPUT_NAME], {package.INPUT_NAME: batch})[0]


def _parity_batch(session: Any, paths: Sequence[Path], spec: dict[str, Any]) -> ParityBatch:
    pixels = load_inputs(paths, spec)
    return ParityBatch(pixels, _run_onnx(session, pixels))


def _onnx_logits(session: Any, paths: Sequence[Path], spec: dict[str, Any]) -> Any:
    """bestModel.onnx's logits for the images at `paths`, decoded ONNX_BATCH at a time."""
    chunks = [
        _run_onnx(session, load_inputs(paths[start : start + ONNX_BATCH], spec))
        for start in range(0, len(paths), ONNX_BATCH)
    ]
    return np.concatenate(chunks)


def _head_logits(head: Head, features: Any) -> Any:
    with torch.no_grad(), one_thread():
        return head.eval()(torch.from_numpy(np.ascontiguousarray(features))).numpy()


def _head_weights(head: Head) -> HeadWeights:
    return HeadWeights(
        mean=head.mean.numpy(),
        std=head.std.numpy(),
        weight=head.linear.weight.detach().numpy(),
        bias=head.linear.bias.detach().numpy(),
    )


def _copy_project(outputs: Path, destination: Path) -> None:
    if destination.exists() and any(destination.iterdir()):
        raise InvalidValue(
            f"output folder {str(destination)!r} is not empty: choose a new folder",
            path=str(destination),
        )
    with folder_written_atomically(destination) as partial:
        shutil.copytree(outputs, partial)


def _params_of(config: ImageClassificationConfig) -> dict[str, object]:
    return {key: value for key, value in config.to_dict().items() if value is not None}


def _with_validation_data(data: LabelledData, held_out: HeldOutImages) -> LabelledData:
    """The training images followed by the kept validation images (the split is given)."""
    index = {label: position for position, label in enumerate(data.labels)}
    return LabelledData(
        paths=[*data.paths, *(record.path for record in held_out.records)],
        hashes=[*data.hashes, *held_out.hashes],
        labels=data.labels,
        targets=[*data.targets, *(index[record.label] for record in held_out.records)],
        validation_start=len(data.paths),
    )


def _print_report(report: GuardrailReport) -> None:
    _say(report.summary_line())
    for issue in [*report.errors, *report.warnings]:
        where = issue.path or issue.label or ""
        _say(f"  {issue.kind:<22} {where}  {issue.message}")


def _say(line: str) -> None:
    print(line, flush=True)
