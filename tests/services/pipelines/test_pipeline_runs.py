"""Pipelines end to end on real databases and real processes: the driver is a job, each step a
child job queued through the scheduler; unchanged steps are reused by content, changed ones
run and say why; a failure cancels its dependants; a killed driver is resumed."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import psutil
import pytest

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue, ModelyardError, NotFound
from modelyard.services import jobs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.steps import STEP_PROPERTY
from modelyard.services.pipelines.submission import rerun_pipeline, submit_pipeline
from modelyard.services.resume import resume_job
from modelyard.services.workspaces import OpenWorkspace
from pipeline_projects import PIPELINE, write_pipeline, write_project
from polling import wait_for
from run_processes import pid_of


def submit(ws: OpenWorkspace, path: Path, force_rerun: bool = False) -> Run:
    job = load_job_file(path)
    assert isinstance(job, PipelineJob)
    return submit_pipeline(ws, job, force_rerun=force_rerun)


def finished(ws: OpenWorkspace, run: Run) -> Run:
    return jobs.wait_for_completion(ws, run.id, timeout_s=240)


def steps_of(ws: OpenWorkspace, run: Run) -> dict[str, StepStatus]:
    return {step.step: step for step in pipeline_steps(ws, run.id)}


def new_project(tmp_path: Path, **scripts: str) -> Path:
    """A project folder (the steps' default code) with `NAME.py` for each script."""
    project = tmp_path / "project"
    project.mkdir()
    for name, text in scripts.items():
        (project / f"{name}.py").write_text(textwrap.dedent(text))
    return project


def output_of(ws: OpenWorkspace, step: StepStatus, path: str) -> str:
    run_id = step.reused_from or step.run_id
    return (ws.local_artifacts.run_root(run_id) / "outputs" / path).read_text()


def reasons(steps: dict[str, StepStatus]) -> dict[str, str | None]:
    return {name: step.reason for name, step in steps.items()}


def test_an_unchanged_pipeline_is_reused_and_data_changed_in_place_runs_again(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    path = write_project(tmp_path / "project")
    first = finished(workspace, submit(workspace, path))
    assert first.status is RunStatus.COMPLETED, first.error
    ran = steps_of(workspace, first)
    assert list(ran) == ["prep", "train"]
    assert reasons(ran) == {"prep": "first run", "train": "first run"}
    assert {step.status for step in ran.values()} == {RunStatus.COMPLETED}
    assert output_of(workspace, ran["train"], "model/model.txt") == "model of 12"
    # A step's output is its run's artifacts, read-only once it completed.
    total = workspace.local_artifacts.run_root(ran["prep"].run_id) / "outputs/clean/total.txt"
    assert total.stat().st_mode & 0o222 == 0
    assert workspace.store.get_run(ran["prep"].run_id).parent_id == first.id

    second = finished(workspace, submit(workspace, path))
    assert second.status is RunStatus.COMPLETED, second.error
    reused = steps_of(workspace, second)
    for name in ("prep", "train"):
        assert reused[name].status is RunStatus.COMPLETED
        assert reused[name].reused_from == ran[name].run_id
        assert reused[name].reason is not None
        assert reused[name].reason.startswith(f"reused run {ran[name].run_id}'s outputs")
        # Nothing ran: no snapshot, no log.
        assert not workspace.local_artifacts.run_root(reused[name].run_id).exists()

    (tmp_path / "project" / "data" / "a.txt").write_text("1 2 4")  # same size, in place
    third = finished(workspace, submit(workspace, path))
    assert third.status is RunStatus.COMPLETED, third.error
    rerun = steps_of(workspace, third)
    assert reasons(rerun) == {
        "prep": "input `raw` changed content",
        "train": "input `data` changed content",
    }
    assert [step.reused_from for step in rerun.values()] == [None, None]
    assert output_of(workspace, rerun["train"], "model/model.txt") == "model of 14"


def test_a_step_reruns_for_its_parameter_its_code_or_its_data_and_says_which(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    project = tmp_path / "project"
    path = write_project(project)
    assert finished(ws, submit(ws, path)).status is RunStatus.COMPLETED

    write_pipeline(project, PIPELINE.replace("scale: 2", "scale: 3"))
    scaled = finished(ws, submit(ws, path))
    assert reasons(steps_of(ws, scaled)) == {
        "prep": "parameter `scale` changed (2 → 3)",
        "train": "input `data` changed content",
    }
    assert ws.store.get_run_data(steps_of(ws, scaled)["prep"].run_id).params["scale"] == "3"

    with open(project / "steps" / "train" / "train.py", "a") as script:
        script.write("# a comment is a change of code\n")
    coded = steps_of(ws, finished(ws, submit(ws, path)))
    assert coded["prep"].reused_from == steps_of(ws, scaled)["prep"].run_id
    assert coded["train"].reason == "code changed"

    # New data whose sum is the same: prep runs, its output is the same, so train is reused.
    (project / "data" / "b.txt").write_text("0")
    same_sum = steps_of(ws, finished(ws, submit(ws, path)))
    assert same_sum["prep"].reason == "input `raw` changed content"
    assert same_sum["train"].reused_from == coded["train"].run_id

    forced = steps_of(ws, finished(ws, submit(ws, path, force_rerun=True)))
    assert reasons(forced) == {
        "prep": "forced rerun (--force-rerun)",
        "train": "forced rerun (--force-rerun)",
    }
    assert output_of(ws, forced["train"], "model/model.txt") == "model of 18"


MEET = """
import argparse, pathlib, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--me"); parser.add_argument("--other"); parser.add_argument("--dir")
parser.add_argument("--out")
options = parser.parse_args()
folder = pathlib.Path(options.dir)
(folder / options.me).touch()
deadline = time.monotonic() + 120
while not (folder / options.other).exists():  # only a step running at the same time makes it
    if time.monotonic() > deadline:
        sys.exit(f"{options.other} never ran while {options.me} did")
    time.sleep(0.05)
pathlib.Path(options.out, "name.txt").write_text(options.me)
"""

JOIN = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--a"); parser.add_argument("--b"); parser.add_argument("--out")
options = parser.parse_args()
names = [pathlib.Path(p, "name.txt").read_text() for p in (options.a, options.b)]
pathlib.Path(options.out, "joined.txt").write_text("+".join(names))
"""

DIAMOND = """
type: pipeline
experiment_name: order
inputs: {{meet: {meet}}}
jobs:
  join:
    command: python join.py --a ${{{{inputs.a}}}} --b ${{{{inputs.b}}}} --out ${{{{outputs.out}}}}
    inputs:
      a: ${{{{parent.jobs.left.outputs.out}}}}
      b: ${{{{parent.jobs.right.outputs.out}}}}
    outputs: {{out: {{type: uri_folder}}}}
  left:
    command: >-
      python meet.py --me left --other right --dir ${{{{inputs.meet}}}}
      --out ${{{{outputs.out}}}}
    inputs: {{meet: '${{{{parent.inputs.meet}}}}'}}
    outputs: {{out: {{type: uri_folder}}}}
  right:
    command: >-
      python meet.py --me right --other left --dir ${{{{inputs.meet}}}}
      --out ${{{{outputs.out}}}}
    inputs: {{meet: '${{{{parent.inputs.meet}}}}'}}
    outputs: {{out: {{type: uri_folder}}}}
"""


def test_steps_run_in_dag_order_and_independent_ones_at_once(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    project = new_project(tmp_path, meet=MEET, join=JOIN)
    (tmp_path / "rendezvous").mkdir()
    path = write_pipeline(project, DIAMOND.format(meet=tmp_path / "rendezvous"))
    final = finished(ws, submit(ws, path))
    assert final.status is RunStatus.COMPLETED, final.error
    steps = steps_of(ws, final)
    assert list(steps) == ["left", "right", "join"]  # the file's order, join after both
    # left and right each waited for the other's mark: they ran at the same time.
    assert output_of(ws, steps["join"], "out/joined.txt") == "left+right"
    records = {name: ws.store.get_run(step.run_id) for name, step in steps.items()}
    for upstream in ("left", "right"):
        ended = records[upstream].ended_at
        assert ended is not None and records["join"].created_at >= ended


EMPTY_OUTPUT = """
type: pipeline
experiment_name: quiet
jobs:
  quiet:
    command: python noop.py --out ${{outputs.out}}
    outputs: {out: {type: uri_folder}}
  after:
    command: python noop.py --in ${{inputs.data}}
    inputs: {data: '${{parent.jobs.quiet.outputs.out}}'}
"""


def test_a_step_that_outputs_nothing_feeds_its_dependant_and_is_reused(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    path = write_pipeline(new_project(tmp_path, noop="import sys\n"), EMPTY_OUTPUT)
    first = finished(ws, submit(ws, path))
    assert first.status is RunStatus.COMPLETED, first.error
    again = finished(ws, submit(ws, path))
    assert {step.reused_from for step in steps_of(ws, again).values()} == {
        step.run_id for step in steps_of(ws, first).values()
    }


FAILING = """
type: pipeline
experiment_name: fails
settings: {{continue_on_step_failure: {go_on}}}
jobs:
  bad:
    command: python fail.py --out ${{{{outputs.out}}}}
    outputs: {{out: {{type: uri_folder}}}}
  after_bad:
    command: python fail.py --ok --out ${{{{inputs.data}}}}
    inputs: {{data: '${{{{parent.jobs.bad.outputs.out}}}}'}}
  other:
    command: python fail.py --ok {wait}
"""

FAIL = """
import argparse, pathlib, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--ok", action="store_true"); parser.add_argument("--out")
parser.add_argument("--wait-for")
options = parser.parse_args()
if options.wait_for:  # a step still running when another fails
    while not pathlib.Path(options.wait_for).exists():
        time.sleep(0.05)
if not options.ok:
    sys.exit("boom: the data is bad")
"""


def test_a_failed_step_cancels_its_dependants_and_the_rest_unless_told_to_go_on(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    project = new_project(tmp_path, fail=FAIL)
    never = tmp_path / "never-created"
    path = write_pipeline(project, FAILING.format(go_on="false", wait=f"--wait-for {never}"))
    stopped = finished(ws, submit(ws, path))
    assert stopped.status is RunStatus.FAILED
    assert stopped.error is not None and stopped.error.startswith("step bad failed: ")
    steps = steps_of(ws, stopped)
    assert steps["bad"].status is RunStatus.FAILED
    assert steps["bad"].error is not None and "boom: the data is bad" in steps["bad"].error
    for name in ("after_bad", "other"):
        assert (steps[name].status, steps[name].error) == (RunStatus.CANCELED, "step bad failed")

    path = write_pipeline(project, FAILING.format(go_on="true", wait=""), "go-on.yml")
    went_on = finished(ws, submit(ws, path))
    assert went_on.status is RunStatus.FAILED
    steps = steps_of(ws, went_on)
    assert steps["other"].status is RunStatus.COMPLETED
    assert (steps["after_bad"].status, steps["after_bad"].error) == (
        RunStatus.CANCELED,
        "step bad failed",
    )


def test_a_rerun_from_a_step_or_a_forced_step_reuses_the_others(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    first = finished(ws, submit(ws, write_project(tmp_path / "project")))
    ran = steps_of(ws, first)
    rerun = finished(ws, rerun_pipeline(ws, first.id, from_step="train"))
    assert rerun.status is RunStatus.COMPLETED, rerun.error
    steps = steps_of(ws, rerun)
    assert steps["prep"].reused_from == ran["prep"].run_id
    assert steps["prep"].reason == (
        f"reused run {ran['prep'].run_id}'s outputs: rerun of run {first.id} from step train"
    )
    assert steps["train"].reused_from is None
    assert steps["train"].reason == "forced rerun (rerun from step train)"
    with pytest.raises(InvalidValue, match="the pipeline has no step 'trian': did you mean"):
        rerun_pipeline(ws, first.id, from_step="trian")

    # A step told to: it runs, the others are reused as ever.
    forced = PIPELINE.replace(
        "    code: steps/train", "    code: steps/train\n    force_rerun: true"
    )
    path = write_pipeline(tmp_path / "project", forced)
    steps = steps_of(ws, finished(ws, submit(ws, path)))
    assert steps["prep"].reused_from == ran["prep"].run_id
    assert steps["train"].reason == "forced rerun (the step's force_rerun)"


SLOW_FIRST = """
type: pipeline
experiment_name: resumed
jobs:
  slow:
    command: python slow.py --go {go} --out ${{{{outputs.out}}}}
    outputs: {{out: {{type: uri_folder}}}}
  after:
    command: python after.py --data ${{{{inputs.data}}}}
    inputs: {{data: '${{{{parent.jobs.slow.outputs.out}}}}'}}
"""

SLOW = """
import argparse, pathlib, time
parser = argparse.ArgumentParser()
parser.add_argument("--go"); parser.add_argument("--out")
options = parser.parse_args()
while not pathlib.Path(options.go).exists():
    time.sleep(0.05)
pathlib.Path(options.out, "done.txt").write_text("done")
"""

AFTER = """
import sys
print(open(sys.argv[2] + "/done.txt").read())
"""


def test_a_killed_driver_is_resumed_and_runs_no_completed_step_again(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    project = new_project(tmp_path, slow=SLOW, after=AFTER)
    go = tmp_path / "go"
    parent = submit(ws, write_pipeline(project, SLOW_FIRST.format(go=go)))

    def driver_while_slow_runs() -> psutil.Process | None:
        children = ws.store.list_runs(parent_id=parent.id)
        if not children or children[0].status is not RunStatus.RUNNING:
            return None
        pid = pid_of(ws.store.get_run(parent.id))
        if pid is None:
            return None
        for process in psutil.Process(pid).children():
            if "modelyard.builtin_jobs.pipeline" in " ".join(process.cmdline()):
                return process
        return None

    driver = wait_for(driver_while_slow_runs, timeout=120)
    os.kill(driver.pid, signal.SIGKILL)
    failed = wait_for(lambda: (run := ws.store.get_run(parent.id)).status.is_terminal and run)
    assert failed.status is RunStatus.FAILED
    go.touch()  # the step goes on by itself meanwhile

    resumed = resume_job(ws, parent.id)
    assert resumed.attempt == 2
    final = finished(ws, resumed)
    assert final.status is RunStatus.COMPLETED, final.error
    children = ws.store.list_runs(parent_id=parent.id)
    names = sorted(ws.store.get_run_data(child.id).properties[STEP_PROPERTY] for child in children)
    assert names == ["after", "slow"]  # each ran once
    assert {child.status for child in children} == {RunStatus.COMPLETED}


BROKEN = [
    (
        ("raw: '${{parent.inputs.raw}}'", "raw: '${{parent.jobs.train.outputs.model}}'"),
        "steps prep → train → prep form a cycle",
    ),
    (
        ("jobs.prep.outputs.clean", "jobs.prepp.outputs.clean"),
        "step 'train' input 'data' reads step 'prepp', which does not exist: did you mean 'prep'?",
    ),
    (
        ("jobs.prep.outputs.clean", "jobs.prep.outputs.cleaned"),
        "step 'train' input 'data' reads output 'cleaned' of step 'prep', which it does not"
        " declare: did you mean 'clean'?",
    ),
    (
        (
            "{data: '${{parent.jobs.prep.outputs.clean}}'}",
            "{data: {type: uri_file, path: '${{parent.jobs.prep.outputs.clean}}'}}",
        ),
        "step 'train' input 'data' is uri_file but is fed output 'clean' of step 'prep', which"
        " is uri_folder",
    ),
    (
        ("    code: steps/train", "    code: steps/train\n    retries: 3"),
        "step 'train' has unknown field 'retries': use one of code, command,",
    ),
    (
        ("display_name: etl", "display_name: etl\nschedule: daily"),
        "the pipeline has unknown field 'schedule'",
    ),
    (
        (
            "    command: python train.py --data ${{inputs.data}} --out ${{outputs.model}}\n",
            "",
        ),
        "step 'train' has no command: add 'command: python SCRIPT ARGS…'",
    ),
    (
        ("--data ${{inputs.data}}", "--data ${{inputs.dta}}"),
        "step 'train' command uses ${{inputs.dta}}, which the step does not declare under"
        " inputs: did you mean 'data'?",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_a_bad_pipeline_file_is_one_line_naming_the_step_and_creates_nothing(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert change[0] in PIPELINE
    path = write_project(tmp_path / "project", PIPELINE.replace(*change))
    with pytest.raises(InvalidValue) as caught:
        load_job_file(path)
    assert caught.value.message.startswith(f"pipeline file {path}: {expected}")
    assert "\n" not in caught.value.message
    assert sqlite_workspace.store.list_runs() == []


@pytest.mark.parametrize(
    ("change", "error", "expected"),
    [
        (("path: ./data", "path: ./gone"), NotFound, "pipeline input 'raw' path"),
        (("code: steps/train", "code: steps/trian"), NotFound, "step 'train' code folder"),
        (
            ("display_name: etl", "display_name: etl\nsettings: {default_compute: nowhere}"),
            NotFound,
            "compute",
        ),
    ],
)
def test_a_pipeline_that_cannot_run_here_is_refused_before_any_run(
    sqlite_workspace: OpenWorkspace,
    tmp_path: Path,
    change: tuple[str, str],
    error: type[ModelyardError],
    expected: str,
) -> None:
    assert change[0] in PIPELINE
    path = write_project(tmp_path / "project", PIPELINE.replace(*change))
    with pytest.raises(error, match=expected):
        submit(sqlite_workspace, path)
    assert sqlite_workspace.store.list_runs() == []
