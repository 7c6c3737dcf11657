"""The designer's server side, without a server: the palette read from the built-in kinds'
table and the port rule, a definition judged by the CLI's own reading (its first problem with
the step and field), and a submission from a browser refused, with nothing created, when a
step runs code from a folder or an input is a path."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities.data import DataVersionRequest
from modelyard.entities.pipeline_steps import BUILTIN_STEP_KINDS, PortType
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import components, data, runs
from modelyard.services.pipelines import designer, designer_palette
from modelyard.services.pipelines.designer import DesignerSubmission
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import components_project

COMPONENT_PIPELINE = """\
type: pipeline
experiment_name: drawn
display_name: etl
inputs:
  raw: {type: uri_folder, path: 'data:numbers@latest'}
jobs:
  prep:
    component: azureml:prep:1
    inputs: {raw: '${{parent.inputs.raw}}'}
  train:
    component: azureml:train@latest
    inputs: {data: '${{parent.jobs.prep.outputs.clean}}'}
"""
# A sweep over component prep's `scale`, its `raw` bound by the step.
_SWEEP = """\
  tune:
    type: sweep
    trial: azureml:prep:1
    inputs: {raw: '${{parent.inputs.raw}}'}
    search_space: {scale: {type: choice, values: [1, 2]}}
    objective: {primary_metric: total, goal: maximize}
"""
_FOLDER_SWEEP = """\
  tune:
    type: sweep
    trial: {code: ., command: 'python prep.py --scale ${{search_space.scale}}'}
    search_space: {scale: {type: choice, values: [1, 2]}}
    objective: {primary_metric: total, goal: maximize}
"""
_SCORE = """\
  score:
    type: batch_score
    inputs: {model: 'model:m@latest', data: '${{parent.inputs.raw}}'}
    mini_batch_size: [1]
