"""Published pipelines on real SQLite and PostgreSQL with real processes: a pipeline file (or a
pipeline run) published as numbered immutable versions; an invocation's parameters reach the
steps; the default version is the latest until one is set; a disabled version, an unknown
parameter or a wrong type is refused before any run exists; a failed publication leaves
nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines import published
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.published import Invocation
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import write_project


def pipeline_job(path: Path) -> PipelineJob:
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    return job


def model_text(ws: OpenWorkspace, run: Run) -> str:
    """What the pipeline's `train` step wrote: "model of <sum of the data × scale>"."""
    done = jobs.wait_for_completion(ws, run.id, timeout_s=240)
    assert done.status is RunStatus.COMPLETED, done.error
    train = {s.step: s for s in pipeline_steps(ws, run.id)}["train"]
    run_id = train.reused_from or train.run_id
    return (ws.local_artifacts.run_root(run_id) / "outputs/model/model.txt").read_text()


def published_files(ws: OpenWorkspace) -> list[str]:
    root = published.published_root(ws)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_published_pipeline_runs_with_its_parameters_and_records_its_version(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    # SQLite alone: a published version invoked on PostgreSQL runs in
    # test_published_pipeline_routes.py (both stores), publishing here in the tests below.
    project = tmp_path / "project"
    path = write_project(project)
    first = published.publish_pipeline(ws, pipeline_job(path), "etl-nightly", "the ETL")
    assert (first.version, first.pipeline, first.enabled) == (1, "etl", True)
    assert [(p.name, p.type.value, p.default) for p in first.parameters] == [
        ("raw", "uri_folder", str(project / "data")),
        ("scale", "integer", 2),
    ]
    # The version is frozen: changing the project's code afterwards changes nothing in it.
    (project / "steps" / "train" / "train.py").write_text("raise SystemExit('changed')\n")

    run = published.invoke_published(
        ws, Invocation("etl-nightly", experiment="nightly", parameters={"scale": "5"}, as_text=True)
    )
    assert run.experiment_name == "nightly" and run.parent_id is None
    assert model_text(ws, run) == "model of 30"  # (1+2+3) × 5
    data = ws.store.get_run_data(run.id)
    for marks in (data.properties, data.tags):
        assert marks[published.NAME_PROPERTY] == "etl-nightly"
        assert marks[published.VERSION_PROPERTY] == "1"

    # A typed value (the SDK's, the API's) and the default's own experiment.
    typed = published.invoke_published(ws, Invocation("etl-nightly", parameters={"scale": 3}))
    assert typed.experiment_name == "pipe"
    assert model_text(ws, typed) == "model of 18"


def test_versions_the_default_version_and_disabling(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = write_project(tmp_path / "project")
    for _ in range(3):
        published.publish_pipeline(ws, pipeline_job(path), "etl")
    details = published.published_details(ws, "etl")
    assert [v.version for v in details.versions] == [3, 2, 1]
    assert (details.pipeline.effective_default, details.pipeline.default_version) == (3, None)
    assert published.get_published_version(ws, "etl").version == 3

    published.set_default_version(ws, "etl", 2)
    published.publish_pipeline(ws, pipeline_job(path), "etl")  # a set default stays
    assert published.get_published_version(ws, "etl").version == 2
    assert published.published_details(ws, "etl").pipeline.latest_version == 4
    with pytest.raises(NotFound, match="published pipeline 'etl' has no version 9"):
        published.set_default_version(ws, "etl", 9)

    published.set_version_enabled(ws, "etl", 2, False)
    with pytest.raises(InvalidValue) as refused:
        published.invoke_published(ws, Invocation("etl"))
    assert refused.value.message == (
        "published pipeline etl:2 is disabled: enable it with `modelyard pipeline published"
        " enable etl 2`, or invoke another version"
    )
    assert ws.store.list_runs() == []
    assert published.set_version_enabled(ws, "etl", 2, True).enabled
    with pytest.raises(NotFound, match="published pipeline 'nope' not found"):
        published.invoke_published(ws, Invocation("nope"))


def test_bad_parameters_are_refused_before_any_run_exists(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = workspace
    path = write_project(tmp_path / "project")
    published.publish_pipeline(ws, pipeline_job(path), "etl")
    cases = {
        "the published pipeline has no parameter 'scal': did you mean 'scale'?": {"scal": 5},
        "parameter 'scale' is integer but got 'five': give a whole number": {"scale": "five"},
        "parameter 'scale' is integer but got 'True': give a whole number": {"scale": True},
    }
    for message, parameters in cases.items():
        with pytest.raises(InvalidValue) as refused:
            published.invoke_published(ws, Invocation("etl", parameters=parameters))
        assert refused.value.message == message
    with pytest.raises(InvalidValue, match=r"is integer but got '2\.5': give a whole number"):
        published.invoke_published(ws, Invocation("etl", parameters={"scale": "2.5"}, as_text=True))
    with pytest.raises(InvalidValue, match="a caller of the server may not name"):
        published.invoke_published(
            ws, Invocation("etl", parameters={"raw": "/etc"}, data_paths=False)
        )
    with pytest.raises(NotFound, match="pipeline input 'raw' path '/no/such/folder'"):
        published.invoke_published(ws, Invocation("etl", parameters={"raw": "/no/such/folder"}))
    with pytest.raises(InvalidValue, match="invalid experiment name"):
        published.invoke_published(ws, Invocation("etl", experiment="bad name!"))
    assert ws.store.list_runs() == []


def test_a_pipeline_run_is_published_as_it_ran(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = write_project(tmp_path / "project")
    ran = submit_pipeline(ws, pipeline_job(path))
    assert jobs.wait_for_completion(ws, ran.id, timeout_s=240).status is RunStatus.COMPLETED
    made = published.publish_pipeline_run(ws, ran.id, "from-run", "as it ran")
    assert (made.version, made.source_run, made.description) == (1, ran.id, "as it ran")
    files = published_files(ws)
    assert f"from-run/{made.folder.split('/')[1]}/pipeline.json" in files
    assert f"from-run/{made.folder.split('/')[1]}/steps/prep/prep.py" in files

    step = pipeline_steps(ws, ran.id)[0].run_id
    with pytest.raises(InvalidValue, match=f"run {step} is not a pipeline run"):
        published.publish_pipeline_run(ws, step, "from-step")


def test_a_failed_publication_leaves_nothing(workspace: OpenWorkspace, tmp_path: Path) -> None:
    ws = workspace
    project = tmp_path / "project"
    path = write_project(project)
    job = pipeline_job(path)
    (project / "steps" / "prep" / "prep.py").unlink()
    with pytest.raises(NotFound, match=r"prep\.py"):
        published.publish_pipeline(ws, job, "etl")
    with pytest.raises(InvalidValue, match="invalid published pipeline name"):
        published.publish_pipeline(ws, job, "no:colons")
    with pytest.raises(InvalidValue, match="shorten it to 5000"):
        published.publish_pipeline(ws, job, "etl", description="x" * 5001)
    assert published.list_published(ws) == []
    assert published_files(ws) == []
    assert not any((ws.cache_dir / "staging").glob("publish-*"))
