"""The demo scenario, end to end, through the same SDK a user calls."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console

from modelyard import Experiment, ModelyardError, ScriptRunConfig, Workspace
from modelyard.cli.output import emit_mapping

SAMPLE_PROJECT = Path(__file__).parent / "sample_project"
console = Console()


def main(folder: Path | None = None) -> int:
    folder = (folder or Path.cwd() / "demo-workspace").absolute()
    try:
        run_demo(folder)
    except ModelyardError as error:
        console.print(f"[red]error:[/] {error.message}", markup=False)
        return 1
    return 0


def run_demo(folder: Path) -> None:
    workspace = _workspace(folder)
    project = folder / "project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(SAMPLE_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    config = ScriptRunConfig(project, "train.py", ["--epochs", 8, "--learning-rate", 0.05])
    run = Experiment(workspace, "demo").submit(config)
    console.print(f"Submitted run {run.id} on local compute; streaming its log:\n")
    details = run.wait_for_completion(show_output=True)
    console.print()
    emit_mapping(
        "Run",
        {
            "id": run.id,
            "experiment": details["experiment"],
            "status": details["status"],
            "compute": details["compute_target"],
            "started": details["started_at"],
            "ended": details["ended_at"],
        },
        sort=False,
    )
    emit_mapping("Params", details["params"])
    emit_mapping("Final metrics", details["metrics"])
    outputs = [name for name in run.get_file_names() if name.startswith("outputs/")]
    console.print(f"Outputs: {', '.join(outputs)}")
    console.print(
        f"Workspace: {workspace.path}; inspect the run with"
        f" `modelyard run show {run.id} -w {workspace.path}`"
    )
    workspace.close()


def _workspace(folder: Path) -> Workspace:
    if (folder / "config.json").exists():
        return Workspace.get(str(folder))
    return Workspace.create("demo-workspace", path=folder)


if __name__ == "__main__":
    sys.exit(main())
