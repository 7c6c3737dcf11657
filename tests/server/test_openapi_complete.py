"""The OpenAPI document describes every answer of the API, and the answers keep to it.

A real server on 127.0.0.1 with auth on. Its `/openapi.json`: every operation is under /api/v1
(no portal page), declares its success with a schema (a component for JSON, the media type of
a download or an event stream otherwise), and the error statuses it may answer with the one
error body. Then real calls, one or more per operation, successes and refusals: each answer's
JSON validates against the schema its operation declares for its status (`jsonschema`, with
moments checked to be RFC 3339 with a time zone).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from archives import tar_bytes
from endpoint_support import SCORE_PY
from modelyard.entities import RunStatus
from modelyard.entities.data import Manifest, ManifestEntry, RunInput
from modelyard.entities.registry import ModelVersionRequest
from modelyard.server import create_app
from modelyard.server.schemas.errors import EVERY_OPERATION
from modelyard.services import auth, models
from modelyard.services.job_archive import packed_job
from modelyard.services.job_file import load_job_file
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

API = "/api/v1"
DOCUMENT_URI = "urn:modelyard:openapi"
ERROR = {"$ref": "#/components/schemas/Error"}
METHODS = ("get", "put", "post", "delete", "patch")
TIMEOUT_S = 60


@dataclass(frozen=True)
class Served:
    base: str
    token: str
    ws: OpenWorkspace


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as env:
        # The autouse home of conftest is per test; this server lives for the module.
        env.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("openapi-home")))
        for name in ("MODELYARD_WORKSPACE", "MODELYARD_RUN_ID", "MODELYARD_WORKSPACE_PATH"):
            env.delenv(name, raising=False)
        env.setenv("MODELYARD_HEARTBEAT_TIMEOUT_S", "3600")  # no run is reaped mid-test
        ws = create_workspace("openapi-ws", path=tmp_path_factory.mktemp("openapi") / "ws")
        try:
            token = auth.ensure_admin(ws)
            assert token is not None
            with serve(create_app(ws)) as base:
                yield Served(base, token, ws)
        finally:
            ws.close()


@pytest.fixture(scope="module")
def document(served: Served) -> dict[str, Any]:
    answer = httpx.get(f"{served.base}/openapi.json", headers=_bearer(served.token))
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


# The document -----------------------------------------------------------------------------------


def test_the_document_holds_the_api_and_nothing_else(document: dict[str, Any]) -> None:
    paths = list(document["paths"])
    assert len(paths) >= 30
    assert all(path.startswith(f"{API}/") for path in paths), "a portal page or the docs leaked in"
    schemas = document["components"]["schemas"]
    assert "Error" in schemas and "HTTPValidationError" not in schemas


def test_every_operation_declares_its_success_with_a_schema(document: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in _operations(document):
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        if len(successes) != 1:
            missing.append(f"{method} {path}: successes {sorted(successes)}")
            continue
        for media_type, content in next(iter(successes.values()))["content"].items():
            problem = _success_problem(media_type, content)
            if problem:
                missing.append(f"{method} {path} ({media_type}): {problem}")
    assert not missing, "\n".join(missing)


def _success_problem(media_type: str, content: dict[str, Any]) -> str | None:
    """What is wrong with a success's declared content, if anything."""
    if media_type == "application/json":
        schema = content.get("schema", {})
        if "$ref" in schema or (schema.get("type") == "array" and "$ref" in schema["items"]):
            return None
        return f"not a component (or an array of them): {schema}"
    if media_type == "text/event-stream":
        item = content.get("itemSchema", {})
        return None if item.get("type") == "object" else "no itemSchema for its events"
    if content.get("schema") == {"type": "string", "format": "binary"}:
        return None
    return f"an undeclared media type or schema: {content}"


