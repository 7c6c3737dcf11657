"""The SDK's pipelines: `load_pipeline(path)` submitted with `Experiment.submit`, which returns
a PipelineRun whose steps are its child runs, in the submitting experiment."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import Experiment, PipelineRun, PublishedPipeline, Workspace, load_pipeline
from modelyard.dsl import Input, load_component, pipeline
from modelyard.errors import InvalidValue
from pipeline_projects import write_pipeline, write_project

# The project's two steps as components: the same code, commands and parameters as its
# pipeline file's, so a pipeline built from them is reused from one the file ran.
PREP_COMPONENT = """
name: prep
version: 2
inputs: {raw: {type: uri_folder}, scale: {type: integer, default: 2}}
outputs: {clean: {type: uri_folder}}
code: steps/prep
command: python prep.py --raw ${{inputs.raw}} --scale ${{inputs.scale}} --out ${{outputs.clean}}
"""

TRAIN_COMPONENT = """
name: train
inputs: {data: {type: uri_folder}}
outputs: {model: {type: uri_folder}}
code: steps/train
command: python train.py --data ${{inputs.data}} --out ${{outputs.model}}
"""


def test_a_pipeline_is_submitted_like_any_job_and_reruns(tmp_path: Path) -> None:
    ws = Workspace.create("sdk-pipe", path=tmp_path / "ws")
    try:
        loaded = load_pipeline(write_project(tmp_path / "project"))
        assert loaded.steps == ["prep", "train"]
        run = Experiment(ws, "from-sdk").submit(loaded)
        assert isinstance(run, PipelineRun)
        run.wait_for_completion()
        assert run.get_status() == "Completed"
        steps = run.get_steps()
        assert [(step["step"], step["status"]) for step in steps] == [
            ("prep", "Completed"),
            ("train", "Completed"),
        ]
        children = list(run.get_children())
        assert {child.experiment.name for child in children} == {"from-sdk"}

        again = run.rerun()
        again.wait_for_completion()
        assert [step["reused_from"] for step in again.get_steps()] == [
            step["run_id"] for step in steps
        ]

        # The same steps built in Python: a pipeline of another name, reused all the same.
        project = tmp_path / "project"
        prep = load_component(write_pipeline(project, PREP_COMPONENT, "prep.yml"))
        train = load_component(write_pipeline(project, TRAIN_COMPONENT, "train.yml"))
        assert (prep.name, prep.version) == ("prep", "2")

        @pipeline(experiment_name="from-dsl")
        def nightly(raw: Input, scale: int = 2) -> dict[str, object]:
            cleaned = prep(raw=raw, scale=scale)
            return {"model": train(data=cleaned.outputs.clean).outputs.model}

        built = nightly(raw=Input(path=str(project / "data")))
        assert built.name == "nightly" and built.steps == ["prep", "train"]
        dsl_run = Experiment(ws, "from-sdk").submit(built)
        dsl_run.wait_for_completion()
        assert dsl_run.get_status() == "Completed"
        assert [step["reused_from"] for step in dsl_run.get_steps()] == [
            step["run_id"] for step in steps
        ]
    finally:
        ws.close()


def test_a_loaded_or_built_pipeline_is_published_and_its_version_submitted_with_a_parameter(
    tmp_path: Path,
) -> None:
    ws = Workspace.create("sdk-pub", path=tmp_path / "ws")
    try:
        project = write_project(tmp_path / "project")
        first = load_pipeline(project).publish("nightly", "from its file", workspace=ws)
        assert (first.name, first.version, first.parameters["scale"]) == ("nightly", 1, 2)

        folder = project.parent
        prep = load_component(write_pipeline(folder, PREP_COMPONENT, "prep.yml"))
        train = load_component(write_pipeline(folder, TRAIN_COMPONENT, "train.yml"))

        @pipeline(experiment_name="from-dsl")
        def nightly(raw: Input, scale: int = 2) -> dict[str, object]:
            cleaned = prep(raw=raw, scale=scale)
            return {"model": train(data=cleaned.outputs.clean).outputs.model}

        built = nightly(raw=Input(path=str(folder / "data")))
        second = PublishedPipeline.publish(ws, built, "nightly", "built in Python")
        assert second.version == 2
        assert PublishedPipeline.get(ws, "nightly").version == 2  # the default: the latest
        assert [p.version for p in PublishedPipeline.list(ws)] == [2]

        run = PublishedPipeline.get(ws, "nightly", 1).submit(ws, "invoked", {"scale": 5})
        run.wait_for_completion()
        assert run.get_status() == "Completed"
        assert [step["status"] for step in run.get_steps()] == ["Completed", "Completed"]
        first.disable(ws)
        with pytest.raises(InvalidValue, match="disabled"):
            first.submit(ws, "invoked", {"scale": 3})
    finally:
        ws.close()


def test_a_dsl_input_may_name_a_data_asset_version(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project)
    prep = load_component(write_pipeline(project, PREP_COMPONENT, "prep.yml"))

    @pipeline(experiment_name="from-dsl")
    def cleaning(raw: Input) -> None:
        prep(raw=raw)

    built = cleaning(raw=Input(path="data:flowers@latest"))
    assert built._job.pipeline.inputs["raw"].value == "data:flowers@latest"  # not a path


def test_a_file_that_is_not_a_pipeline_is_refused(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("experiment_name: x\ncommand: python train.py\n")
    with pytest.raises(InvalidValue, match="is not a pipeline file: give it 'type: pipeline'"):
        load_pipeline(job)


def test_a_component_outside_a_pipeline_or_given_a_wrong_input_is_refused(
    tmp_path: Path,
) -> None:
    write_project(tmp_path)
    prep = load_component(write_pipeline(tmp_path, PREP_COMPONENT, "prep.yml"))
    with pytest.raises(InvalidValue, match="was called outside a @pipeline function"):
        prep(raw="x")

    @pipeline()
    def wrong(raw: Input) -> None:
        prep(rows=raw)

    with pytest.raises(InvalidValue, match="component 'prep' has no input 'rows': it has raw"):
        wrong(raw=Input(path=str(tmp_path / "data")))
