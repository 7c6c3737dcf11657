"""Deploying to the local target: real replica processes, a real front, real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import pytest

from endpoint_support import (
    endpoints_cleaned_up,
    register_factor_model,
    script_request,
    source_dir,
)
from modelyard.entities.endpoints import DeploymentState, EndpointHealth
from modelyard.entities.process import ProcessHandle
from modelyard.errors import (
    AlreadyExists,
    Conflict,
    DeploymentFailed,
    InvalidValue,
    NotFound,
)
from modelyard.services import endpoint_processes, endpoints, models
from modelyard.services.workspaces import OpenWorkspace
from polling import wait_for


@pytest.fixture
def ws(workspace: OpenWorkspace) -> Iterator[OpenWorkspace]:
    with endpoints_cleaned_up(workspace):
        yield workspace


def _call(uri: str, key: str | None, x: int = 3, pin: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if pin:
        headers["x-modelyard-deployment"] = pin
    return httpx.post(uri, content=json.dumps({"x": x}), headers=headers, timeout=30)


def test_a_deployment_answers_through_its_endpoint_with_a_key(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    model = register_factor_model(ws, tmp_path, 2)
    deployment = endpoints.deploy(ws, script_request(tmp_path, model))
    endpoint = endpoints.get_endpoint(ws, "scorer")

    assert deployment.state is DeploymentState.SUCCEEDED
    assert deployment.resolved_model == "double:1"
    assert endpoint.traffic.split == {"blue": 100}
    answer = _call(endpoint.scoring_uri, endpoint.primary_key)
    assert answer.status_code == 200
    assert answer.json()["y"] == 6
    assert answer.headers["x-modelyard-deployment"] == "blue"
    assert _call(endpoint.scoring_uri, None).status_code == 401
    assert _call(endpoint.scoring_uri, "not-a-key").status_code == 401
    assert httpx.get(endpoint.swagger_uri, timeout=30).status_code == 200


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to spread over")
def test_replicas_are_held_to_their_cpu_cores_and_memory_gb(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    """Two replicas of 1 core spread over two CPUs; one that outgrows its 0.25 GiB is stopped
    with a line in its log saying why, and its supervisor starts it again."""
    model = register_factor_model(ws, tmp_path, 2)
    request = script_request(tmp_path, model, replicas=2, cpu_cores=1.0, memory_gb=0.25)
    endpoints.deploy(ws, request)
    endpoint = endpoints.get_endpoint(ws, "scorer")
    seen = {
        answer["pid"]: tuple(answer["cpus"])
        for answer in (_call(endpoint.scoring_uri, endpoint.primary_key).json() for _ in range(6))
    }
    assert len(seen) == 2 and sorted(seen.values()) == [(0,), (1,)]

    greedy = {"x": 1, "allocate_mb": 400}
    with contextlib.suppress(httpx.HTTPError):  # answered, or cut off by the kill
        httpx.post(
            endpoint.scoring_uri,
            content=json.dumps(greedy),
            headers={"Authorization": f"Bearer {endpoint.primary_key}"},
            timeout=30,
        )

    wait_for(lambda: "more than its 0.25 GiB (--memory-gb)" in endpoints.logs(ws, "scorer"))

    def restarted() -> bool:
        pids = {_call(endpoint.scoring_uri, endpoint.primary_key).json()["pid"] for _ in range(4)}
        return len(pids) == 2 and pids != set(seen)

    wait_for(restarted, timeout=60)


def test_a_served_model_version_cannot_be_deleted_from_under_its_deployment(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    endpoints.deploy(ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2)))
    spare = register_factor_model(ws, tmp_path, 3)

    for delete in (
        lambda: models.delete_version(ws, "double:1"),
        lambda: models.delete_model(ws, "double"),
    ):
        with pytest.raises(Conflict, match="model double:1 is served by deployment blue of"):
            delete()
    models.delete_version(ws, spare)  # a version nothing serves goes as ever
    assert (
        _call(
            endpoints.get_endpoint(ws, "scorer").scoring_uri,
            endpoints.get_keys(ws, "scorer")["primaryKey"],
        ).json()["y"]
        == 6
    )

    endpoints.delete_endpoint(ws, "scorer")
    assert [v.version for v in models.delete_model(ws, "double")] == [1]


def test_a_front_listens_where_the_setting_says_and_replicas_stay_on_loopback(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    """`endpoint_listen_host` 0.0.0.0: other machines can call the endpoint (with its keys);
    its replicas, which take the front's internal key, listen on 127.0.0.1 still."""
    ws.settings = replace(ws.settings, endpoint_listen_host="0.0.0.0")
    endpoints.deploy(ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2)))
    endpoint = endpoints.get_endpoint(ws, "scorer")
    deployment = endpoints.get_deployment(ws, "scorer", "blue")

    def listening(handle: str) -> set[str]:
        process = psutil.Process(ProcessHandle.parse(handle).pid)
        return {c.laddr.ip for c in process.net_connections() if c.status == psutil.CONN_LISTEN}

    assert endpoint.host_handle is not None
    assert listening(endpoint.host_handle) == {"0.0.0.0"}
    assert listening(deployment.replica_handles[0].handle) == {"127.0.0.1"}
    assert _call(endpoint.scoring_uri, endpoint.primary_key).json()["y"] == 6


