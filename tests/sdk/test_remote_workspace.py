"""The SDK against a workspace behind a real `modelyard server` (uvicorn on 127.0.0.1, auth on):
the same calls as embedded, with runs, metrics, artifacts and jobs going over HTTP."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.commands import modelyard
from modelyard import Experiment, ScriptRunConfig, Workspace
from modelyard.errors import AuthError, LimitExceeded, NotFound, StoreUnavailable, UnsafePath
from modelyard.server import create_app
from modelyard.services import jobs
from modelyard.services.auth import create_token, ensure_admin
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve
from vision.shapes import write_shapes


@pytest.fixture
def served(tmp_path: Path) -> Iterator[OpenWorkspace]:
    workspace = create_workspace("served-ws", path=tmp_path / "server-side")
    ensure_admin(workspace)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def url(served: OpenWorkspace) -> Iterator[str]:
    with serve(create_app(served)) as base:
        yield base


@pytest.fixture
def token(served: OpenWorkspace) -> str:
    return create_token(served, "laptop")[1]


@pytest.fixture
def project(tmp_path: Path, url: str, token: str) -> Path:
    """A project folder connected to the server, the token saved for it."""
    folder = tmp_path / "project"
    folder.mkdir()
    with Workspace.connect(url, token) as ws:
        ws.write_config(folder)
    return folder


def test_from_config_opens_the_served_workspace(project: Path, url: str) -> None:
    config = json.loads((project / ".modelyard" / "config.json").read_text())
    assert config == {"workspace_name": "served-ws", "server_url": url}  # no secret in it
    with Workspace.from_config(project / "sub" / "folder") as ws:
        assert ws.name == "served-ws" and ws.server_url == url
        assert repr(ws) == f"Workspace(name='served-ws', server_url={url!r})"


def test_interactive_run_logs_over_http(project: Path, served: OpenWorkspace, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello from the laptop")
    with Workspace.from_config(project) as ws:
        with Experiment(ws, "remote-notebook").start_logging() as run:
            for step in range(5):
                run.log("loss", 1.0 / (step + 1), step=step)
            run.log_params({"lr": 0.01})
            run.upload_file("outputs/notes.txt", tmp_path / "notes.txt")
        copied = run.download_file("outputs/notes.txt", tmp_path / "copy.txt")
        assert copied.read_text() == "hello from the laptop"
        assert run.get_file_names() == ["outputs/notes.txt"]
    # What the server's own store holds: the same run, complete.
    on_server = served.store.get_run(run.id)
    assert on_server.status.value == "Completed"
    history = served.store.get_metric_history(run.id, "loss")
    assert [metric.step for metric in history] == [0, 1, 2, 3, 4]
    assert served.store.get_run_data(run.id).params == {"lr": "0.01"}
    assert (
        served.artifacts.open_read(run.id, "outputs/notes.txt").read() == b"hello from the laptop"
    )


def test_a_script_job_is_uploaded_and_runs_on_the_server(
    project: Path, served: OpenWorkspace, tmp_path: Path
) -> None:
    source = tmp_path / "code"
    source.mkdir()
    (source / "train.py").write_text(
        textwrap.dedent(
            """
            import sys
            from modelyard import Run
            run = Run.get_context()
            for epoch in range(3):
                print(f"epoch {epoch} of", sys.argv[1], flush=True)
                run.log("accuracy", 0.5 + epoch / 10, step=epoch)
            """
        )
    )
    (source / "data").mkdir()
    (source / "data" / "labels.csv").write_text("a,b\n")
    with Workspace.from_config(project) as ws:
        run = Experiment(ws, "remote-jobs").submit(ScriptRunConfig(source, "train.py", ["demo"]))
        output = io.StringIO()
        details = run.wait_for_completion(show_output=True, stream=output, timeout=120)
    assert details["status"] == "Completed"
    assert output.getvalue().count("of demo") == 3  # streamed from the server as it ran
    assert f"Web View: {project_url(project)}/app/runs/{run.id}" in output.getvalue()
    assert [m.value for m in served.store.get_metric_history(run.id, "accuracy")] == [
        0.5,
        0.6,
        0.7,
    ]
    snapshot = served.artifacts.run_root(run.id) / "snapshot"
    assert (snapshot / "data" / "labels.csv").read_text() == "a,b\n"  # the code went with it


def project_url(project: Path) -> str:
    return str(json.loads((project / ".modelyard" / "config.json").read_text())["server_url"])


def test_wrong_token_and_no_server_are_one_line_errors(url: str, tmp_path: Path) -> None:
    with pytest.raises(AuthError) as refused:
        Workspace.connect(url, "myd_nope_nope")
    assert "\n" not in str(refused.value)
    with pytest.raises(StoreUnavailable) as unreachable:
        Workspace.connect("http://127.0.0.1:9", "myd_nope_nope")
    assert "modelyard server" in str(unreachable.value) and "\n" not in str(unreachable.value)


def _archive(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _job_json(**changes: object) -> tuple[tarfile.TarInfo, bytes]:
    job = {
        "experiment": "uploads",
        "compute_target": "local",
        "display_name": None,
        "spec": {"script": "run.py", "arguments": [], "environment": {"name": "default"}},
        "source": {"script": "run.py"},
        **changes,
    }
    return _file("job.json", json.dumps(job).encode())


def _folder(name: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, b""


def _link(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, b""


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ([_file("snapshot/run.py")], "no job.json"),
        ([_job_json(), _file("snapshot/../../escape.py")], "'..'"),
        ([_job_json(), _file("/etc/cron.d/x")], "not a file or folder under snapshot/"),
        ([_job_json(), _link("snapshot/run.py", "/etc/passwd")], "not a file or folder"),
        ([_job_json(), _file("snapshot/other.py")], "run.py"),
        ([_job_json(spec=[1]), _file("snapshot/run.py")], "spec is list"),
        ([_job_json(experiment="bad name!"), _file("snapshot/run.py")], "bad name!"),
        ([_job_json(experiment=None), _file("snapshot/run.py")], "experiment is None"),
        ([_job_json(), _file("snapshot/run.py"), _file("snapshot/run.py")], "clashes"),
        # Found by the API fuzzer (500s): a name as a file, then as a folder or through one.
        ([_job_json(), _file("snapshot/run.py"), _folder("snapshot/run.py/")], "clashes"),
        ([_job_json(), _file("snapshot/run.py"), _file("snapshot/run.py/x")], "clashes"),
    ],
)
def test_a_bad_job_archive_is_refused_before_any_run_exists(
    url: str, token: str, served: OpenWorkspace, members: list, problem: str
) -> None:
    answer = httpx.post(
        f"{url}/api/v1/jobs",
        content=_archive(*members),
        headers={"Authorization": f"Bearer {token}", "content-type": "application/x-tar"},
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert problem in answer.json()["message"]
    assert served.store.list_runs() == []
    staging = served.cache_dir / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    tar = {"Authorization": f"Bearer {token}", "content-type": "application/x-tar"}
    garbage = httpx.post(f"{url}/api/v1/jobs", content=b"not a tar", headers=tar)
    assert garbage.status_code == 400 and "tar" in garbage.json()["message"]
    untyped = httpx.post(
        f"{url}/api/v1/jobs", content=b"not a tar", headers={"Authorization": f"Bearer {token}"}
    )
    assert untyped.status_code == 415 and "application/x-tar" in untyped.json()["message"]


def test_artifact_folders_round_trip_and_bad_paths_fail_before_sending(
    project: Path, served: OpenWorkspace, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    (outputs / "nested dir").mkdir(parents=True)
    (outputs / "model.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: several chunks
    (outputs / "nested dir" / "é.txt").write_text("unicode and spaces")
    with Workspace.from_config(project) as ws:
        with Experiment(ws, "remote-files").start_logging() as run:
            run.upload_folder("outputs", outputs)
        copied = run.download_files("outputs", tmp_path / "copy")
        assert sorted(path.relative_to(tmp_path / "copy").as_posix() for path in copied) == [
            "model.bin",
            "nested dir/é.txt",
        ]
        assert (tmp_path / "copy" / "model.bin").read_bytes() == (
            outputs / "model.bin"
        ).read_bytes()
        with pytest.raises(NotFound):
            run.download_file("outputs/missing.bin", tmp_path / "missing.bin")
        with pytest.raises(NotFound):
            run.download_files("nothing-here", tmp_path / "none")
        with pytest.raises(UnsafePath):
            run.upload_file("../escape.txt", outputs / "model.bin")
    assert not (tmp_path / "missing.bin").exists()
    assert [info.path for info in served.artifacts.list(run.id)] == [
        "outputs/model.bin",
        "outputs/nested dir/é.txt",
    ]


def test_image_classification_sends_its_data_and_the_cli_downloads_the_project(
    project: Path, served: OpenWorkspace, tmp_path: Path
) -> None:
    data = write_shapes(tmp_path / "my shapes", per_class=6)
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        str(data),
        "-e",
        "remote-vision",
        "--backbone",
        "resnet18",
        "--weights",
        "none",
        "--epochs",
        "3",
        "--output",
        str(tmp_path / "project-out"),
        cwd=project,
        timeout=600,
    )
    assert "Monitor it in the portal: http://127.0.0.1:" in result.stdout
    assert json.loads((tmp_path / "project-out" / "bestModelMap.json").read_text()) == sorted(
        path.name for path in data.iterdir()
    )
    assert (tmp_path / "project-out" / "MLModel.zip").is_file()
    (run,) = served.store.list_runs("remote-vision")
    assert run.status.value == "Completed"
    snapshot = served.artifacts.run_root(run.id) / "snapshot"
    assert json.loads((snapshot / "config.json").read_text())["data"] == "data"
    assert len(list((snapshot / "data").rglob("*.png"))) == len(list(data.rglob("*.png")))
    # The server's caches, not this machine's: a retrain there reads them.
    assert any((served.cache_dir / "features").rglob("*.f32"))


def test_output_without_waiting_is_refused_for_a_served_workspace(project: Path, tmp_path: Path):
    data = write_shapes(tmp_path / "shapes", per_class=3)
    result = modelyard(
        "train",
        "image-classification",
        "--data",
        str(data),
        "-e",
        "remote-vision",
        "--output",
        str(tmp_path / "out"),
        "--no-wait",
        cwd=project,
        check=False,
    )
    assert result.returncode == 1
    assert "--no-wait" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_long_log_is_read_whole_and_an_upload_over_its_limit_is_refused(
    project: Path, served: OpenWorkspace
) -> None:
    run = served.store.create_run("remote-logs", user="ana")
    log = "".join(f"line {i}\n" for i in range(200_000))  # ~1.5 MiB: more than one answer
    served.artifacts.put_bytes(run.id, STD_LOG, log.encode())
    with Workspace.from_config(project) as ws:
        assert "".join(jobs.follow_log(ws._opened, run.id, follow=False)) == log
        with pytest.raises(LimitExceeded):
            ws._opened.artifacts.put_stream(run.id, "outputs/big.bin", [b"x" * 10] * 3, 25)
    assert served.artifacts.list(run.id, "outputs") == []
