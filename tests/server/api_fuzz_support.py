"""Property-based fuzzing of the REST API from its own OpenAPI document (schemathesis), shared
by `test_api_fuzz_tracking.py` and `test_api_fuzz_assets.py`: each fuzzes its part of the
operations against a server of its own, so that the two halves run on two workers at once.

A real server on 127.0.0.1 with auth on; every operation of `/openapi.json` gets a bounded
number of generated requests, valid and invalid, with the admin's token. What must hold for each
answer: never a 5xx, a status the operation declares, and a body and content type that match
what it declares for that status. Path parameters are often
the ids of real runs seeded here, so the routes behind `{run_id}` do real work instead of 404s.
At the end the server still answers.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from endpoint_support import endpoints_cleaned_up
from modelyard.entities import Metric, RunStatus
from modelyard.server import create_app
from modelyard.services import auth
from modelyard.services import runs as run_service
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

API = "/api/v1"
# A deeper hunt, on a machine with time: MODELYARD_FUZZ_EXAMPLES=500 pytest <this file>
EXAMPLES_PER_OPERATION = int(os.environ.get("MODELYARD_FUZZ_EXAMPLES", "20"))
REQUEST_TIMEOUT_S = 10  # a request that hangs fails the test instead of the test hanging
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


@dataclass(frozen=True)
class Served:
    base: str
    token: str
    ended_run: str  # Completed, with metrics, params, an artifact and a log: reads find data
    open_run: str  # Running: writes are taken


def serve_seeded_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A test module's `served` fixture: a server on a workspace with seeded runs."""
    with pytest.MonkeyPatch.context() as env:
        # The autouse home of conftest is per test; this server lives for the module.
        env.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("fuzz-home")))
        for name in ("MODELYARD_WORKSPACE", "MODELYARD_RUN_ID", "MODELYARD_WORKSPACE_PATH"):
            env.delenv(name, raising=False)
        ws = create_workspace("fuzz-ws", path=tmp_path_factory.mktemp("fuzz") / "ws")
        try:
            token = auth.ensure_admin(ws)
            assert token is not None
            ended, running = _seed_runs(ws)
            # Fuzzed endpoints start real hosts: all are stopped with the server.
            with endpoints_cleaned_up(ws), serve(create_app(ws)) as base:
                yield Served(base, token, ended, running)
            _cancel_unfinished_runs(ws)  # a fuzzed job upload that happened to be valid
        finally:
            ws.close()


def _seed_runs(ws: OpenWorkspace) -> tuple[str, str]:
    store = ws.store
    ended = store.create_run("seeded", user="admin", display_name="ended", status=RunStatus.RUNNING)
    store.log_batch(
        ended.id,
        [Metric("loss", 1.0 / (step + 1), step, 1.7e9 + step) for step in range(20)],
        {"lr": "0.1"},
        {"team": "a"},
    )
    store.add_properties(ended.id, {"kind": "seeded"})
    ws.artifacts.put_bytes(ended.id, "outputs/model.txt", b"weights")
    ws.artifacts.put_bytes(ended.id, STD_LOG, b"epoch 1\nepoch 2\n")
    store.transition_run(ended.id, RunStatus.COMPLETED)
    running = store.create_run(
        "seeded", user="admin", display_name="open", status=RunStatus.RUNNING
    )
    return ended.id, running.id


def _cancel_unfinished_runs(ws: OpenWorkspace) -> None:
    for run in ws.store.list_runs(None, limit=100_000):
        if not run.status.is_terminal:
            run_service.cancel_run(ws, run.id)


def _tar(members: list[tuple[str, bytes | None]]) -> bytes:
    """A tar archive of (name, content) members; content None is a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=8,
)
SPECS = st.dictionaries(
    st.sampled_from(["environment", "arguments", "module", "script"]), JSON_VALUES
)
JOB_DESCRIPTIONS = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(["experiment", "compute_target", "display_name", "source"], JSON_VALUES),
        "spec": SPECS | JSON_VALUES,
    },
)
MEMBER_NAMES = st.sampled_from(
    ["snapshot/", "snapshot/a", "snapshot/a/b", "snapshot/../x", "/etc/x", "other", "code/a"]
) | st.text(min_size=1, max_size=30).map(lambda name: "snapshot/" + name)
MEMBERS = st.lists(st.tuples(MEMBER_NAMES, st.none() | st.binary(max_size=20)), max_size=4)
# A job's or a deployment's description (its fields are the deploy route's, fuzzed as JSON).
DESCRIPTION_NAMES = st.sampled_from(["job.json", "deployment.json"])
ARCHIVES = st.binary(max_size=64) | st.builds(
    lambda name, description, members: _tar([(name, json.dumps(description).encode()), *members]),
    DESCRIPTION_NAMES,
    JOB_DESCRIPTIONS,
    MEMBERS,
)
# The upload routes' bodies are tar archives: the fuzzer sends archives, some broken, some with
# a description of arbitrary values and members with awkward names.
schemathesis.openapi.media_type("application/x-tar", ARCHIVES)


def load_api_schema(served: Served) -> BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {served.token}"},
            "request-timeout": REQUEST_TIMEOUT_S,
            # An open log stream waits for more: read a few events, never to the end.
            "max-stream-events": 3,
        }
    )
    return schemathesis.openapi.from_url(
        f"{served.base}/openapi.json",
        config=config,
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=REQUEST_TIMEOUT_S,
    )


def _run_ids(operation: APIOperation, served: Served) -> st.SearchStrategy[str | None]:
    """None keeps the generated `run_id`; otherwise a seeded run's (never the open run's for the
    live log stream, which stays open while its run runs)."""
    if operation.path.endswith("/logs/stream"):
        return st.sampled_from([None, served.ended_run])
    return st.sampled_from([None, served.ended_run, served.open_run])


def _fuzz(operation: APIOperation, mode: GenerationMode, served: Served) -> None:
    @given(case=operation.as_strategy(mode), run_id=_run_ids(operation, served))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure in CI replays here
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def requests_are_answered_well(case: Case, run_id: str | None) -> None:
        if run_id is not None and "run_id" in (case.path_parameters or {}):
            case.path_parameters = {**(case.path_parameters or {}), "run_id": run_id}
        case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT_S)

    requests_are_answered_well()


def operations_of(api_schema: BaseSchema, tracking: bool) -> list[APIOperation]:
    """The half of the operations a test module fuzzes: those of TRACKING's resources, or
    those of every other resource (a new resource is fuzzed without a change here)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20  # the whole API, new routes included
    return [
        operation
        for operation in operations
        if (operation.path.removeprefix(API + "/").split("/")[0] in TRACKING) == tracking
    ]


# The first half (test_api_fuzz_tracking.py): runs, experiments, jobs, computes, users, models.
TRACKING = {
    "runs",
    "runs-query",
    "runs-silent",
    "experiments",
    "workspace",
    "jobs",
    "computes",
    "compute-sizes",
    "users",
    "tokens",
    "models",
    "model-versions",
}


def fuzz_every_operation(operations: list[APIOperation], served: Served) -> None:
    assert operations
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, served)
            except Unsatisfiable:
                continue  # nothing of this operation can be made invalid (no parameters, say)
            except Exception as failure:  # every operation is fuzzed; all failures reported
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)


def assert_the_server_still_answers(served: Served) -> None:
    answer = httpx.get(
        f"{served.base}{API}/workspace",
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=REQUEST_TIMEOUT_S,
    )
    assert answer.status_code == 200 and answer.json()["name"] == "fuzz-ws"