def test_a_mistyped_listen_host_is_one_line_and_no_endpoint(ws: OpenWorkspace) -> None:
    ws.settings = replace(ws.settings, endpoint_listen_host="no-such-host.invalid")
    with pytest.raises(InvalidValue, match=r"cannot listen on host 'no-such-host\.invalid'"):
        endpoints.create_endpoint(ws, "scorer")
    assert endpoints.list_endpoints(ws) == []


def test_regenerating_a_key_stops_the_old_one_at_once_and_keeps_the_other(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    endpoints.deploy(ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2)))
    before = endpoints.get_keys(ws, "scorer")
    uri = endpoints.get_endpoint(ws, "scorer").scoring_uri

    after = endpoints.regen_key(ws, "scorer", "primary")

    assert after["primaryKey"] != before["primaryKey"]
    assert after["secondaryKey"] == before["secondaryKey"]
    assert _call(uri, before["primaryKey"]).status_code == 401
    assert _call(uri, after["primaryKey"]).status_code == 200
    assert _call(uri, after["secondaryKey"]).status_code == 200


def test_traffic_splits_pins_and_mirrors_between_deployments(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    blue = register_factor_model(ws, tmp_path, 2)
    green = register_factor_model(ws, tmp_path, 10)
    endpoints.deploy(ws, script_request(tmp_path, blue))
    endpoints.deploy(
        ws, script_request(tmp_path, green, name="green"), traffic={"blue": 100, "green": 0}
    )
    endpoint = endpoints.get_endpoint(ws, "scorer")
    key = endpoint.primary_key

    assert {_call(endpoint.scoring_uri, key).json()["y"] for _ in range(5)} == {6}
    assert _call(endpoint.scoring_uri, key, pin="green").json()["y"] == 30

    with pytest.raises(InvalidValue, match="must sum to 100, not 110"):
        endpoints.set_traffic(ws, "scorer", {"blue": 90, "green": 20})
    endpoints.set_traffic(ws, "scorer", {"blue": 0, "green": 100}, mirror={"blue": 100})
    assert {_call(endpoint.scoring_uri, key).json()["y"] for _ in range(5)} == {30}
    mirrored = endpoints.logs(ws, "scorer", "blue")
    assert "blue-0.log" in mirrored


def test_a_broken_init_fails_the_deploy_with_its_traceback_and_leaves_nothing_running(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    broken = register_factor_model(ws, tmp_path, -1)

    with pytest.raises(DeploymentFailed) as failed:
        endpoints.deploy(ws, script_request(tmp_path, broken))

    assert "ValueError: factor -1 is negative" in failed.value.message
    assert "Traceback" in failed.value.message and "score.py" in failed.value.message
    deployment = endpoints.list_deployments(ws, "scorer")[0]
    assert deployment.state is DeploymentState.FAILED
    assert deployment.replica_handles == ()
    assert "factor -1 is negative" in (deployment.error or "")
    assert not list((endpoints.endpoint_dir(ws, "scorer") / "logs").glob("blue-*.log"))


def test_bad_requests_are_one_line_errors(ws: OpenWorkspace, tmp_path: Path) -> None:
    model = register_factor_model(ws, tmp_path, 2)
    with pytest.raises(NotFound) as missing:
        endpoints.deploy(ws, script_request(tmp_path, "double:7"))
    assert "\n" not in missing.value.message
    endpoints.deploy(ws, script_request(tmp_path, model))
    with pytest.raises(AlreadyExists, match="already exists"):
        endpoints.deploy(ws, script_request(tmp_path, model))
    with pytest.raises(AlreadyExists, match="already exists"):
        endpoints.create_endpoint(ws, "scorer")
    taken = endpoints.get_endpoint(ws, "scorer").port
    with pytest.raises(Conflict, match=f"port {taken} .* in use"):
        endpoints.create_endpoint(ws, "other", port=taken)
    with pytest.raises(InvalidValue, match="invalid endpoint name"):
        endpoints.create_endpoint(ws, "a_b")


def test_a_killed_replica_is_restarted_while_the_others_answer(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    deployment = endpoints.deploy(
        ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2), replicas=2)
    )
    endpoint = endpoints.get_endpoint(ws, "scorer")
    killed = deployment.replica_handles[0]

    os.kill(ProcessHandle.parse(killed.handle).pid, signal.SIGKILL)

    answers = [_call(endpoint.scoring_uri, endpoint.primary_key) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6

    def restarted() -> bool:
        now = endpoints.list_deployments(ws, "scorer")[0].replica_handles[0]
        return now.handle != killed.handle and endpoint_processes.is_running(now.handle)

    wait_for(restarted)
    restarted_pid = ProcessHandle.parse(
        endpoints.list_deployments(ws, "scorer")[0].replica_handles[0].handle
    ).pid

    def served_by_both() -> bool:
        pids = {_call(endpoint.scoring_uri, endpoint.primary_key).json()["pid"] for _ in range(4)}
        return restarted_pid in pids

    wait_for(served_by_both)


def test_an_update_starts_new_replicas_before_stopping_the_old_ones(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    endpoints.deploy(ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2)))
    old = endpoints.list_deployments(ws, "scorer")[0]
    endpoint = endpoints.get_endpoint(ws, "scorer")
    newer = register_factor_model(ws, tmp_path, 5)

    statuses: list[int] = []
    stop = threading.Event()

    def keep_calling() -> None:  # a client calling all through the update
        while not stop.is_set():
            statuses.append(_call(endpoint.scoring_uri, endpoint.primary_key).status_code)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        updated = endpoints.update_deployment(ws, script_request(tmp_path, newer))
    finally:
        stop.set()
        caller.join()

    assert statuses and set(statuses) == {200}  # not one request failed during the switch

    assert updated.resolved_model == "double:2" and updated.state is DeploymentState.SUCCEEDED
    assert _call(endpoint.scoring_uri, endpoint.primary_key).json()["y"] == 15
    assert not endpoint_processes.is_running(old.replica_handles[0].handle)

    broken = register_factor_model(ws, tmp_path, -3)
    with pytest.raises(DeploymentFailed):
        endpoints.update_deployment(ws, script_request(tmp_path, broken))
    assert _call(endpoint.scoring_uri, endpoint.primary_key).json()["y"] == 15
    kept = endpoints.list_deployments(ws, "scorer")[0]
    assert kept.state is DeploymentState.SUCCEEDED and kept.resolved_model == "double:2"


def test_deleting_an_endpoint_stops_its_front_and_replicas(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    deployment = endpoints.deploy(
        ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2))
    )
    endpoint = endpoints.get_endpoint(ws, "scorer")

    endpoints.delete_endpoint(ws, "scorer")

    assert not endpoint_processes.is_running(deployment.replica_handles[0].handle)
    assert endpoint.host_handle and not endpoint_processes.is_running(endpoint.host_handle)
    assert endpoints.list_endpoints(ws) == []


