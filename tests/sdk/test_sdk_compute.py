"""Compute targets through the SDK, in Azure ML's words, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelyard
from modelyard import AmlCompute, ComputeTarget, Experiment, ScriptRunConfig, Workspace
from modelyard.compute.local.processes import host_capacity
from modelyard.errors import ComputeErrored, InvalidValue, NotFound

SMALL = "Standard_DS1_v2"


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Iterator[Workspace]:
    workspace = Workspace.create("sdk-compute", path=tmp_path / "ws", store_uri=store_uri)
    yield workspace
    workspace.close()


def test_create_get_list_and_delete_as_in_azure(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(
        vm_size=SMALL, vm_priority="lowpriority", min_nodes=0, max_nodes=2,
        idle_seconds_before_scaledown=900,
    )  # fmt: skip
    target = ComputeTarget.create(ws, "cpu-pool", config)
    out = io.StringIO()
    target.wait_for_completion(show_output=True, stream=out)
    assert out.getvalue() == "Provisioning state: Succeeded\n"
    assert (target.provisioning_state, target.provisioning_errors) == ("Succeeded", [])
    assert (target.vm_size, target.vm_priority, target.max_nodes) == (SMALL, "lowpriority", 2)

    fetched = ComputeTarget(workspace=ws, name="cpu-pool")
    assert fetched.serialize() == target.serialize()
    assert sorted(ws.compute_targets) == ["cpu-pool", "local"]
    status = fetched.get_status()
    assert (status.provisioning_state, status.current_node_count, status.max_node_count) == (
        "Succeeded", 0, 2,
    )  # fmt: skip
    assert status.serialize()["queuedRunIds"] == []

    fetched.delete()
    with pytest.raises(NotFound, match="compute 'cpu-pool' not found"):
        ComputeTarget(workspace=ws, name="cpu-pool")
    assert list(ws.compute_targets) == ["local"]


@pytest.mark.skipif(host_capacity().gpus >= 2, reason="this host has the size's two GPUs")
def test_a_failed_provisioning_is_returned_not_raised_and_keeps_the_name(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(vm_size="Standard_NC12")
    target = ComputeTarget.create(ws, "gpu-pool", config)
    out = io.StringIO()
    target.wait_for_completion(show_output=True, stream=out)
    assert target.provisioning_state == "Failed"
    assert "lacks what size Standard_NC12 needs" in target.provisioning_errors[0]["message"]
    assert out.getvalue().startswith("Provisioning state: Failed\nProvisioning error: this host")
    with pytest.raises(ComputeErrored, match="use a different name"):
        ComputeTarget.create(ws, "gpu-pool", AmlCompute.provisioning_configuration())
    assert ws.compute_targets["gpu-pool"].provisioning_state == "Failed"


@pytest.mark.parametrize(
    ("name", "config", "words"),
    [
        ("x", {}, "invalid compute name"),
        ("cpu", {"vm_size": "Standard_Nope"}, "not in the catalog"),
        ("cpu", {"min_nodes": 3, "max_nodes": 2}, "min must be at most max"),
        ("cpu", {"vm_priority": "spot"}, "dedicated or low-priority"),
    ],
)
def test_a_request_wrong_in_itself_raises_and_creates_nothing(
    ws: Workspace, name: str, config: dict[str, object], words: str
) -> None:
    with pytest.raises(InvalidValue, match=words):
        ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(**config))  # type: ignore[arg-type]
    assert list(ws.compute_targets) == ["local"]


def test_supported_vmsizes_in_azures_keys(ws: Workspace) -> None:
    sizes = {size["name"]: size for size in AmlCompute.supported_vmsizes(workspace=ws)}
    nc24 = sizes["Standard_NC24"]
    assert (nc24["vCPUs"], nc24["memoryGB"], nc24["gpus"], nc24["gpuMemoryGB"]) == (24, 224, 4, 48)
    assert nc24["maxResourceVolumeMB"] == 1440 * 1024
    assert (nc24["maxDataDiskCount"], nc24["maxNetworkInterfaces"]) == (64, 4)


def test_a_script_runs_on_a_compute_target_object(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "hello.py").write_text("print('hello from a sized compute')\n")
    target = ComputeTarget.create(
        ws, "cpu-pool", AmlCompute.provisioning_configuration(vm_size=SMALL, max_nodes=1)
    )
    config = ScriptRunConfig(str(source), "hello.py", compute_target=target)
    run = Experiment(ws, "on-target").submit(config)
    details = run.wait_for_completion(timeout=180)
    assert (details["status"], details["compute_target"]) == ("Completed", "cpu-pool")
    assert target.get_status().current_node_count == 0  # its node is free again


def test_the_names_are_exported() -> None:
    assert {"AmlCompute", "ComputeTarget", "ComputeErrored"} <= set(modelyard.__all__)
