"""`modelyard token create|list|revoke` as a user types them: real subprocesses and workspace."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cli.commands import modelyard

TOKEN_SHAPE = re.compile(r"myd_[0-9a-f]{32}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    modelyard("workspace", "create", "token-ws", "--path", str(tmp_path / "ws"), cwd=folder)
    return folder


def test_create_prints_the_token_alone_once_with_a_warning(project: Path, tmp_path: Path) -> None:
    created = modelyard("token", "create", "ci", cwd=project)
    token = created.stdout.strip()
    assert TOKEN_SHAPE.fullmatch(token), created.stdout  # Only the token: $(...) captures it.
    assert "will not be shown again" in created.stderr
    # The first token of a workspace also creates the admin, whose token is saved privately.
    credentials = tmp_path / "ws" / "credentials.json"
    assert "Created user 'admin'" in created.stderr and str(credentials) in created.stderr
    assert os.stat(credentials).st_mode & 0o777 == 0o600
    assert json.loads(credentials.read_text())["token"] != token

    second = modelyard("token", "create", "laptop", cwd=project)
    assert "Created user" not in second.stderr


def test_list_shows_tokens_but_never_secrets(project: Path) -> None:
    token = modelyard("token", "create", "ci", cwd=project).stdout.strip()
    listed = modelyard("token", "list", "-o", "json", cwd=project).stdout
    tokens = json.loads(listed)
    assert [(t["name"], t["user"], t["revoked_at"]) for t in tokens] == [
        ("admin", "admin", None),
        ("ci", "admin", None),
    ]
    secret = token.split("_", 2)[2]
    assert secret not in listed
    assert "ci" in modelyard("token", "list", cwd=project).stdout


def test_revoke_marks_the_token_and_unknown_ids_are_one_line(project: Path) -> None:
    token = modelyard("token", "create", "ci", cwd=project).stdout.strip()
    token_id = token.split("_")[1]
    revoked = modelyard("token", "revoke", token_id, cwd=project)
    assert f"Revoked token 'ci' ({token_id})" in revoked.stdout
    tokens = {
        t["id"]: t for t in json.loads(modelyard("token", "list", "-o", "json", cwd=project).stdout)
    }
    assert tokens[token_id]["revoked_at"] is not None

    missing = modelyard("token", "revoke", "nope", cwd=project, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "error: API token 'nope' not found: list tokens with `modelyard token list`"
    ]


def test_bad_name_and_unknown_user_are_refused_and_create_nothing(
    project: Path, tmp_path: Path
) -> None:
    bad = modelyard("token", "create", "has space", cwd=project, check=False)
    assert bad.returncode == 1 and "invalid token name 'has space'" in bad.stderr
    nobody = modelyard("token", "create", "ci", "--user", "bob", cwd=project, check=False)
    assert nobody.returncode == 1 and "user 'bob' not found" in nobody.stderr
    assert nobody.stdout == ""
    assert json.loads(modelyard("token", "list", "-o", "json", cwd=project).stdout) == []
    assert not (tmp_path / "ws" / "credentials.json").exists()