def test_a_port_held_by_another_process_is_a_one_line_error(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    model = register_factor_model(ws, tmp_path, 2)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(Conflict) as refused:
            endpoints.deploy(ws, script_request(tmp_path, model), port=port)
    assert refused.value.message.startswith(f"port {port} on 127.0.0.1 is in use")
    assert endpoints.list_endpoints(ws) == []


def test_a_dead_front_shows_in_the_health_and_is_started_again_with_the_replicas_kept(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    deployment = endpoints.deploy(
        ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2))
    )
    endpoint = endpoints.get_endpoint(ws, "scorer")
    assert endpoint.host_handle
    assert endpoints.health(ws, endpoint, [deployment]) == EndpointHealth(True, {"blue": 1})
    endpoint_processes.stop(endpoint.host_handle)
    assert endpoints.health(ws, endpoint, [deployment]) == EndpointHealth(False, {"blue": 1})

    endpoints.ensure_hosts(ws)  # what the server's background loop does each round

    revived = endpoints.get_endpoint(ws, "scorer")
    assert revived.host_handle != endpoint.host_handle
    assert endpoints.health(ws, revived, [deployment]).front_running
    assert _call(revived.scoring_uri, revived.primary_key).json()["y"] == 6
    assert endpoint_processes.is_running(deployment.replica_handles[0].handle)


