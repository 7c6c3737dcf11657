"""A small pipeline project for the pipeline tests: `prep` sums the numbers of a data folder's
files times `--scale` into `clean/total.txt`; `train` writes `model/model.txt` from it. Each
step's code is its own folder, so a change to one step's code is that step's alone. Also
what the built-in step tests share: a pipeline file run to its end, its steps by name; and
the scripts as registered components (`fit`: one to sweep, logging its score)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from modelyard.entities import Run, RunStatus
from modelyard.services import jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace

PREP = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--raw"); parser.add_argument("--scale", type=int); parser.add_argument("--out")
options = parser.parse_args()
files = sorted(pathlib.Path(options.raw).glob("*.txt"))
numbers = [int(x) for f in files for x in f.read_text().split()]
pathlib.Path(options.out, "total.txt").write_text(str(sum(numbers) * options.scale))
print("prep wrote", sum(numbers) * options.scale)
"""

TRAIN = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--data"); parser.add_argument("--out")
options = parser.parse_args()
total = pathlib.Path(options.data, "total.txt").read_text()
pathlib.Path(options.out, "model.txt").write_text(f"model of {total}")
"""

PIPELINE = """
type: pipeline
experiment_name: pipe
display_name: etl
inputs:
  raw: {type: uri_folder, path: ./data}
  scale: 2
jobs:
  prep:
    code: steps/prep
    command: python prep.py --raw ${{inputs.raw}} --scale ${{inputs.scale}} --out ${{outputs.clean}}
    inputs: {raw: '${{parent.inputs.raw}}', scale: '${{parent.inputs.scale}}'}
    outputs: {clean: {type: uri_folder}}
  train:
    code: steps/train
    command: python train.py --data ${{inputs.data}} --out ${{outputs.model}}
    inputs: {data: '${{parent.jobs.prep.outputs.clean}}'}
    outputs: {model: {type: uri_folder}}
"""


def write_project(folder: Path, pipeline: str = PIPELINE) -> Path:
    """The project's files under `folder`; the pipeline file's path."""
    for name, script in (("prep", PREP), ("train", TRAIN)):
        (folder / "steps" / name).mkdir(parents=True, exist_ok=True)
        (folder / "steps" / name / f"{name}.py").write_text(textwrap.dedent(script))
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "a.txt").write_text("1 2 3")
    return write_pipeline(folder, pipeline)


def write_pipeline(folder: Path, text: str, name: str = "pipeline.yml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run_pipeline(ws: OpenWorkspace, path: Path) -> tuple[Run, dict[str, StepStatus]]:
    """The pipeline file at `path` submitted and awaited (it must complete); its steps (the
    components they name found in `ws`)."""
    job = load_job_file(path, ws)
    assert isinstance(job, PipelineJob)
    run = jobs.wait_for_completion(ws, submit_pipeline(ws, job).id, timeout_s=900)
    assert run.status is RunStatus.COMPLETED, run.error
    return run, {step.step: step for step in pipeline_steps(ws, run.id)}


def outputs_of(ws: OpenWorkspace, step: StepStatus) -> Path:
    """A built-in step's run's `outputs/` (the earlier run's, when it was reused)."""
    return ws.local_artifacts.run_root(step.reused_from or step.run_id) / "outputs"


# The same scripts as registered components (Azure v2 command components).
PREP_COMPONENT = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
type: command
name: prep
display_name: Prep
description: Sums the numbers, times the scale.
inputs:
  raw: {type: uri_folder}
  scale: {type: integer, default: 2}
outputs:
  clean: {type: uri_folder}
code: ./prep
command: python prep.py --raw ${{inputs.raw}} --scale ${{inputs.scale}} --out ${{outputs.clean}}
"""

TRAIN_COMPONENT = """
name: train
inputs:
  data: {type: uri_folder}
outputs:
  model: {type: uri_folder}
code: ./train
command: python train.py --data ${{inputs.data}} --out ${{outputs.model}}
"""


# A component to sweep: sums the numbers of the data folder's files; its `score` is that sum
# times the rate `lr`; its model folder holds the rate and the data path it was given (the
# folder is there when it starts, as a command step's output folder is: it does not make it).
FIT = """
import argparse, pathlib
from modelyard import Run
parser = argparse.ArgumentParser()
parser.add_argument("--data"); parser.add_argument("--lr", type=float); parser.add_argument("--out")
options = parser.parse_args()
files = pathlib.Path(options.data).glob("*.txt")
total = sum(int(x) for f in files for x in f.read_text().split())
Run.get_context().log("score", total * options.lr)
pathlib.Path(options.out, "lr.txt").write_text(str(options.lr))
pathlib.Path(options.out, "data.txt").write_text(options.data)
"""

FIT_COMPONENT = """
name: fit
inputs:
  data: {type: uri_folder}
  lr: {type: number, default: 0.1}
outputs:
  model: {type: uri_folder}
code: ./fit
command: python fit.py --data ${{inputs.data}} --lr ${{inputs.lr}} --out ${{outputs.model}}
"""


def fit_component(folder: Path) -> Path:
    """Component `fit`'s files under `folder`: its file's path."""
    write(folder / "fit" / "fit.py", FIT)
    return write(folder / "fit.yml", FIT_COMPONENT)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def components_project(folder: Path) -> dict[str, Path]:
    """`prep` and `train` components (the pipeline tests' scripts), their files' paths."""
    write(folder / "prep" / "prep.py", PREP)
    write(folder / "train" / "train.py", TRAIN)
    return {
        "prep": write(folder / "prep.yml", PREP_COMPONENT),
        "train": write(folder / "train.yml", TRAIN_COMPONENT),
    }
