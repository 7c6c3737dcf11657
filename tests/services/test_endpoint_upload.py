"""A server's end of deployments asked for over the API: the archive checked whole, its code
kept in the endpoint's folder only while a deployment runs it, and no other path of the server's
disk ever named as code. (The deploys themselves, end to end: tests/cli/test_remote_endpoint_
command.py and tests/server/test_openapi_complete.py.)"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from archives import tar_bytes
from endpoint_support import SCORE_PY
from modelyard.entities.endpoints import DeploymentRequest
from modelyard.errors import InvalidValue, NotFound, PermissionDenied, UnsafePath
from modelyard.services import endpoint_upload, endpoints
from modelyard.services.workspaces import OpenWorkspace


def _archive(members: dict[str, bytes]) -> io.BytesIO:
    return io.BytesIO(tar_bytes(members))


def _request(**fields: str) -> DeploymentRequest:
    return DeploymentRequest(endpoint="scorer", name="blue", model="double", **fields)


def _staging(ws: OpenWorkspace) -> list[Path]:
    folder = ws.cache_dir / "staging"
    return list(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"deployment.json": b"{}", "code/../evil.py": b"x"}, "'..'"),
        ({"deployment.json": b"{}", "score.py": b"x"}, "not a file under code/"),
        ({"code/score.py": b"x"}, "has no deployment.json"),
    ],
)
def test_a_bad_archive_is_refused_whole_and_leaves_nothing(
    sqlite_workspace: OpenWorkspace, members: dict[str, bytes], words: str
) -> None:
    archive = _archive(members)
    with (
        pytest.raises(InvalidValue, match=words) as refused,
        endpoint_upload.received_code(sqlite_workspace, archive),
    ):
        pass
    assert "\n" not in str(refused.value)
    assert _staging(sqlite_workspace) == []


def test_uploaded_code_of_a_failed_deploy_is_removed(sqlite_workspace: OpenWorkspace) -> None:
    description = {"name": "blue", "model": "double", "entry_script": "score.py"}
    members = {"deployment.json": json.dumps(description).encode(), "code/score.py": b"x"}
    with endpoint_upload.received_code(sqlite_workspace, _archive(members)) as (found, code):
        assert found == description and (code / "score.py").read_bytes() == b"x"
        with pytest.raises(UnsafePath):
            endpoint_upload.deploy_with_code(
                sqlite_workspace, _request(entry_script="../score.py"), code
            )
        request = _request(entry_script="score.py")
        with pytest.raises(NotFound, match="double"):  # no such model: nothing started
            endpoint_upload.deploy_with_code(sqlite_workspace, request, code)
    assert list(endpoints.uploaded_code_dir(sqlite_workspace, "scorer").iterdir()) == []
    assert _staging(sqlite_workspace) == []


def test_json_may_name_only_the_code_uploaded_with_that_deployment(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    own = endpoints.uploaded_code_dir(sqlite_workspace, "scorer") / "blue-0123456789ab"
    other = own.with_name("green-0123456789ab")
    for folder in (own, other):
        folder.mkdir(parents=True)
        (folder / "score.py").write_text(SCORE_PY)
    (tmp_path / "score.py").write_text(SCORE_PY)

    kept = _request(entry_script="score.py", source_directory=str(own))
    assert endpoint_upload.check_named_code(sqlite_workspace, kept) == kept
    assert endpoint_upload.check_named_code(sqlite_workspace, _request()) == _request()
    for refused in (
        _request(entry_script="score.py", source_directory=str(tmp_path)),  # the server's disk
        _request(entry_script=str(tmp_path / "score.py")),
        _request(entry_script="score.py", source_directory=str(other)),  # another's code
        _request(entry_script="../green-0123456789ab/score.py", source_directory=str(own)),
        _request(entry_script="score.py", source_directory=str(own / "..")),
    ):
        with pytest.raises(PermissionDenied, match="the server runs only code sent"):
            endpoint_upload.check_named_code(sqlite_workspace, refused)
