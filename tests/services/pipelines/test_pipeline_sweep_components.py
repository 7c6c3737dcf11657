"""A pipeline sweep whose trial is a registered component (Azure ML v2's sweep node over a
command component), end to end on SQLite in real processes: the search space's keys are the
component's inputs, the step's `inputs:` bind the others, each trial runs the version's code,
and the best trial's outputs feed a downstream step (each trial's output folder is made for
it, as a command step's is). An unchanged rerun reuses the sweep; a new version's code changes
its key; a bad trial is refused in one line with nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelyard.entities import RunStatus
from modelyard.entities.pipelines import describe_change
from modelyard.errors import InvalidValue
from modelyard.services import components
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.driver import COMPONENT_PROPERTY
from modelyard.services.pipelines.pipeline_file import pipeline_from_dict, read_config
from modelyard.services.pipelines.pipeline_job import CONFIG_FILE, PipelineJob
from modelyard.services.pipelines.reuse import ReuseKeys
from modelyard.services.pipelines.submission import driver_snapshot
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import FIT, fit_component, outputs_of, run_pipeline, write

REPORT = """
import argparse, pathlib
parser = argparse.ArgumentParser(); parser.add_argument("--best"); parser.add_argument("--out")
options = parser.parse_args()
best = pathlib.Path(options.best, "model", "lr.txt").read_text()
pathlib.Path(options.out, "best.txt").write_text(best)
"""

PIPELINE = """
type: pipeline
experiment_name: tuned
display_name: tuned
inputs:
  raw: {type: uri_folder, path: ./data}
jobs:
  tune:
    type: sweep
    trial: azureml:fit:1
    inputs: {data: '${{parent.inputs.raw}}'}
    search_space: {lr: {type: choice, values: [0.5, 2.0]}}
    sampling_algorithm: grid
    objective: {primary_metric: score, goal: maximize}
    limits: {max_total_trials: 2, max_concurrent_trials: 2}
  report:
    code: ./report
    command: python report.py --best ${{inputs.best}} --out ${{outputs.summary}}
    inputs: {best: '${{parent.jobs.tune.outputs.best_trial}}'}
    outputs: {summary: {type: uri_folder}}
"""


def fit_project(folder: Path, pipeline: str = PIPELINE) -> Path:
    """The `fit` component's files under `folder`/components, a project using it (the pipeline
    file's path)."""
    fit_component(folder / "components")
    write(folder / "project" / "data" / "a.txt", "1 2 3")
    write(folder / "project" / "report" / "report.py", REPORT)
    return write(folder / "project" / "pipeline.yml", pipeline)


