"""The generated ConsoleApp, run as a user runs it: its own process, no Modelyard importable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelyard.environments.isolated_python import (
    isolated_python,
    read_requirement_names,
    resolve_distributions,
)
from modelyard.errors import InvalidValue, JobFailed, ModelyardError
from modelyard.predict import ModelOutput, load
from modelyard.vision.codegen import StarterProject
from modelyard.vision.starter_check import RunningConsoleApp, run_console_app
from vision.conftest import UNICODE_IMAGE


def assert_same_output(actual: ModelOutput, expected: ModelOutput) -> None:
    assert actual.Prediction == expected.Prediction
    assert actual.Score == pytest.approx(expected.Score, abs=1e-6)


def requirements_of(starter: StarterProject) -> Path:
    return starter.model_dir / "requirements.txt"


def test_the_console_app_predicts_its_sample_image_as_modelyard_does(
    starter_project: StarterProject, tiny_model_zip: Path, sample_images: dict[str, Path]
) -> None:
    expected = load(tiny_model_zip).predict(sample_images[UNICODE_IMAGE])

    assert_same_output(run_console_app(starter_project.console_dir), expected)


def test_the_console_app_predicts_an_image_given_on_the_command_line(
    starter_project: StarterProject, tiny_model_zip: Path, sample_images: dict[str, Path]
) -> None:
    predictor = load(tiny_model_zip)
    for name in ("red.png", "green.jpg"):
        output = run_console_app(starter_project.console_dir, sample_images[name])

        assert_same_output(output, predictor.predict(sample_images[name]))


def test_the_console_app_prints_prediction_and_score_for_people(
    starter_project: StarterProject, tiny_model_zip: Path, sample_images: dict[str, Path]
) -> None:
    expected = load(tiny_model_zip).predict(sample_images[UNICODE_IMAGE])
    with isolated_python(requirements_of(starter_project)) as python:
        result = python.run(["main.py"], cwd=starter_project.console_dir)

    assert result.returncode == 0, result.stderr
    prediction, score = result.stdout.splitlines()
    assert prediction == f"Prediction: {expected.Prediction}"
    assert score.startswith("Score: [")


def test_modelyard_cannot_be_imported_in_the_isolated_python(
    starter_project: StarterProject, tmp_path: Path
) -> None:
    with isolated_python(requirements_of(starter_project)) as python:
        modelyard = python.run(["-c", "import modelyard"], cwd=tmp_path)
        requirements = python.run(
            ["-c", "import numpy, onnxruntime, PIL, sys; print(sys.flags.no_site)"], cwd=tmp_path
        )

    assert modelyard.returncode != 0
    assert "No module named 'modelyard'" in modelyard.stderr
    assert requirements.returncode == 0, requirements.stderr
    assert requirements.stdout.strip() == "1"


def test_only_the_named_distributions_and_their_requirements_are_linked(
    starter_project: StarterProject, tmp_path: Path
) -> None:
    names = read_requirement_names(requirements_of(starter_project))
    resolved = {
        distribution.metadata["Name"].lower() for distribution in resolve_distributions(names)
    }

    assert names == ["onnxruntime", "pillow", "numpy"]
    assert {"onnxruntime", "pillow", "numpy", "protobuf"} <= resolved
    assert not {"torch", "modelyard", "sympy"} & resolved  # sympy is only onnxruntime[symbolic].


def test_requirement_lines_are_read_without_versions_markers_or_comments(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\n\nnumpy>=1.26  # why\nPillow[extra] ; python_version>'3'\n")

    assert read_requirement_names(requirements) == ["numpy", "Pillow"]


def test_an_option_line_in_requirements_is_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--index-url https://example.invalid\n")

    with pytest.raises(InvalidValue, match="cannot read requirement"):
        read_requirement_names(requirements)


def test_a_failing_console_app_is_reported_with_the_end_of_its_stderr(
    starter_project: StarterProject, tmp_path: Path
) -> None:
    with pytest.raises(JobFailed) as caught:
        run_console_app(starter_project.console_dir, tmp_path / "missing.jpg")

    message = caught.value.message
    assert "exited with 1" in message
    assert "no such file; fix: check the path" in message
    assert "\n" not in message


def test_an_image_the_console_app_cannot_use_is_one_line_as_modelyard_predict_says(
    starter_project: StarterProject, tiny_model_zip: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("these are my notes, not a photo\n")
    folder = tmp_path / "photos.jpg"
    folder.mkdir()
    predictor = load(tiny_model_zip)
    with isolated_python(requirements_of(starter_project)) as python:
        for image in (tmp_path / "missing.jpg", notes, folder):
            result = python.run(["main.py", str(image)], cwd=starter_project.console_dir)
            with pytest.raises(ModelyardError) as expected:
                predictor.predict(image)

            assert result.returncode == 1, image
            assert result.stdout == ""
            assert result.stderr == f"error: {expected.value.message}\n"


def test_a_folder_that_is_not_a_console_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="should end with"):
        run_console_app(tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_console_app_runs_in_a_fresh_venv_from_its_requirements(
    starter_project: StarterProject,
    tiny_model_zip: Path,
    sample_images: dict[str, Path],
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(requirements_of(starter_project))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"  # The starter project is shared: keep it clean.

    result = subprocess.run(
        [str(python), "main.py", "--json"],
        cwd=starter_project.console_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    expected = load(tiny_model_zip).predict(sample_images[UNICODE_IMAGE])
    assert_same_output(ModelOutput(printed["Prediction"], printed["Score"]), expected)


def test_an_app_that_finished_while_the_caller_worked_is_not_timed_out(tmp_path: Path) -> None:
    # The limit runs from output(): the trainer works meanwhile, past the limit on a long run.
    printed = '{"Prediction": "cat", "Score": [0.9, 0.1]}'
    process = subprocess.Popen(
        [sys.executable, "-c", f"print({printed!r})"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    app = RunningConsoleApp(process, tmp_path / "main.py", timeout_s=0.2)
    time.sleep(0.5)
    assert app.output() == ModelOutput("cat", [0.9, 0.1])