def test_every_operation_declares_the_errors_it_may_answer(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        expected = {str(status) for status in EVERY_OPERATION}
        if _validates_its_input(operation):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"408", "413", "415"}
        absent = expected - set(responses)
        other_bodies = [
            status
            for status, response in responses.items()
            if int(status) >= 400 and response["content"]["application/json"]["schema"] != ERROR
        ]
        if absent or other_bodies:
            wrong.append(f"{method} {path}: lacks {sorted(absent)}, other bodies at {other_bodies}")
    assert not wrong, "\n".join(wrong)


def _validates_its_input(operation: dict[str, Any]) -> bool:
    body = operation.get("requestBody", {}).get("content", {})
    return bool(operation.get("parameters")) or "application/json" in body


# Live answers -----------------------------------------------------------------------------------


class SchemaChecker:
    """Validates answers against the schema the document declares for their operation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.formats = FormatChecker()
        self.formats.checks("date-time", raises=ValueError)(_is_moment_with_zone)

    def errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        declared = self.document["paths"][path][method.lower()]["responses"].get(str(status))
        if declared is None:
            return [f"status {status} is not declared"]
        schema = _absolute_refs(declared["content"]["application/json"]["schema"])
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=self.formats
        )
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]

    def data_errors(self, schema: dict[str, Any], data: Any) -> list[str]:
        validator = Draft202012Validator(schema, format_checker=self.formats)
        return [e.message for e in validator.iter_errors(data)]


def _is_moment_with_zone(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type is another rule's
    return datetime.fromisoformat(value).tzinfo is not None


def _absolute_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The operation's schema with its references into the document made absolute."""
    text = json.dumps(schema).replace('"#/components/', f'"{DOCUMENT_URI}#/components/')
    found: dict[str, Any] = json.loads(text)
    return found


@dataclass
class Caller:
    """Calls operations by their path in the document; records the answers that broke it."""

    client: httpx.Client
    checker: SchemaChecker
    called: set[tuple[str, str]] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)

    def __call__(self, method: str, path: str, status: int = 200, **request: Any) -> Any:
        ids = request.pop("ids", {})
        answer = self.client.request(method, API + path.format(**ids), **request)
        assert answer.status_code == status, f"{method} {path}: {answer.text}"
        self.called.add((method, API + path))
        if not answer.headers["content-type"].startswith("application/json"):
            return answer
        body = answer.json()
        for error in self.checker.errors(method, API + path, status, body):
            self.broken.append(f"{method} {path} {status}: {error}")
        return body


@pytest.fixture
def call(served: Served, document: dict[str, Any]) -> Iterator[Caller]:
    headers = _bearer(served.token)
    with httpx.Client(base_url=served.base, headers=headers, timeout=TIMEOUT_S) as client:
        yield Caller(client, SchemaChecker(document))


def test_real_answers_fit_the_schemas_their_operations_declare(
    call: Caller, served: Served, document: dict[str, Any]
) -> None:
    _call_access(call)
    run_id = _call_runs(call, served.ws)
    _call_artifacts_and_logs(call, served, run_id)
    _call_cancel_and_attempts(call, served.ws)
    _call_computes(call, served.ws)
    _call_models(call, run_id)
    _call_data(call, served.ws, run_id)
    _call_components(call)
    _call_endpoints(call, served.ws)
    _call_schedules(call, served.ws)
    _call_published_pipelines(call, served.ws, run_id)
    _call_pipeline_designer(call, run_id)
    _call_refusals(call, served, run_id)
    call("DELETE", "/experiments/{name}", ids={"name": "shapes"})
    assert not call.broken, "\n".join(call.broken)
    declared = {(method, path) for method, path, _ in _operations(document)}
    # POST /jobs is answered here only with a refusal: a job accepted would launch.
    assert declared - call.called == set(), "operations no call here answers: add one"


def _call_access(call: Caller) -> None:
    call("GET", "/workspace")
    call("GET", "/users/me")
    call("POST", "/users", json={"name": "ana", "role": "reader"})
    call("GET", "/users")
    token = call("POST", "/tokens", json={"name": "ci", "user": "ana"})
    call("GET", "/tokens")
    call("DELETE", "/tokens/{token_id}", ids={"token_id": token["id"]})


