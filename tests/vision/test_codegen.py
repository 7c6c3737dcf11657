"""Generated starter code: Model Builder's two projects, plain Python without Modelyard."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists, InvalidName, InvalidValue, NotFound
from modelyard.vision import codegen, preprocessing
from modelyard.vision.codegen import StarterProject, generate_starter
from vision.conftest import UNICODE_IMAGE

MODEL_FILES = {
    "model_input.py",
    "model_output.py",
    "consume_model.py",
    "image_preprocessing.py",
    "bestModel.onnx",
    "bestModelMap.json",
    "MLModel.zip",
    "requirements.txt",
}
RUFF = Path(sys.executable).parent / "ruff"
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def generate(
    destination: Path, name: str, assets: dict[str, Path], **options: bool
) -> StarterProject:
    return generate_starter(destination, name, **assets, **options)  # type: ignore[arg-type]


@pytest.fixture
def assets(
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
    sample_images: dict[str, Path],
) -> dict[str, Path]:
    return {
        "model_zip": tiny_model_zip,
        "onnx_model": tiny_onnx_model,
        "label_map": tiny_label_map,
        "sample_image": sample_images["red.png"],
    }


def project_lint_rules() -> list[str]:
    lint = tomllib.loads(PYPROJECT.read_text())["tool"]["ruff"]["lint"]
    return ["--select", ",".join(lint["select"]), "--ignore", ",".join(lint["ignore"])]


def file_names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_two_projects_are_written_beside_each_other(starter_project: StarterProject) -> None:
    assert starter_project.model_dir.name == "Flowers.Model"
    assert starter_project.console_dir.name == "Flowers.ConsoleApp"
    assert starter_project.model_dir.parent == starter_project.console_dir.parent
    assert file_names(starter_project.model_dir) == MODEL_FILES
    assert file_names(starter_project.console_dir) == {"main.py", UNICODE_IMAGE}


def test_preprocessing_is_a_byte_for_byte_copy_of_modelyards(
    starter_project: StarterProject,
) -> None:
    copied = (starter_project.model_dir / "image_preprocessing.py").read_bytes()

    assert copied == Path(preprocessing.__file__).read_bytes()


def test_the_assets_are_copied_unchanged(
    starter_project: StarterProject,
    tiny_model_zip: Path,
    tiny_onnx_model: Path,
    tiny_label_map: Path,
    sample_images: dict[str, Path],
) -> None:
    model_dir = starter_project.model_dir

    assert (model_dir / "bestModel.onnx").read_bytes() == tiny_onnx_model.read_bytes()
    assert (model_dir / "bestModelMap.json").read_bytes() == tiny_label_map.read_bytes()
    assert (model_dir / "MLModel.zip").read_bytes() == tiny_model_zip.read_bytes()
    sample = starter_project.console_dir / UNICODE_IMAGE
    assert sample.read_bytes() == sample_images[UNICODE_IMAGE].read_bytes()


def test_requirements_are_onnxruntime_pillow_numpy_from_the_installed_versions(
    starter_project: StarterProject,
) -> None:
    text = (starter_project.model_dir / "requirements.txt").read_text()
    requirements = [line for line in text.splitlines() if not line.startswith("#")]

    assert requirements == [
        f"{name}>={importlib.metadata.version(name)}" for name in ("onnxruntime", "pillow", "numpy")
    ]


def test_the_generated_code_imports_only_the_standard_library_and_its_requirements(
    starter_project: StarterProject,
) -> None:
    local = {"consume_model", "model_input", "model_output", "image_preprocessing"}
    allowed = set(sys.stdlib_module_names) | {"numpy", "onnxruntime", "PIL"} | local
    for folder in (starter_project.model_dir, starter_project.console_dir):
        for source in folder.glob("*.py"):
            imports = imported_modules(source.read_text(encoding="utf-8"))

            assert "modelyard" not in imports, source
            assert imports <= allowed, (source, imports - allowed)


def test_the_console_app_refers_to_its_model_project_and_sample_image(
    starter_project: StarterProject,
) -> None:
    source = (starter_project.console_dir / "main.py").read_text(encoding="utf-8")

    assert 'MODEL_PROJECT = HERE.parent / "Flowers.Model"' in source
    assert f'SAMPLE_IMAGE = HERE / "{UNICODE_IMAGE}"' in source
    assert "{{" not in source


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed beside this python")
def test_the_generated_code_is_lint_clean_and_formatted(starter_project: StarterProject) -> None:
    for folder in (starter_project.model_dir, starter_project.console_dir):
        for command in (["check", *project_lint_rules()], ["format", "--check"]):
            # --isolated: the generated folder is its own project, its modules first-party.
            result = subprocess.run(
                [str(RUFF), *command, "--isolated", "--line-length", "100", "."],
                cwd=folder,
                capture_output=True,
                text=True,
            )

            assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["", "../evil", "my model", "a/b", ".hidden", "-x", "a" * 65])
def test_an_unsafe_project_name_is_refused_and_nothing_is_written(
    tmp_path: Path, assets: dict[str, Path], name: str
) -> None:
    with pytest.raises(InvalidName, match="invalid starter project name"):
        generate(tmp_path / "out", name, assets)

    assert not (tmp_path / "out").exists()


def test_existing_projects_are_kept_unless_overwrite_is_given(
    tmp_path: Path, assets: dict[str, Path]
) -> None:
    first = generate(tmp_path, "Pets", assets)
    (first.model_dir / "my_notes.txt").write_text("mine")

    with pytest.raises(AlreadyExists, match=r"Pets.Model.*already exists.*overwrite=True"):
        generate(tmp_path, "Pets", assets)
    assert (first.model_dir / "my_notes.txt").exists()

    second = generate(tmp_path, "Pets", assets, overwrite=True)
    assert second == first
    assert file_names(second.model_dir) == MODEL_FILES  # Replaced, not merged.
    assert file_names(tmp_path) == {"Pets.Model", "Pets.ConsoleApp"}


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path: Path, assets: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(codegen, "_write_console_project", fail)

    with pytest.raises(InvalidValue, match=r"cannot write the starter projects.*No space left"):
        generate(tmp_path, "Pets", assets)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_moving_into_place_restores_the_old_projects(
    tmp_path: Path, assets: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = generate(tmp_path, "Pets", assets)
    for folder in (old.model_dir, old.console_dir):
        (folder / "marker").write_text("old")
    real_rename = Path.rename

    def rename_failing_for_the_new_console_app(self: Path, target: Path) -> Path:
        if self.parent.name.startswith(".Pets-starter-") and self.name == "Pets.ConsoleApp":
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_failing_for_the_new_console_app)

    with pytest.raises(InvalidValue, match="Input/output error"):
        generate(tmp_path, "Pets", assets, overwrite=True)
    assert (old.model_dir / "marker").read_text() == "old"  # The new model project was undone.
    assert (old.console_dir / "marker").read_text() == "old"
    assert file_names(tmp_path) == {"Pets.Model", "Pets.ConsoleApp"}


def test_a_label_map_from_another_run_is_refused(tmp_path: Path, assets: dict[str, Path]) -> None:
    other = tmp_path / "bestModelMap.json"
    other.write_text(json.dumps(["x", "y", "z"]))

    with pytest.raises(InvalidValue, match="does not hold the labels inside"):
        generate(tmp_path / "out", "Pets", {**assets, "label_map": other})


def test_missing_inputs_are_not_found(tmp_path: Path, assets: dict[str, Path]) -> None:
    for key in ("model_zip", "onnx_model", "label_map", "sample_image"):
        with pytest.raises(NotFound, match="no such file"):
            generate(tmp_path / "out", "Pets", {**assets, key: tmp_path / "missing"})


def test_a_sample_image_that_cannot_be_decoded_is_refused(
    tmp_path: Path, assets: dict[str, Path]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")

    with pytest.raises(InvalidValue, match=r"sample image .*broken.png.* cannot be used"):
        generate(tmp_path / "out", "Pets", {**assets, "sample_image": broken})
