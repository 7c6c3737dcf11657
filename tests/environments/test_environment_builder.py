"""Environments: a spec hash names a venv, built once with real pip and reused after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.environments import Environment, EnvironmentBuilder
from modelyard.environments.builder import COMPLETE_MARKER
from modelyard.errors import EnvironmentBuildFailed, NotFound

MISSING_PACKAGE = "modelyard-no-such-package-xyz==0.0.1"


def write_requirements(folder: Path, text: str, name: str = "requirements.txt") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run_without_pythonpath(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    # Only the venv's _modelyard_host.pth may lead it to the host's packages.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=environment
    )


def build_header_count(log_path: Path) -> int:
    return log_path.read_text(encoding="utf-8").count("building environment")


def test_spec_hash_ignores_comments_whitespace_and_order(tmp_path: Path) -> None:
    plain = write_requirements(tmp_path, "six==1.17.0\npyyaml\n", "plain.txt")
    noisy = write_requirements(
        tmp_path, "# pinned for the job\n\n  pyyaml   # loader\nsix==1.17.0  \n", "noisy.txt"
    )
    other = write_requirements(tmp_path, "six==1.16.0\npyyaml\n", "other.txt")

    plain_env = Environment.from_pip_requirements("plain", plain)
    noisy_env = Environment.from_pip_requirements("noisy", noisy)

    assert noisy_env.pip_requirements == ("pyyaml", "six==1.17.0")
    assert plain_env.spec_hash() == noisy_env.spec_hash()
    assert plain_env.spec_hash() != Environment.from_pip_requirements("o", other).spec_hash()


def test_nested_requirements_files_are_inlined(tmp_path: Path) -> None:
    write_requirements(tmp_path, "six\n", "base.txt")
    main = write_requirements(tmp_path, "-r base.txt\npyyaml\n", "main.txt")

    assert Environment.from_pip_requirements("e", main).pip_requirements == ("six", "pyyaml")


def test_environment_round_trips_through_a_dict(tmp_path: Path) -> None:
    environment = Environment("e", ("six",), python=sys.executable)

    assert Environment.from_dict(environment.to_dict()) == environment
    assert Environment.from_dict(Environment.default().to_dict()).is_default


def test_default_environment_is_the_current_interpreter_and_builds_nothing(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"

    assert EnvironmentBuilder(cache).python_for(Environment.default()) == Path(sys.executable)
    assert not cache.exists()


def test_missing_requirements_file_is_not_found_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "requirements.txt"

    with pytest.raises(NotFound) as caught:
        Environment.from_pip_requirements("e", missing)

    assert str(missing) in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.slow
def test_built_environment_imports_modelyard_and_is_reused(tmp_path: Path) -> None:
    requirements = write_requirements(tmp_path, "# tiny and pure-Python\nsix\n")
    environment = Environment.from_pip_requirements("six-env", requirements)
    builder = EnvironmentBuilder(tmp_path / "cache")
    log_path = tmp_path / "environment.log"
    killed_build = tmp_path / "cache" / environment.spec_hash()
    killed_build.mkdir(parents=True)
    (killed_build / "half-written").write_text("left by a killed build", encoding="utf-8")

    with open(log_path, "a", encoding="utf-8") as log:
        python = builder.python_for(environment, log=log)
    marker = python.parent.parent / COMPLETE_MARKER
    built_at = marker.stat().st_mtime_ns
    with open(log_path, "a", encoding="utf-8") as log:
        again = builder.python_for(environment, log=log)

    assert python == tmp_path / "cache" / environment.spec_hash() / "bin" / "python"
    assert again == python
    assert marker.stat().st_mtime_ns == built_at
    assert build_header_count(log_path) == 1
    assert "Successfully installed six" in log_path.read_text(encoding="utf-8")
    assert not (killed_build / "half-written").exists()
    imports = run_without_pythonpath(
        python,
        # A scoring replica's own modules too (a deployment's environment runs replicas).
        "import six, modelyard, sqlalchemy, modelyard.serving.app, modelyard.serving.http_protocol;"
        " print(six.__file__)",
    )
    assert imports.returncode == 0, imports.stderr
    assert imports.stdout.startswith(str(python.parent.parent))


@pytest.mark.slow
def test_failed_build_raises_leaves_nothing_reusable_and_is_retried(tmp_path: Path) -> None:
    requirements = write_requirements(tmp_path, f"{MISSING_PACKAGE}\n")
    environment = Environment.from_pip_requirements("broken", requirements)
    builder = EnvironmentBuilder(tmp_path / "cache")
    log_path = tmp_path / "environment.log"

    for _attempt in range(2):
        with (
            open(log_path, "a", encoding="utf-8") as log,
            pytest.raises(EnvironmentBuildFailed) as caught,
        ):
            builder.python_for(environment, log=log)
        error = caught.value
        assert "environment 'broken' failed to build: pip install exited with 1" in error.message
        assert "modelyard-no-such-package-xyz" in error.message
        assert "\n" not in error.message
        assert "No matching distribution" in error.context["log_tail"]
        assert error.context["spec_hash"] == environment.spec_hash()
        assert not (tmp_path / "cache" / environment.spec_hash()).exists()

    assert build_header_count(log_path) == 2