def _call_runs(call: Caller, ws: OpenWorkspace) -> str:
    """A run logging, read every way; returns it, still Running."""
    call("POST", "/experiments", json={"name": "shapes"})
    call("GET", "/experiments")
    call("GET", "/experiments/{name}", ids={"name": "shapes"})
    source = {"script": "train.py", "arguments": ["--lr", "0.1"], "git_dirty": True}
    body = {"experiment_name": "shapes", "display_name": "first", "source": source}
    run = call("POST", "/runs", json={**body, "status": "Running"})
    ids = {"run_id": run["id"]}
    claim = {"host": "laptop.example", "pid": 4242, "pid_started_at": time.time()}
    call("POST", "/runs/{run_id}/process", ids=ids, json=claim)
    now = time.time()
    points = [
        {"name": "loss", "value": 1.0 / (step + 1), "step": step, "timestamp": now}
        for step in range(5)
    ]
    odd = [{"name": "grad", "value": value, "step": 0, "timestamp": now} for value in ("NaN",)]
    odd += [{"name": "scale", "value": "Infinity", "step": 0, "timestamp": now}]
    batch = {"metrics": points + odd, "params": {"lr": "0.1"}, "tags": {"team": "a"}}
    call("POST", "/runs/{run_id}/batch", ids=ids, json=batch)
    call("POST", "/runs/{run_id}/properties", ids=ids, json={"properties": {"kind": "demo"}})
    call("POST", "/runs/{run_id}/heartbeat", ids=ids)
    call("GET", "/runs/{run_id}", ids=ids)
    call("GET", "/runs", params={"experiment": "shapes"})
    since = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    call("GET", "/runs-silent", params={"since": since})
    call("GET", "/runs/{run_id}/metrics", ids=ids)
    call("GET", "/runs/{run_id}/data", ids=ids)
    details = call("GET", "/runs/{run_id}/details", ids=ids)
    assert details["metrics"]["grad"] == "NaN" and details["metrics"]["scale"] == "Infinity"
    series = call("GET", "/runs/{run_id}/metric-series", ids=ids)
    call("GET", "/runs/{run_id}/metric-series", ids=ids, params={"version": series["version"]})
    query = {"experiment": "shapes", "sort": "metric:loss", "metric": "loss>0"}
    page = call("GET", "/runs-query", params=query)
    assert page["total"] == 1 and page["runs"][0]["metrics"]
    return str(run["id"])


def _call_cancel_and_attempts(call: Caller, ws: OpenWorkspace) -> None:
    """A run preempted and queued again (its first attempt recorded), then canceled; its
    resume refused (it is no job that resumes)."""
    run = call("POST", "/runs", json={"experiment_name": "shapes", "status": "Running"})
    ws.compute_store.preempt_run(run["id"], "an eviction drill")
    ids = {"run_id": run["id"]}
    cause = {"cause": "an eviction drill"}
    assert call("POST", "/runs/{run_id}/requeue", ids=ids, json=cause)["status"] == "Queued"
    call("POST", "/runs/{run_id}/requeue", 409, ids=ids, json=cause)  # once only
    attempts = call("GET", "/runs/{run_id}/attempts", ids=ids)
    assert [attempt["outcome"] for attempt in attempts] == ["Preempted"]
    assert call("POST", "/runs/{run_id}/cancel", ids=ids)["status"] == "Canceled"
    # Canceled, but no sweep or AutoML job: nothing that knows how to carry on.
    refused = call("POST", "/runs/{run_id}/resume", 400, ids=ids, json={"job": None})
    assert "which cannot be resumed" in refused["message"]