"""


@pytest.fixture
def ws(sqlite_workspace: OpenWorkspace, tmp_path: Path) -> OpenWorkspace:
    """The `prep` and `train` components (train archived at version 2), a data asset."""
    files = components_project(tmp_path / "components")
    components.create_component(sqlite_workspace, files["prep"])
    components.create_component(sqlite_workspace, files["train"])
    (tmp_path / "components" / "train" / "train.py").write_text("print('v2')\n")
    components.create_component(sqlite_workspace, files["train"])
    components.set_archived(sqlite_workspace, "train:2", True)
    (tmp_path / "numbers").mkdir()
    (tmp_path / "numbers" / "a.txt").write_text("1 2 3")
    data.create_data(sqlite_workspace, tmp_path / "numbers", DataVersionRequest("numbers"))
    return sqlite_workspace


def test_the_palette_offers_every_built_in_kind_and_the_servers_port_rule(
    ws: OpenWorkspace,
) -> None:
    palette = designer_palette.palette(ws)
    types = {entry["type"]: entry for entry in palette["step_types"]}
    assert list(types) == ["command", *BUILTIN_STEP_KINDS]
    for name, kind in BUILTIN_STEP_KINDS.items():
        assert [port["name"] for port in types[name]["inputs"]] == list(kind.inputs)
        for port in types[name]["inputs"]:
            spec = kind.inputs[port["name"]]
            assert port["types"] == sorted(t.value for t in spec.types)
            assert port["required"] is spec.required
        assert [port["name"] for port in types[name]["outputs"]] == list(kind.outputs)
        required = {field["name"] for field in types[name]["fields"] if field["required"]}
        assert required == set(kind.required_fields)
        names = [f["name"] for f in types[name]["fields"]]
        assert set(names) >= set(kind.fields) | {"compute"} and len(names) == len(set(names))
        assert types[name]["runs_code"] is kind.runs_code
    assert types["command"]["inputs"] == [] and types["command"]["fields"][0]["name"] == "component"
    # A sweep's code is its trial's registered component, picked from the components.
    trial = next(field for field in types["sweep"]["fields"] if field["name"] == "trial")
    assert (trial["kind"], trial["required"]) == ("component", True)

    accepts = {entry["type"]: entry["accepts"] for entry in palette["port_types"]}
    for port in PortType:
        assert accepts[port.value] == [s.value for s in PortType if port.accepts(s)]
    assert accepts["number"] == ["number", "integer"]

    shown = {c["name"]: c for c in palette["components"]}
    assert shown["train"]["version"] == 1  # version 2 is archived
    assert shown["prep"]["inputs"] == [
        {"name": "raw", "type": "uri_folder", "optional": False, "default": None},
        {"name": "scale", "type": "integer", "optional": False, "default": 2},
    ]
    assert shown["prep"]["description"] == "Sums the numbers, times the scale."
    assert palette["computes"] == ["local"]
    assert palette["data_assets"] == [
        {"name": "numbers", "latest_version": 1, "type": "uri_folder"}
    ]


@pytest.mark.parametrize(
    ("change", "message", "step", "field"),
    [
        (("azureml:prep:1", "azureml:prep:9"), "has no version 9", "prep", "component"),
        (("clean}}", "cleen}}"), "did you mean 'clean'?", "train", "inputs.data"),
        (("experiment_name: drawn\n", ""), "needs 'experiment_name'", None, "experiment_name"),
        (("  train:", "  train:\n    type: autom1"), "has type 'autom1'", "train", "type"),
        (("jobs:", "jobs: ["), "is not valid YAML at line 8", None, "definition"),
        (
            ("  train:\n", "  train:\n    compute: gpu\n"),
            "compute 'gpu' not found",
            "train",
            "compute",
        ),
        (("drawn", "'two words'"), "invalid experiment name 'two words'", None, "experiment_name"),
        (
            ("  train:\n", _SWEEP.replace("{scale:", "{scael:") + "  train:\n"),
            "step 'tune' searches input 'scael', which component azureml:prep:1 does not"
            " declare: did you mean 'scale'?",
            "tune",
            "search_space.scael",
        ),
        (
            ("  train:\n", _SCORE + "  train:\n"),
            "mini_batch_size is [1]: give a whole number",
            "score",
            "mini_batch_size",
        ),
        (
            ("  train:\n", _SCORE.replace("[1]", "2\n    error_threshold: {a: 1}") + "  train:\n"),
            "error_threshold is {'a': 1}: give a count of files (10), a share ('2.5%') or -1",
            "score",
            "error_threshold",
        ),
    ],
)
def test_a_definition_that_cannot_run_answers_its_problem_with_step_and_field(
    ws: OpenWorkspace, change: tuple[str, str], message: str, step: str | None, field: str
) -> None:
    checked = designer.check_definition(ws, COMPONENT_PIPELINE.replace(*change))
    assert checked.problem is not None, checked
    assert message in checked.problem.message and "\n" not in checked.problem.message
    assert (checked.problem.step, checked.problem.field) == (step, field)


def test_a_sound_definition_has_no_problem(ws: OpenWorkspace) -> None:
    checked = designer.check_definition(ws, COMPONENT_PIPELINE)
    assert checked.to_dict() == {"name": "etl", "experiment": "drawn", "problem": None}
    # YAML reads a threshold of 10 as a number: the step takes it as the count it is.
    scored = _SCORE.replace("[1]", "4\n    error_threshold: 10") + "  train:\n"
    assert (
        designer.check_definition(ws, COMPONENT_PIPELINE.replace("  train:\n", scored)).problem
        is None
    )
    swept = designer.check_definition(
        ws, COMPONENT_PIPELINE.replace("  train:\n", _SWEEP + "  train:\n")
    )
    assert swept.problem is None


@pytest.mark.parametrize(
    ("definition", "words"),
    [
        (
            COMPONENT_PIPELINE.replace(
                "    component: azureml:prep:1\n",
                "    command: python prep.py --raw ${{inputs.raw}} --out ${{outputs.clean}}\n"
                "    outputs: {clean: {type: uri_folder}}\n",
            ),
            "step 'prep' runs code from a folder, which a browser cannot send: register",
        ),
        (
            COMPONENT_PIPELINE.replace("'data:numbers@latest'", "/etc"),
            "pipeline input 'raw' is a path, which the designer cannot send",
        ),
        (COMPONENT_PIPELINE.replace("prep:1", "prep:3"), "component 'prep' has no version 3"),
        (
            COMPONENT_PIPELINE.replace("  train:\n", _FOLDER_SWEEP + "  train:\n"),
            "step 'tune' runs code from a folder, which a browser cannot send: register the code"
            " as a component (`modelyard component create -f COMPONENT.yml`) and give the step"
            " 'trial: NAME:VERSION'",
        ),
        ("- not a pipeline\n", "not a mapping"),
    ],
)
def test_a_submission_that_cannot_come_from_a_browser_is_refused_with_nothing_created(
    ws: OpenWorkspace, definition: str, words: str
) -> None:
    with pytest.raises((InvalidValue, NotFound)) as refused:
        designer.submit_definition(ws, DesignerSubmission(definition, draft="etl"))
    assert words in refused.value.message and "\n" not in refused.value.message
    assert ws.store.list_runs() == []


def test_a_run_that_is_not_a_pipeline_has_no_graph(ws: OpenWorkspace) -> None:
    run = ws.store.create_run("plain", user="ana")
    with pytest.raises(NotFound, match="is not a pipeline run"):
        designer.run_graph(ws, run.id)
    with pytest.raises(NotFound):
        designer.run_graph(ws, "0" * 32)
    assert runs.get_run(ws, run.id).id == run.id
