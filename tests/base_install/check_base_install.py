"""A base install works: `pip install modelyard`, no extras, then the CLI and SDK basics.

`make base-install-check` runs this with the python of a fresh venv holding only the base
dependencies; `test_base_install.py` runs it in the dev venv with the extras' modules made
unimportable. It needs nothing but the standard library and Modelyard (no pytest), and works in
a temporary folder with a Modelyard home of its own.

Checked: `import modelyard`; `modelyard --help`, `workspace create`, `experiment list`,
`job submit` of a plain script, `run list` and `run show`, a grid sweep; the SDK's Workspace.create,
Experiment.submit(ScriptRunConfig) and Run.get_context()/log; and that each feature of an extra
(training, predicting, the server, a scoring replica, PostgreSQL) answers with one line naming
the extra to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

TIMEOUT_S = 120
SCRIPT = """\
from modelyard import Run

run = Run.get_context()
run.log("loss", 0.5)
run.log("loss", 0.25)
print("hello from a base install")
"""

# One trial of a sweep: the script ignores the value it is given and logs `loss`.
SWEEP = """\
type: sweep
experiment_name: base-sweep
sampling_algorithm: {sampling}
search_space:
  x: {{type: choice, values: [1]}}
objective: {{primary_metric: loss, goal: minimize}}
trial:
  command: python train.py ${{{{search_space.x}}}}
"""


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="modelyard-base-") as scratch:
        root = Path(scratch)
        os.environ["MODELYARD_HOME"] = str(root / "home")
        for variable in ("MODELYARD_WORKSPACE", "MODELYARD_RUN_ID", "MODELYARD_WORKSPACE_PATH"):
            os.environ.pop(variable, None)
        check_no_extra_is_installed()
        check_the_cli(root)
        check_the_sdk(root)
        check_each_extra_is_named_when_missing(root)
    print("base install: the CLI and SDK work without extras, and missing extras are named")
    return 0


def check_no_extra_is_installed() -> None:
    import modelyard
    from modelyard.extras import EXTRA_MODULES, is_installed

    print(f"modelyard {modelyard.__version__} from {Path(modelyard.__file__).parent}")
    installed = [m for modules in EXTRA_MODULES.values() for m in modules if is_installed(m)]
    assert not installed, f"not a base install: {installed} can be imported"


def check_the_cli(root: Path) -> None:
    project = root / "project"
    project.mkdir()
    (project / "train.py").write_text(SCRIPT)
    assert "workspace" in cli("--help", cwd=project).stdout
    cli("workspace", "create", "base-ws", "--path", str(root / "ws"), cwd=project)
    cli("experiment", "list", cwd=project)
    submitted = cli("job", "submit", "-e", "base", "--script", "train.py", "--stream", cwd=project)
    assert "hello from a base install" in submitted.stdout, submitted.stdout
    runs = json.loads(cli("run", "list", "-o", "json", cwd=project).stdout)
    assert [run["status"] for run in runs] == ["Completed"], runs
    shown = json.loads(cli("run", "show", runs[0]["id"], "-o", "json", cwd=project).stdout)
    assert shown["metrics"]["loss"] == 0.25, shown
    (project / "sweep.yml").write_text(SWEEP.format(sampling="grid"))
    swept = cli("job", "create", "-f", "sweep.yml", "--stream", cwd=project)
    assert "Best: trial 0" in swept.stdout, swept.stdout  # grid and random need no extra


def check_the_sdk(root: Path) -> None:
    from modelyard import Experiment, OfflineRun, Run, ScriptRunConfig, Workspace

    with Workspace.create("sdk-ws", path=root / "sdk-ws") as ws:
        run = Experiment(ws, "sdk").submit(ScriptRunConfig(root / "project", "train.py"))
        details = run.wait_for_completion(timeout=TIMEOUT_S)
        assert details["status"] == "Completed", details
        assert run.get_metrics()["loss"] == [0.5, 0.25], run.get_metrics()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        offline = Run.get_context()  # outside a job: logs nothing, fails nothing
        assert isinstance(offline, OfflineRun)
        offline.log("loss", 1.0)


def check_each_extra_is_named_when_missing(root: Path) -> None:
    project = root / "project"
    (project / "images" / "cat").mkdir(parents=True)
    train = ("train", "image-classification", "--data", "images", "-e", "cats")
    expect_missing_extra("vision", cli(*train, cwd=project, check=False))
    predict = ("predict", "--model", "MLModel.zip", "cat.png")
    expect_missing_extra("vision", cli(*predict, cwd=project, check=False))
    expect_missing_extra("server", cli("server", cwd=project, check=False))
    (project / "sweep.yml").write_text(SWEEP.format(sampling="bayesian"))
    sweep = ("job", "create", "-f", "sweep.yml")
    expect_missing_extra("sweep", cli(*sweep, cwd=project, check=False))
    postgres = ("workspace", "create", "pg-ws", "--store-uri", "postgresql://127.0.0.1/test")
    expect_missing_extra("postgres", cli(*postgres, "--no-project-config", cwd=root, check=False))
    expect_missing_extra_on_import("modelyard.predict", "vision")
    replica = [sys.executable, "-m", "modelyard.serving", "--model-dir", "model", "--no-auth"]
    expect_missing_extra(
        "serving", subprocess.run(replica, cwd=root, capture_output=True, text=True, timeout=60)
    )


def expect_missing_extra(extra: str, result: subprocess.CompletedProcess[str]) -> None:
    """One line on stderr, exit 1, naming the extra and the command that installs it."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, (result.returncode, result.stderr)
    assert f"pip install 'modelyard[{extra}]'" in lines[0], lines[0]


def expect_missing_extra_on_import(module: str, extra: str) -> None:
    from modelyard.errors import MissingExtra

    try:
        __import__(module)
    except MissingExtra as error:
        assert f"modelyard[{extra}]" in error.message, error.message
        assert isinstance(error, ImportError)
    else:
        raise AssertionError(f"import {module} worked without the {extra!r} extra")


def cli(*arguments: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*_modelyard_command(), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "COLUMNS": "200"},
    )
    if check:
        assert result.returncode == 0, (arguments, result.stdout, result.stderr)
    return result


def _modelyard_command() -> list[str]:
    """The installed console script where there is one beside this python, as a user runs it."""
    script = Path(sys.executable).parent / "modelyard"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "modelyard.cli.main"]


if __name__ == "__main__":
    sys.exit(main())
