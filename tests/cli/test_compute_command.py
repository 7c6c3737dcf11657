"""`modelyard compute …` as a user types it: real subprocesses, a real workspace, real jobs."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from cli.commands import home_of_its_own, modelyard
from modelyard.compute.local.processes import host_capacity

SMALL = "Standard_DS1_v2"  # 1 vCPU, 3.5 GiB: fits any test host


def _create_project(folder: Path) -> Path:
    folder.mkdir()
    modelyard("workspace", "create", "compute-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each creates nothing (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(tmp_path_factory.mktemp("refusing") / "project")


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _names(project: Path) -> list[str]:
    return [compute["name"] for compute in _json(project, "compute", "list")]


def _one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_create_list_show_delete_and_sizes(project: Path) -> None:
    created = _json(
        project,
        "compute", "create", "cpu-pool", "--type", "local", "--size", SMALL,
        "--priority", "low-priority", "--min-nodes", "0", "--max-nodes", "2",
        "--idle-seconds-before-scaledown", "600", "--description", "small jobs",
    )  # fmt: skip
    assert {key: created[key] for key in ("name", "state", "size", "priority", "max_nodes")} == {
        "name": "cpu-pool",
        "state": "Succeeded",
        "size": SMALL,
        "priority": "low-priority",
        "max_nodes": 2,
    }
    assert created["idle_seconds_before_scaledown"] == 600
    assert _names(project) == ["local", "cpu-pool"]
    shown = _json(project, "compute", "show", "cpu-pool")
    assert (shown["nodes_in_use"], shown["running"], shown["queue"]) == (0, [], [])
    table = modelyard("compute", "show", "cpu-pool", cwd=project).stdout
    assert "0 in use of 2" in table and "Queue: empty" in table

    deleted = modelyard("compute", "delete", "cpu-pool", "--yes", cwd=project)
    assert "Deleted compute cpu-pool." in deleted.stdout
    assert _names(project) == ["local"]
    missing = modelyard("compute", "show", "cpu-pool", cwd=project, check=False)
    assert "compute 'cpu-pool' not found" in _one_line_error(missing)

    sizes = {size["name"]: size for size in _json(project, "compute", "list-sizes")}
    nc12 = sizes["Standard_NC12"]
    assert (nc12["vcpus"], nc12["memory_gib"], nc12["temp_storage_gib"], nc12["gpus"]) == (
        12, 112, 680, 2,
    )  # fmt: skip
    assert (nc12["gpu_memory_gib"], nc12["max_data_disks"], nc12["max_nics"]) == (24, 48, 2)
    listed = modelyard("compute", "list-sizes", cwd=project).stdout
    assert "Standard_NC24" in listed and "vCPUs" in listed


@pytest.mark.skipif(host_capacity().gpus >= 2, reason="this host has the size's two GPUs")
def test_a_gpu_size_on_a_host_without_gpus_is_a_failed_compute_that_keeps_its_name(
    project: Path,
) -> None:
    failed = modelyard(
        "compute", "create", "gpu-pool", "--type", "local", "--size", "Standard_NC12",
        cwd=project, check=False,
    )  # fmt: skip
    line = _one_line_error(failed)
    assert "compute gpu-pool failed to provision" in line and "GPUs (it has" in line
    assert "Failed" in failed.stdout  # its state and errors are printed first
    listed = {c["name"]: c for c in _json(project, "compute", "list")}
    assert listed["gpu-pool"]["state"] == "Failed"
    assert "lacks what size Standard_NC12 needs" in listed["gpu-pool"]["errors"][0]

    again = modelyard("compute", "create", "gpu-pool", "--size", SMALL, cwd=project, check=False)
    line = _one_line_error(again)
    assert "use a different name" in line
    assert "`modelyard compute delete gpu-pool` and retry" in line

    modelyard("compute", "delete", "gpu-pool", "--yes", cwd=project)
    assert _json(project, "compute", "create", "gpu-pool", "--size", SMALL)["state"] == "Succeeded"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["bad_name!"], "invalid compute name 'bad_name!'"),
        (["x"], "invalid compute name 'x'"),
        (["local"], "the workspace's built-in compute"),
        (["cpu", "--size", "Standard_Nope"], "size 'Standard_Nope' is not in the catalog"),
        (["cpu", "--min-nodes", "3", "--max-nodes", "2"], "min must be at most max"),
        (["cpu", "--priority", "urgent"], "use dedicated or low-priority"),
        (["cpu", "--type", "ray"], "needs its cluster's address"),
        (["cpu", "--address", "http://h:8265"], "is for ray computes"),
        # Ray jobs report to a server: a workspace that none serves cannot have a ray compute.
        (["cpu", "--type", "ray", "--address", "http://127.0.0.1:1"], "start `modelyard server`"),
    ],
)
def test_requests_wrong_in_themselves_are_one_line_and_create_nothing(
    refusing: Path, arguments: list[str], words: str
) -> None:
    refused = modelyard("compute", "create", *arguments, cwd=refusing, check=False)
    assert words in _one_line_error(refused)
    assert _names(refusing) == ["local"]


def test_create_from_azures_yaml(project: Path) -> None:
    (project / "compute.yml").write_text(
        textwrap.dedent(
            f"""\
            name: yaml-pool
            type: amlcompute
            size: {SMALL}
            tier: low_priority
            max_instances: 2
            idle_time_before_scale_down: 300
            """
        )
    )
    made = _json(project, "compute", "create", "-f", "compute.yml")
    assert (made["name"], made["priority"], made["max_nodes"]) == ("yaml-pool", "low-priority", 2)
    assert made["idle_seconds_before_scaledown"] == 300
    mixed = modelyard(
        "compute", "create", "-f", "compute.yml", "--max-nodes", "3", cwd=project, check=False
    )
    assert "drop --max-nodes" in _one_line_error(mixed)
    (project / "bad.yml").write_text("name: other\nlocation: westus\n")
    unknown = modelyard("compute", "create", "-f", "bad.yml", cwd=project, check=False)
    assert "unknown field 'location'" in _one_line_error(unknown)
    assert _names(project) == ["local", "yaml-pool"]


# With real jobs -----------------------------------------------------------------------------


def _write_sleeper(project: Path) -> None:
    (project / "sleeper.py").write_text("import time\nfor _ in range(600):\n    time.sleep(0.2)\n")


def _submit(project: Path, compute: str, name: str) -> str:
    modelyard(
        "job", "submit", "-e", "queue", "--script", "sleeper.py", "--compute", compute,
        "--display-name", name, cwd=project,
    )  # fmt: skip
    return str(_json(project, "run", "show", name, "-e", "queue")["id"])


def _wait_for(project: Path, run: str, statuses: set[str], timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        shown = _json(project, "run", "show", run)
        if shown["status"] in statuses or time.monotonic() > deadline:
            return shown
        time.sleep(0.3)


def test_a_queue_says_why_and_delete_needs_force_to_cancel_it(project: Path) -> None:
    _write_sleeper(project)
    modelyard("compute", "create", "one", "--size", SMALL, "--max-nodes", "1", cwd=project)
    first = _submit(project, "one", "first")
    second = _submit(project, "one", "second")
    assert _wait_for(project, first, {"Running"})["status"] == "Running"

    waiting = _json(project, "run", "show", second)
    assert waiting["status"] == "Queued"
    assert "waiting for a node on one" in waiting["status_detail"]
    assert "waiting for a node on one" in modelyard("run", "show", second, cwd=project).stdout
    shown = _json(project, "compute", "show", "one")
    assert [run["id"] for run in shown["running"]] == [first]
    assert [(run["id"], run["status"]) for run in shown["queue"]] == [(second, "Queued")]
    assert "waiting for a node on one" in shown["queue"][0]["status_detail"]
    assert "1 in use of 1" in modelyard("compute", "show", "one", cwd=project).stdout

    refused = modelyard("compute", "delete", "one", "--yes", cwd=project, check=False)
    assert "still has queued or running jobs" in _one_line_error(refused)
    assert "--force" in refused.stderr
    assert _names(project) == ["local", "one"]

    modelyard("compute", "delete", "one", "--force", "--yes", cwd=project)
    assert _names(project) == ["local"]
    for run in (first, second):
        assert _wait_for(project, run, {"Canceled"})["status"] == "Canceled"


def test_preempt_requeues_a_low_priority_job_and_run_show_lists_the_attempt(
    project: Path,
) -> None:
    _write_sleeper(project)
    modelyard("compute", "create", "spot", "--size", SMALL, "--priority", "low-priority",
              cwd=project)  # fmt: skip
    run = _submit(project, "spot", "evicted")
    assert _wait_for(project, run, {"Running"})["status"] == "Running"

    preempted = _json(project, "compute", "preempt", "spot", "--run", "evicted", "-e", "queue")
    assert [item["id"] for item in preempted] == [run]
    assert preempted[0]["status"] != "Preempted"  # it waited until the run was requeued
    assert preempted[0]["attempt"] == 2

    shown = _json(project, "run", "show", run)
    assert [(a["attempt"], a["outcome"]) for a in shown["attempts"]] == [(1, "Preempted")]
    assert "preempted on demand" in shown["attempts"][0]["cause"]
    assert "Earlier attempts" in modelyard("run", "show", run, cwd=project).stdout

    dedicated = modelyard("compute", "preempt", "local", cwd=project, check=False)
    assert "its jobs are never preempted" in _one_line_error(dedicated)
    modelyard("compute", "delete", "spot", "--force", "--yes", cwd=project)
