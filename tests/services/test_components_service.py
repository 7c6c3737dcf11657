"""Registered components on real SQLite and real PostgreSQL: each registration with new content
is the next immutable version (its code snapshotted), the same content returns the version
holding it, archived versions leave `@latest`, and a pipeline step naming a component runs
that version's code end to end in real processes, reused while nothing changes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.errors import AlreadyExists, InvalidValue, ModelyardError, NotFound
from modelyard.services import components, jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.driver import COMPONENT_PROPERTY
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import (
    PREP,
    PREP_COMPONENT,
    TRAIN,
    TRAIN_COMPONENT,
    components_project,
    write,
)

PIPELINE = """
type: pipeline
experiment_name: pipe
display_name: etl
inputs:
  raw: {type: uri_folder, path: ./data}
jobs:
  prep:
    component: azureml:prep:1
    inputs: {raw: '${{parent.inputs.raw}}'}
  train:
    component: azureml:train@latest
    inputs: {data: '${{parent.jobs.prep.outputs.clean}}'}
"""


# Registering and versions ------------------------------------------------------------------


def test_new_content_is_the_next_version_and_the_same_content_returns_the_one_holding_it(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    files = components_project(tmp_path)
    first = components.create_component(workspace, files["prep"])
    assert (first.created, first.version.version) == (True, 1)
    assert first.version.reference == "azureml:prep:1"
    assert first.version.spec.inputs["scale"].default == 2

    again = components.create_component(workspace, files["prep"])
    assert (again.created, again.version.version) == (False, 1)
    assert again.version.content_hash == first.version.content_hash

    write(tmp_path / "prep" / "prep.py", PREP + "# a change of code\n")
    coded = components.create_component(workspace, files["prep"])
    assert (coded.created, coded.version.version) == (True, 2)
    assert coded.version.code_hash != first.version.code_hash

    write(files["prep"], PREP_COMPONENT.replace("display_name: Prep", "display_name: Prep 2"))
    described = components.create_component(workspace, files["prep"])
    assert (described.created, described.version.version) == (True, 3)
    assert described.version.code_hash == coded.version.code_hash

    versions = components.list_versions(workspace, "prep")
    assert [v.version for v in versions] == [3, 2, 1]
    [summary] = components.list_components(workspace)
    assert (summary.name, summary.latest_version, summary.version_count) == ("prep", 3, 3)


def test_a_version_asked_for_is_taken_and_one_holding_other_content_is_refused(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    files = components_project(tmp_path)
    write(files["train"], "version: 5\n" + TRAIN_COMPONENT)
    assert components.create_component(workspace, files["train"]).version.version == 5
    assert not components.create_component(workspace, files["train"]).created

    write(tmp_path / "train" / "train.py", TRAIN + "# changed\n")
    with pytest.raises(AlreadyExists, match=r"train:5 is registered already with other content"):
        components.create_component(workspace, files["train"])

    write(files["train"], TRAIN_COMPONENT)  # no version: the next after 5
    assert components.create_component(workspace, files["train"]).version.version == 6


def test_a_version_keeps_its_code_when_the_folder_changes(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    files = components_project(tmp_path)
    write(tmp_path / "train" / ".gitignore", "scratch/\n")
    write(tmp_path / "train" / "scratch" / "big.bin", "ignored")
    version = components.create_component(workspace, files["train"]).version
    write(tmp_path / "train" / "train.py", "raise SystemExit('not this one')\n")

    code = components.code_path(workspace, version)
    assert (code / "train.py").read_text() == textwrap.dedent(TRAIN)
    assert not (code / "scratch").exists()
    manifest = components.read_code_manifest(workspace, version)
    assert [entry.relpath for entry in manifest.entries] == [".gitignore", "train.py"]


def test_an_archived_version_leaves_latest_and_lists_but_is_still_named(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    files = components_project(tmp_path)
    components.create_component(workspace, files["train"])
    write(tmp_path / "train" / "train.py", TRAIN + "# v2\n")
    components.create_component(workspace, files["train"])

    archived = components.set_archived(workspace, "train:2", True)
    assert archived.archived
    assert components.get_component_version(workspace, "azureml:train@latest").version == 1
    assert [v.version for v in components.list_versions(workspace, "train")] == [1]
    assert len(components.list_versions(workspace, "train", include_archived=True)) == 2
    assert components.get_component_version(workspace, "train:2").archived

    components.set_archived(workspace, "train:1", True)
    with pytest.raises(NotFound, match="has no version that is not archived"):
        components.get_component_version(workspace, "train")
    components.set_archived(workspace, "train:2", False)
    assert components.get_component_version(workspace, "train").version == 2
    with pytest.raises(InvalidValue, match="names no version"):
        components.set_archived(workspace, "train", True)


# Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("{type: integer, default: 2}", "{type: tensor}"),
            r"prep\.yml: input 'scale' has type 'tensor': use one of uri_folder",
        ),
        (
            ("--scale ${{inputs.scale}}", "--scale ${{inputs.scael}}"),
            r"command uses \$\{\{inputs.scael\}\}, which it does not declare under inputs:"
            r" did you mean 'scale'\?",
        ),
        (
            ("--out ${{outputs.clean}}", "--out ${{outputs.model}}"),
            r"\$\{\{outputs.model\}\}, which it does not declare under outputs",
        ),
        (("code: ./prep", "code: ./missing"), r"code './missing' is not a folder"),
        (("type: command", "type: pipeline"), r"type is 'pipeline': only command components"),
        (("default: 2", "default: two"), r"input 'scale' default is integer but its value"),
    ],
)
def test_a_bad_component_file_is_refused_in_one_line_naming_it(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    files = components_project(tmp_path)
    write(files["prep"], PREP_COMPONENT.replace(*change))
    with pytest.raises(ModelyardError, match=message) as raised:
        components.create_component(sqlite_workspace, files["prep"])
    assert str(files["prep"]) in raised.value.message
    assert "\n" not in raised.value.message
    assert components.list_components(sqlite_workspace) == []


def test_an_unknown_component_or_version_names_the_closest(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    files = components_project(tmp_path)
    components.create_component(sqlite_workspace, files["train"])
    with pytest.raises(NotFound, match=r"component 'trian' is not registered: did you mean"):
        components.get_component_version(sqlite_workspace, "trian:1")
    with pytest.raises(NotFound, match=r"component 'train' has no version 7: its versions are 1"):
        components.get_component_version(sqlite_workspace, "azureml:train:7")
    with pytest.raises(InvalidValue, match=r"only @latest is known"):
        components.get_component_version(sqlite_workspace, "train@newest")


# Pipelines ---------------------------------------------------------------------------------


def steps_of(ws: OpenWorkspace, path: Path) -> dict[str, StepStatus]:
    """The steps of a completed run of the pipeline file at `path`."""
    job = load_job_file(path, ws)
    assert isinstance(job, PipelineJob)
    run = jobs.wait_for_completion(ws, submit_pipeline(ws, job).id, timeout_s=240)
    assert run.status is RunStatus.COMPLETED, run.error
    return {step.step: step for step in pipeline_steps(ws, run.id)}


def component_of(ws: OpenWorkspace, step: StepStatus) -> str:
    """The component version the step's run records."""
    return ws.store.get_run_data(step.run_id).properties[COMPONENT_PROPERTY]