def _call_artifacts_and_logs(call: Caller, served: Served, run_id: str) -> None:
    ids = {"run_id": run_id, "path": "outputs/model.txt"}
    octets = {"content-type": "application/octet-stream"}
    served.ws.artifacts.put_bytes(run_id, STD_LOG, b"epoch 1\nepoch 2\n")
    call("PUT", "/runs/{run_id}/artifacts/{path}", ids=ids, content=b"weights", headers=octets)
    call("GET", "/runs/{run_id}/artifacts", ids=ids)
    download = call("GET", "/runs/{run_id}/artifacts/{path}", ids=ids)
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == b"weights"
    call("GET", "/runs/{run_id}/logs", ids=ids)
    call("POST", "/runs/{run_id}/transition", ids=ids, json={"target": "Completed"})
    stream = call("GET", "/runs/{run_id}/logs/stream", ids=ids)  # the run ended: it ends
    _check_events(call, stream.text)


def _check_events(call: Caller, text: str) -> None:
    """Each event of the live log has the fields and the data its item schema declares."""
    declared = call.checker.document["paths"][f"{API}/runs/{{run_id}}/logs/stream"]["get"]
    item = declared["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]
    events = [_parsed_event(block) for block in text.strip().split("\n\n")]
    assert [event["event"] for event in events] == ["log", "end"]
    for event in events:
        problems = call.checker.data_errors(item, event)
        problems += call.checker.data_errors(
            item["properties"]["data"]["contentSchema"], json.loads(event["data"])
        )
        call.broken += [f"log stream event {event}: {problem}" for problem in problems]


def _parsed_event(block: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))


def _call_computes(call: Caller, ws: OpenWorkspace) -> None:
    call("GET", "/compute-sizes")
    pool = {"name": "lowpri", "priority": "low-priority", "max_nodes": 2}
    call("POST", "/computes", json=pool)
    call("GET", "/computes")
    queued = ws.store.create_run("shapes", user="admin", status=RunStatus.QUEUED)
    call("GET", "/computes/{name}", ids={"name": "local"})  # its queue holds a run
    call("POST", "/computes/{name}/preempt", ids={"name": "lowpri"}, json={})
    call("DELETE", "/computes/{name}", ids={"name": "lowpri"})
    ws.store.transition_run(queued.id, RunStatus.CANCELED)


def _call_schedules(call: Caller, ws: OpenWorkspace) -> None:
    job = ws.root / "scheduled" / "job.yml"
    job.parent.mkdir()
    (job.parent / "hello.py").write_text("print('fired')\n")
    job.write_text("experiment_name: scheduled\ncommand: python hello.py\n")
    trigger = {"type": "recurrence", "frequency": "week", "schedule": {"week_days": ["monday"]}}
    name = {"name": "weekly"}
    call("POST", "/schedules", json={"name": "weekly", "trigger": trigger, "create_job": str(job)})
    call("GET", "/schedules")
    call("GET", "/schedules/{name}", ids=name)
    call("POST", "/schedules/{name}/disable", ids=name)
    call("POST", "/schedules/{name}/enable", ids=name)
    call("DELETE", "/schedules/{name}", ids=name)
    description = {
        "experiment": "scheduled",
        "spec": {"script": "hello.py", "arguments": [], "environment": {"name": "default"}},
        "schedule": {"name": "uploaded", "trigger": trigger, "create_job": "job.yml"},
    }
    archive = tar_bytes(
        {"job.json": json.dumps(description).encode(), "snapshot/hello.py": b"print(1)\n"}
    )
    tar_type = {"content-type": "application/x-tar"}
    call("POST", "/schedules/with-job", content=archive, headers=tar_type)
    call("DELETE", "/schedules/{name}", ids={"name": "uploaded"})


