"""`modelyard user create|list` as a user types them: a member of the team with a role, then a
token that acts as them on the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.commands import modelyard
from modelyard.entities import Role
from modelyard.services import auth
from modelyard.services.workspaces import open_workspace


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    modelyard("workspace", "create", "user-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def test_a_reader_is_created_and_their_token_acts_as_them(project: Path, tmp_path: Path) -> None:
    created = modelyard("user", "create", "rita@example.com", "--role", "reader", cwd=project)
    assert "Created user 'rita@example.com' (reader)" in created.stdout
    token = modelyard("token", "create", "laptop", "--user", "rita@example.com", cwd=project)
    users = json.loads(modelyard("user", "list", "-o", "json", cwd=project).stdout)
    assert [(u["name"], u["role"]) for u in users] == [("rita@example.com", "reader")]
    ws = open_workspace(tmp_path / "ws")
    try:
        caller = auth.authenticate(ws, token.stdout.strip())
    finally:
        ws.close()
    assert (caller.name, caller.role) == ("rita@example.com", Role.READER)


def test_a_contributor_is_the_default_and_a_bad_role_is_one_line(project: Path) -> None:
    assert "(contributor)" in modelyard("user", "create", "ana", cwd=project).stdout
    refused = modelyard("user", "create", "bo", "--role", "owner", cwd=project, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "unknown role 'owner': use one of reader, contributor, admin" in refused.stderr
    again = modelyard("user", "create", "ana", cwd=project, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