def test_a_sweep_over_a_component_runs_its_trials_feeds_its_best_and_is_reused(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = fit_project(tmp_path)
    components.create_component(ws, tmp_path / "components" / "fit.yml")
    # The user's folder changes after registering: the trials run the registered code.
    write(tmp_path / "components" / "fit" / "fit.py", "raise SystemExit('not registered')\n")

    first, ran = run_pipeline(ws, path)
    assert (outputs_of(ws, ran["report"]) / "summary" / "best.txt").read_text() == "2.0"
    tune = ran["tune"].run_id
    assert ws.store.get_run(tune).source.script == "sweep (built-in)"
    assert ws.store.get_run_data(tune).properties[COMPONENT_PROPERTY] == "azureml:fit:1"
    trials = ws.store.list_runs(parent_id=tune)
    assert sorted(ws.store.get_run_data(t.id).params["lr"] for t in trials) == ["0.5", "2.0"]
    assert {t.status for t in trials} == {RunStatus.COMPLETED}

    # The driver's record reads back without a workspace: the component's command with the
    # searched input filled in by the sweep and its output a folder of the trial's outputs.
    snapshot = driver_snapshot(ws, first.id)
    recorded, _ = read_config((snapshot / CONFIG_FILE).read_bytes(), snapshot)
    step = recorded.steps["tune"]
    assert step.component == "azureml:fit:1"
    assert step.command == (
        "python",
        "fit.py",
        "--data",
        "${{inputs.data}}",
        "--lr",
        "${{search_space.lr}}",
        "--out",
        "outputs/model",
    )
    assert set(step.inputs) == {"data"}
    assert step.trial_outputs == ("model",)  # made in each trial's outputs/ before it runs

    _, again = run_pipeline(ws, path)
    assert {name: step.reused_from for name, step in again.items()} == {
        name: step.run_id for name, step in ran.items()
    }


def test_a_sweeps_key_follows_its_component_versions_code(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = fit_project(tmp_path, PIPELINE.replace("azureml:fit:1", "azureml:fit@latest"))
    files = tmp_path / "components"
    components.create_component(ws, files / "fit.yml")
    lookup = components.step_component_lookup(ws)
    spec = yaml.safe_load(path.read_text())
    first = pipeline_from_dict(spec, path.parent, components=lookup)
    write(files / "fit" / "fit.py", FIT + "# v2\n")
    assert components.create_component(ws, files / "fit.yml").version.version == 2
    second = pipeline_from_dict(spec, path.parent, components=lookup)
    assert second.steps["tune"].component == "azureml:fit:2"
    keys = [ReuseKeys(ws, p).resolve(p.steps["tune"], {}).key for p in (first, second)]
    assert describe_change(keys[0], keys[1]) == "code changed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("inputs: {data: '${{parent.inputs.raw}}'}", "inputs: {}"),
            r"step 'tune' leaves input 'data' of component azureml:fit:1 unbound, and it has"
            r" no default",
        ),
        (
            ("{lr: {type: choice", "{lrr: {type: choice"),
            r"step 'tune' searches input 'lrr', which component azureml:fit:1 does not"
            r" declare: did you mean 'lr'\?",
        ),
        (
            ("inputs: {data: '${{parent.inputs.raw}}'}", "inputs: {data: x, lr: 0.3}"),
            r"step 'tune' binds input 'lr', which its search_space also sets: remove it",
        ),
        (
            ("{lr: {type: choice", "{data: {type: choice"),
            r"step 'tune' searches input 'data' of component azureml:fit:1, which is uri_folder",
        ),
        (
            ("trial: azureml:fit:1", "trial: azureml:fti:1"),
            r"step 'tune' trial: component 'fti' is not registered: did you mean 'fit'\?",
        ),
        (
            ("trial: azureml:fit:1", "trial: fit:3"),
            r"step 'tune' trial: component 'fit' has no version 3",
        ),
        (
            ("trial: azureml:fit:1", "trial: azureml:fit:1\n    component: azureml:fit:1"),
            r"step 'tune' \(sweep\) names 'component': a sweep runs a component as its trial;"
            r" write 'trial: azureml:fit:1' instead",
        ),
    ],
)
def test_a_bad_component_trial_is_refused_in_one_line_with_nothing_created(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    ws = sqlite_workspace
    path = fit_project(tmp_path, PIPELINE.replace(*change))
    components.create_component(ws, tmp_path / "components" / "fit.yml")
    with pytest.raises(InvalidValue, match=message) as raised:
        load_job_file(path, ws)
    assert str(path) in raised.value.message
    assert "\n" not in raised.value.message
    assert ws.store.list_runs() == []


def test_a_component_trial_needs_a_workspace(tmp_path: Path) -> None:
    path = fit_project(tmp_path)
    with pytest.raises(InvalidValue, match="trial names component 'azureml:fit:1', which only"):
        load_job_file(path)


# A component whose inputs are of each type a search space may set.
KNOBS_COMPONENT = """
name: knobs
inputs:
  data: {type: uri_folder}
  epochs: {type: integer, default: 1}
  rate: {type: number, default: 0.1}
  optimizer: {type: string, default: adam}
  shuffle: {type: boolean, default: true}
outputs:
  model: {type: uri_folder}
code: ./fit
command: >-
  python fit.py --data ${{inputs.data}} --lr ${{inputs.rate}} --epochs ${{inputs.epochs}}
  --optimizer ${{inputs.optimizer}} --shuffle ${{inputs.shuffle}} --out ${{outputs.model}}
"""


def knobs_project(folder: Path, search_space: str) -> Path:
    """The `knobs` component's files and a project sweeping it over `search_space` (a YAML
    flow mapping); the pipeline file's path."""
    write(folder / "components" / "knobs.yml", KNOBS_COMPONENT)
    pipeline = PIPELINE.replace("azureml:fit:1", "azureml:knobs:1")
    pipeline = pipeline.replace("sampling_algorithm: grid", "sampling_algorithm: random")
    pipeline = pipeline.replace(
        "search_space: {lr: {type: choice, values: [0.5, 2.0]}}", f"search_space: {search_space}"
    )
    return fit_project(folder, pipeline)


def test_a_search_space_drawing_each_inputs_declared_type_is_accepted(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    path = knobs_project(
        tmp_path,
        "{epochs: {type: randint, upper: 5}, rate: {type: choice, values: [1, 0.5]},"
        " optimizer: {type: choice, values: [adam, sgd]}, shuffle: {type: choice,"
        " values: [true, false]}}",
    )
    components.create_component(sqlite_workspace, tmp_path / "components" / "knobs.yml")
    job = load_job_file(path, sqlite_workspace)
    assert isinstance(job, PipelineJob)
    whole = (
        "{epochs: {type: quniform, min_value: 2, max_value: 8, q: 2},"
        " rate: {type: uniform, min_value: 0.1, max_value: 1}}"
    )
    assert isinstance(load_job_file(knobs_project(tmp_path, whole), sqlite_workspace), PipelineJob)


@pytest.mark.parametrize(
    ("search_space", "message"),
    [
        (
            "{epochs: {type: choice, values: [a, b]}}",
            "step 'tune' search_space.epochs: choice value 'a' is a string, but component"
            " azureml:knobs:1 declares input 'epochs' integer: give whole numbers: a choice of"
            " them ({type: choice, values: [16, 32]}), randint ({type: randint, upper: 10}) or a"
            " q-variant with a whole q ({type: quniform, min_value: 16, max_value: 128, q: 16})",
        ),
        (
            "{epochs: {type: choice, values: [1, 2.5]}}",
            "step 'tune' search_space.epochs: choice value 2.5 is a decimal number, but component"
            " azureml:knobs:1 declares input 'epochs' integer: give whole numbers:",
        ),
        (
            "{epochs: {type: uniform, min_value: 1, max_value: 5}}",
            "step 'tune' search_space.epochs: {type: uniform, min_value: 1.0, max_value: 5.0}"
            " draws decimal numbers, but component azureml:knobs:1 declares input 'epochs'"
            " integer: give whole numbers: a choice of them",
        ),
        (
            "{epochs: {type: quniform, min_value: 1, max_value: 5, q: 0.5}}",
            "step 'tune' search_space.epochs: {type: quniform, min_value: 1.0, max_value: 5.0,"
            " q: 0.5} draws decimal numbers, but component azureml:knobs:1 declares input"
            " 'epochs' integer",
        ),
        (
            "{rate: {type: choice, values: [fast, 0.1]}}",
            "step 'tune' search_space.rate: choice value 'fast' is a string, but component"
            " azureml:knobs:1 declares input 'rate' number: give numbers: a choice of them"
            " ({type: choice, values: [0.01, 0.1]}) or a distribution ({type: uniform,"
            " min_value: 0.01, max_value: 0.1})",
        ),
        (
            "{optimizer: {type: choice, values: [1, 2]}}",
            "step 'tune' search_space.optimizer: choice value 1 is a whole number, but component"
            " azureml:knobs:1 declares input 'optimizer' string: give strings: a choice of them"
            " ({type: choice, values: ['adam', 'sgd']})",
        ),
        (
            "{shuffle: {type: randint, upper: 2}}",
            "step 'tune' search_space.shuffle: {type: randint, upper: 2} draws whole numbers, but"
            " component azureml:knobs:1 declares input 'shuffle' boolean: give true or false:"
            " {type: choice, values: [true, false]}",
        ),
    ],
)
def test_a_search_space_of_another_type_than_its_input_is_refused_with_nothing_created(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, search_space: str, message: str
) -> None:
    ws = sqlite_workspace
    path = knobs_project(tmp_path, search_space)
    components.create_component(ws, tmp_path / "components" / "knobs.yml")
    with pytest.raises(InvalidValue) as raised:
        load_job_file(path, ws)
    assert message in raised.value.message
    assert str(path) in raised.value.message
    assert "\n" not in raised.value.message
    searched = search_space.removeprefix("{").split(":")[0]
    assert raised.value.context["field"] == f"search_space.{searched}"
    assert ws.store.list_runs() == []