def _call_models(call: Caller, run_id: str) -> None:
    archive = tar_bytes({"model.json": b'{"tags": {"t": "1"}}', "files/m.bin": b"w"})
    name = {"name": "m"}
    tar_type = {"content-type": "application/x-tar"}
    call("POST", "/models/{name}/versions", 201, ids=name, content=archive, headers=tar_type)
    from_run = {"run_id": run_id, "path": "outputs"}
    call("POST", "/models/{name}/versions/from-run", 201, ids=name, json=from_run)
    version = {"name": "m", "version": "1"}
    alias = {"name": "m", "alias": "prod"}
    call("GET", "/models")
    call("GET", "/models/{name}", ids=name)
    assert len(call("GET", "/model-versions", params={"run_id": run_id})) == 1  # from the run
    call("GET", "/models/{name}/versions", ids=name)
    call("GET", "/models/{name}/versions/{version}", ids=version)
    call("GET", "/models/{name}/versions/{version}/files/{path}", ids={**version, "path": "m.bin"})
    patch = "/models/{name}/versions/{version}"
    call("PATCH", patch, ids=version, json={"set_tags": {"u": "2"}, "add_properties": {"p": "1"}})
    call("PATCH", patch, 409, ids=version, json={"add_properties": {"p": "2"}})
    call("PUT", "/models/{name}/aliases/{alias}", ids=alias, json={"version": 1})
    call("GET", "/models/{name}/aliases/{alias}", ids=alias)
    call("DELETE", "/models/{name}/aliases/{alias}", ids=alias)
    call("GET", "/models/{name}/aliases/{alias}", 404, ids=alias)
    call("DELETE", "/models/{name}/versions/{version}", ids=version)
    call("DELETE", "/models/{name}", ids=name)


def _call_data(call: Caller, ws: OpenWorkspace, run_id: str) -> None:
    archive = tar_bytes({"data.json": b'{"tags": {"t": "1"}}', "files/sub/a.csv": b"x,y\n"})
    name, version = {"name": "d"}, {"name": "d", "version": "1"}
    tar_type = {"content-type": "application/x-tar"}
    created = call(
        "POST", "/data/{name}/versions", 201, ids=name, content=archive, headers=tar_type
    )
    assert created["created"] and created["version"]["file_count"] == 1
    ws.data_store.record_run_inputs(run_id, [RunInput(run_id, "training_data", "d", 1)])
    call("GET", "/data")
    call("GET", "/data/{name}", ids=name)
    call("GET", "/data/{name}/versions", ids=name)
    call("GET", "/data/{name}/versions/{version}", ids=version)
    assert call("GET", "/data/{name}/versions/{version}/manifest", ids=version)[0]["size"] == 4
    lineage = call("GET", "/data/{name}/versions/{version}/lineage", ids=version)
    assert [r["run_id"] for r in lineage["runs"]] == [run_id]
    file = {**version, "path": "sub/a.csv"}
    assert call("GET", "/data/{name}/versions/{version}/files/{path}", ids=file).content == b"x,y\n"
    assert call("GET", "/runs/{run_id}/inputs", ids={"run_id": run_id})[0]["version"] == 1
    call("PATCH", "/data/{name}/versions/{version}", ids=version, json={"archived": True})
    call("GET", "/data/{name}/versions/{version}", 404, ids={**version, "version": "latest"})
    call("PATCH", "/data/{name}", ids=name, json={"archived": True})


def _call_components(call: Caller) -> None:
    definition = {"type": "command", "command": ["python", "run.py", "${{inputs.n}}"],
                  "inputs": {"n": {"type": "integer", "default": 2}}, "outputs": {},
                  "environment": None, "display_name": None, "description": None}  # fmt: skip
    code = b"print(1)\n"
    code_hash = Manifest.of([ManifestEntry("run.py", len(code), sha256(code).hexdigest())])
    sent = {"definition": definition, "code_hash": code_hash.content_hash}
    archive = tar_bytes({"component.json": json.dumps(sent).encode(), "files/run.py": code})
    name, version = {"name": "c"}, {"name": "c", "version": "1"}
    tar_type = {"content-type": "application/x-tar"}
    created = call(
        "POST", "/components/{name}/versions", 201, ids=name, content=archive, headers=tar_type
    )
    assert created["created"] and created["version"]["reference"] == "azureml:c:1"
    call("GET", "/components")
    call("GET", "/components/{name}/versions", ids=name)
    call("GET", "/components/{name}/versions/{version}", ids=version)
    assert call("GET", "/components/{name}/versions/{version}/manifest", ids=version)[0]["size"]
    file = {**version, "path": "run.py"}
    got = call("GET", "/components/{name}/versions/{version}/files/{path}", ids=file)
    assert got.content == code
    call("PATCH", "/components/{name}/versions/{version}", ids=version, json={"archived": True})
    call("GET", "/components/{name}/versions/{version}", 404, ids={**version, "version": "latest"})