def test_a_pipeline_runs_registered_components_and_reuses_them_until_a_version_changes(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    # SQLite alone: finding versions (`@latest`, a number) runs on both stores in the tests
    # above; three pipeline runs on each would only repeat it.
    ws = sqlite_workspace
    files = components_project(tmp_path / "components")
    components.create_component(ws, files["prep"])
    components.create_component(ws, files["train"])
    write(tmp_path / "project" / "data" / "a.txt", "1 2 3")
    path = write(tmp_path / "project" / "pipeline.yml", PIPELINE)
    # The user's folders change after registering: the steps run the registered code.
    write(tmp_path / "components" / "prep" / "prep.py", "raise SystemExit('not registered')\n")

    first = steps_of(ws, path)
    assert [step.reason for step in first.values()] == ["first run", "first run"]
    root = ws.local_artifacts.run_root(first["train"].run_id)
    assert (root / "outputs" / "model" / "model.txt").read_text() == "model of 12"
    assert component_of(ws, first["prep"]) == "azureml:prep:1"
    assert component_of(ws, first["train"]) == "azureml:train:1"

    second = steps_of(ws, path)
    assert second["train"].reused_from == first["train"].run_id
    assert component_of(ws, second["train"]) == "azureml:train:1"

    write(tmp_path / "components" / "train" / "train.py", TRAIN + "# v2\n")
    assert components.create_component(ws, files["train"]).version.version == 2
    third = steps_of(ws, path)  # train@latest is now version 2
    assert third["prep"].reused_from == first["prep"].run_id
    assert third["train"].reason == "code changed"
    assert component_of(ws, third["train"]) == "azureml:train:2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("azureml:train@latest", "azureml:trian@latest"),
            r"step 'train' component: component 'trian' is not registered: did you mean"
            r" 'train'\?",
        ),
        (("azureml:prep:1", "prep:4"), r"component 'prep' has no version 4: its versions are 1"),
        (
            ("{raw: '${{parent.inputs.raw}}'}", "{rwa: '${{parent.inputs.raw}}'}"),
            r"step 'prep' binds input 'rwa', which component azureml:prep:1 does not declare:"
            r" did you mean 'raw'\?",
        ),
        (
            ("{raw: '${{parent.inputs.raw}}'}", "{}"),
            r"step 'prep' leaves input 'raw' of component azureml:prep:1 unbound",
        ),
        (
            ("{data: '${{parent.jobs.prep.outputs.clean}}'}", "{data: 3}"),
            r"step 'train' input 'data' is uri_folder but is fed the literal 3, which is"
            r" integer",
        ),
        (
            ("component: azureml:prep:1", "component: azureml:prep:1\n    type: automl"),
            r"step 'prep' has type 'automl' but component azureml:prep:1 is a command component",
        ),
        (
            ("component: azureml:prep:1", "component: azureml:prep:1\n    command: python x.py"),
            r"step 'prep' names component 'azureml:prep:1' and also sets 'command'",
        ),
    ],
)
def test_a_step_naming_a_component_badly_is_refused_in_one_line(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    files = components_project(tmp_path / "components")
    components.create_component(sqlite_workspace, files["prep"])
    components.create_component(sqlite_workspace, files["train"])
    write(tmp_path / "project" / "data" / "a.txt", "1 2 3")
    path = write(tmp_path / "project" / "pipeline.yml", PIPELINE.replace(*change))
    with pytest.raises(InvalidValue, match=message) as raised:
        load_job_file(path, sqlite_workspace)
    assert str(path) in raised.value.message
    assert "\n" not in raised.value.message


def test_a_pipeline_naming_a_component_needs_a_workspace(tmp_path: Path) -> None:
    path = write(tmp_path / "pipeline.yml", PIPELINE)
    with pytest.raises(InvalidValue, match="only a workspace can resolve"):
        load_job_file(path)