def test_a_mirror_gets_copies_whose_answers_are_dropped(ws: OpenWorkspace, tmp_path: Path) -> None:
    endpoints.deploy(ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 2)))
    shadow = endpoints.deploy(
        ws, script_request(tmp_path, register_factor_model(ws, tmp_path, 10), name="shadow")
    )
    endpoints.set_traffic(ws, "scorer", mirror={"shadow": 100})
    endpoint = endpoints.get_endpoint(ws, "scorer")

    answers = {_call(endpoint.scoring_uri, endpoint.primary_key).json()["y"] for _ in range(5)}

    assert answers == {6}  # the mirror never answers
    metrics_url = f"http://127.0.0.1:{shadow.replica_handles[0].port}/metrics"
    wait_for(lambda: _scored(httpx.get(metrics_url, timeout=10).text) >= 5)


def _scored(metrics: str) -> float:
    """The replica's count of answered requests, from its Prometheus text."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("modelyard_scoring_requests_total") and 'status="200"' in line
    )


def test_moving_the_alias_a_deployment_follows_rolls_its_model(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    """No server runs: the endpoint's own host sees the alias move and rolls the deployment."""
    register_factor_model(ws, tmp_path, 2)
    register_factor_model(ws, tmp_path, 7)
    models.set_alias(ws, "double", "champion", 1)
    endpoints.deploy(ws, script_request(tmp_path, "double@champion"))
    endpoint = endpoints.get_endpoint(ws, "scorer")
    assert endpoints.follow_aliases(ws) == []  # nothing moved

    models.set_alias(ws, "double", "champion", 2)

    wait_for(
        lambda: _call(endpoint.scoring_uri, endpoint.primary_key).json().get("y") == 21,
        timeout=120,
    )
    rolled = endpoints.list_deployments(ws, "scorer")[0]
    assert (rolled.model, rolled.resolved_model) == ("double@champion", "double:2")
    assert rolled.state is DeploymentState.SUCCEEDED and rolled.error is None
    wait_for(lambda: "rolled blue to double:2" in endpoints.logs(ws, "scorer"))


def test_an_alias_moved_to_a_broken_version_keeps_the_old_one_serving(
    ws: OpenWorkspace, tmp_path: Path
) -> None:
    register_factor_model(ws, tmp_path, 2)
    register_factor_model(ws, tmp_path, -5)
    models.set_alias(ws, "double", "champion", 1)
    endpoints.deploy(ws, script_request(tmp_path, "double@champion"))
    endpoint = endpoints.get_endpoint(ws, "scorer")

    models.set_alias(ws, "double", "champion", 2)

    def failure_recorded() -> bool:
        deployment = endpoints.list_deployments(ws, "scorer")[0]
        return deployment.state is DeploymentState.SUCCEEDED and bool(deployment.error)

    wait_for(failure_recorded, timeout=120)
    kept = endpoints.list_deployments(ws, "scorer")[0]
    assert kept.resolved_model == "double:1"
    assert (kept.error or "").startswith("update to double:2 failed, still serving double:1")
    assert "factor -5 is negative" in (kept.error or "")
    assert _call(endpoint.scoring_uri, endpoint.primary_key).json()["y"] == 6
    assert endpoints.follow_aliases(ws) == []  # not tried again for the same version


def test_a_deployment_runs_in_its_built_environment(ws: OpenWorkspace, tmp_path: Path) -> None:
    """An environment with no requirements of its own still gets its own venv (built like a
    job's, cached by spec hash): the replicas' interpreter is that venv's."""
    spec = json.dumps({"name": "plain", "pip_requirements": [], "python": None})
    request = script_request(tmp_path, register_factor_model(ws, tmp_path, 2), environment=spec)
    script = source_dir(tmp_path) / "score.py"
    script.write_text(
        script.read_text().replace('"pid": os.getpid()', '"python": sys.prefix')
        .replace("import json, os", "import json, os, sys")
    )  # fmt: skip

    deployment = endpoints.deploy(ws, request)

    endpoint = endpoints.get_endpoint(ws, "scorer")
    answer = _call(endpoint.scoring_uri, endpoint.primary_key).json()
    assert answer["y"] == 6
    assert Path(answer["python"]).is_relative_to(ws.cache_dir / "environments")
    assert deployment.to_dict()["environment"]["name"] == "plain"
    with pytest.raises(InvalidValue, match="environment's JSON spec"):
        endpoints.deploy(ws, script_request(tmp_path, "double", name="green", environment="{"))