def _call_published_pipelines(call: Caller, ws: OpenWorkspace, run_id: str) -> None:
    """Published, read, changed; its runs answered with refusals (a run accepted would
    launch): the version disabled, then a parameter it does not declare."""
    folder = ws.root / "published"
    folder.mkdir()
    (folder / "hello.py").write_text("print('published')\n")
    (folder / "pipeline.yml").write_text(
        "type: pipeline\nexperiment_name: published\ninputs: {greeting: hi}\n"
        "jobs:\n  hello:\n    command: python hello.py ${{inputs.greeting}}\n"
        "    inputs: {greeting: '${{parent.inputs.greeting}}'}\n"
    )
    job = load_job_file(folder / "pipeline.yml")
    with packed_job({"description": "shapes"}, job.to_module_job().stage) as archive:  # type: ignore[union-attr]
        packed = archive.read_bytes()
    name, version = {"name": "hello"}, {"name": "hello", "version": "1"}
    tar_type = {"content-type": "application/x-tar"}
    call(
        "POST",
        "/published-pipelines/{name}/versions",
        201,
        ids=name,
        content=packed,
        headers=tar_type,
    )
    call(
        "POST",
        "/published-pipelines/{name}/versions/from-run",
        404,  # a run not submitted as a job has no pipeline to publish
        ids=name,
        json={"run_id": run_id},
    )
    call("GET", "/published-pipelines")
    call("GET", "/published-pipelines/{name}", ids=name)
    call("GET", "/published-pipelines/{name}/versions/{version}", ids=version)
    call("PUT", "/published-pipelines/{name}/default-version", ids=name, json={"version": 1})
    call("POST", "/published-pipelines/{name}/versions/{version}/disable", ids=version)
    refused = {"experiment_name": "published", "parameters": {}}
    call("POST", "/published-pipelines/{name}/runs", 400, ids=name, json=refused)
    call("POST", "/published-pipelines/{name}/versions/{version}/enable", ids=version)
    unknown = {"experiment_name": "published", "parameters": {"greting": "hello"}}
    call(
        "POST",
        "/published-pipelines/{name}/versions/{version}/runs",
        400,
        ids=version,
        json=unknown,
    )
    assert not ws.store.list_runs(experiment_name="published")


def _call_pipeline_designer(call: Caller, run_id: str) -> None:
    """The palette, checks, drafts saved by revision; a submission answered with a refusal (one
    accepted would launch) and a graph asked of a run that is no pipeline."""
    definition = (
        "type: pipeline\nexperiment_name: drawn\njobs:\n  hello:\n    command: python hello.py\n"
    )
    palette = call("GET", "/pipeline-designer/palette")
    assert palette["computes"][0] == "local"
    assert (
        call("POST", "/pipeline-designer/check", json={"definition": definition})["problem"] is None
    )
    problem = call("POST", "/pipeline-designer/check", json={"definition": "- 1"})["problem"]
    assert problem["field"] == "definition"
    refused = call("POST", "/pipeline-designer/submit", 400, json={"definition": definition})
    assert "runs code from a folder" in refused["message"]
    call("GET", "/runs/{run_id}/pipeline", 404, ids={"run_id": run_id})

    name = {"name": "drawn"}
    layout = {"hello": {"x": 0, "y": 40.5}}
    body = {"definition": definition, "layout": layout}
    assert call("PUT", "/pipeline-drafts/{name}", ids=name, json=body)["revision"] == 1
    saved = call("PUT", "/pipeline-drafts/{name}", ids=name, json={**body, "revision": 1})
    assert saved["revision"] == 2
    call("PUT", "/pipeline-drafts/{name}", 409, ids=name, json={**body, "revision": 1})
    call("GET", "/pipeline-drafts")
    assert call("GET", "/pipeline-drafts/{name}", ids=name)["definition"] == definition
    call("DELETE", "/pipeline-drafts/{name}", ids=name)


def _call_endpoints(call: Caller, ws: OpenWorkspace) -> None:
    """A real deployment: a model registered, its code sent with it, its replica and front
    started on the server's machine; deleted at the end, which stops them."""
    source = ws.root.parent / "endpoint-src"
    (source / "model").mkdir(parents=True)
    (source / "model" / "weights.json").write_text('{"factor": 2}')
    (source / "score.py").write_text(SCORE_PY)
    models.register_model(ws, source / "model", ModelVersionRequest("double"))
    name, both = {"name": "scorer"}, {"name": "scorer", "deployment": "blue"}
    call("POST", "/endpoints", 201, json={"name": "scorer"})
    on_disk = {"name": "blue", "model": "double", "entry_script": "score.py",
               "source_directory": str(source)}  # fmt: skip
    call("POST", "/endpoints/{name}/deployments", 403, ids=name, json=on_disk)  # not sent
    deployment = {"name": "blue", "model": "double", "entry_script": "score.py"}
    archive = {"content": tar_bytes({"deployment.json": json.dumps(deployment).encode(),
                                "code/score.py": SCORE_PY.encode()}),
               "headers": {"content-type": "application/x-tar"}}  # fmt: skip
    sent = call("POST", "/endpoints/{name}/deployments/with-code", 201, ids=name, **archive)
    call("GET", "/endpoints/{name}/deployments/{deployment}", ids=both)
    kept = {**deployment, "source_directory": sent["source_directory"]}  # the code it runs
    call("PUT", "/endpoints/{name}/deployments/{deployment}", ids=both, json=kept)
    call("PUT", "/endpoints/{name}/deployments/{deployment}/with-code", ids=both, **archive)
    call("GET", "/endpoints")
    call("GET", "/endpoints/{name}", ids=name)
    call("PUT", "/endpoints/{name}/traffic", 400, ids=name, json={"traffic": {"blue": 50}})
    call("PUT", "/endpoints/{name}/traffic", ids=name, json={"traffic": {"blue": 100}})
    call("POST", "/endpoints/{name}/list-keys", ids=name)
    call("POST", "/endpoints/{name}/regen-key", ids=name, json={"key_type": "secondary"})
    call("GET", "/endpoints/{name}/logs", ids=name)
    assert call("POST", "/endpoints/{name}/invoke", ids=name, json={"x": 3})["y"] == 6
    call("POST", "/endpoints/{name}/invoke", 500, ids=name, json={"not x": 3})  # the replica's
    call("DELETE", "/endpoints/{name}/deployments/{deployment}", 400, ids=both)
    call("DELETE", "/endpoints/{name}", ids=name)
    call("DELETE", "/endpoints/{name}/deployments/{deployment}", 404, ids=both)


def _call_refusals(call: Caller, served: Served, run_id: str) -> None:
    """The error body, at each kind of status."""
    call("GET", "/runs/{run_id}", 404, ids={"run_id": "0" * 32})
    call("POST", "/runs", 422, json={"display_name": "no experiment"})
    call("POST", "/experiments", 400, json={"name": "bad/name"})
    call(
        "POST", "/runs/{run_id}/transition", 409, ids={"run_id": run_id}, json={"target": "Running"}
    )
    call(
        "POST",
        "/jobs",
        400,
        content=b"not a tar archive",
        headers={"content-type": "application/x-tar"},
    )
    call("POST", "/users", 415, content=b"name=eve", headers={"content-type": "text/plain"})
    anonymous = httpx.get(f"{served.base}{API}/workspace", timeout=TIMEOUT_S)
    assert anonymous.status_code == 401
    problems = call.checker.errors("GET", f"{API}/workspace", 401, anonymous.json())
    call.broken += [f"GET /workspace 401: {problem}" for problem in problems]
